// Drawing a QR text on a canvas with qrcode-generator: alphanumeric mode (all of "EP1:" + base45 is in the
// QR alphanumeric set: 5.5 bits a character instead of 8), error correction M, and a version cap so a
// live code stays readable by a landlord's phone camera.
import qrcode from "qrcode-generator";

export const MAX_LIVE_VERSION = 18;
const ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]*$/;

export class QrTooLargeError extends Error {
  constructor(version) {
    super(`QR version ${version} > ${MAX_LIVE_VERSION}`);
    this.version = version;
  }
}

/** The QR symbol for `text`: {version, size, isDark(row, col)}. */
export function encodeQr(text, { maxVersion = MAX_LIVE_VERSION } = {}) {
  if (!ALPHANUMERIC.test(text)) throw new Error("not QR alphanumeric text");
  const code = qrcode(0, "M");
  code.addData(text, "Alphanumeric");
  code.make();
  const size = code.getModuleCount();
  const version = (size - 17) / 4;
  if (version > maxVersion) throw new QrTooLargeError(version);
  return { version, size, isDark: (r, c) => code.isDark(r, c) };
}

/** Draw with whole-pixel modules and a 4-module quiet zone, as large as `maxWidth` CSS pixels allows. */
export function drawQr(canvas, symbol, maxWidth) {
  const modules = symbol.size + 8;
  const ratio = Math.max(1, Math.round(window.devicePixelRatio || 1));
  const cell = Math.max(2, Math.floor((maxWidth * ratio) / modules));
  const side = cell * modules;
  canvas.width = side;
  canvas.height = side;
  canvas.style.width = `${side / ratio}px`;
  canvas.style.height = `${side / ratio}px`;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, side, side);
  ctx.fillStyle = "#000";
  for (let r = 0; r < symbol.size; r++) {
    for (let c = 0; c < symbol.size; c++) {
      if (symbol.isDark(r, c)) ctx.fillRect((c + 4) * cell, (r + 4) * cell, cell, cell);
    }
  }
  canvas.dataset.version = String(symbol.version);
}
