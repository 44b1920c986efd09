// The portrait code on the live screen (credential/portraitcode.py): the holder's portrait bytes P, from the
// `picture` data URI the SD-JWT VC discloses, drawn as a second QR in byte mode beside the live QR, so one
// camera frame holds both. Level M while it fits version 25 (issue 18: Aadhaar's is 30), else L: a screen is
// flat and clean. The verifier shows the face only if SHA-256(P) is the digest the pass signs.
import qrcode from "qrcode-generator";
import { MAX_PORTRAIT_CODE, mediaTypeOf } from "../../src/portraitcode.js";

export const MAX_PORTRAIT_VERSION = 25;

/** P from a `picture` claim ("data:<type>;base64,<P>"), or null when there is none or it is not an image
 *  of the type it names (then no portrait code is shown: the verifier would refuse it anyway). */
export function pictureBytes(uri) {
  if (typeof uri !== "string" || !uri.startsWith("data:")) return null;
  const [type, text] = uri.slice(5).split(";base64,");
  if (text === undefined || text.length > 4 * Math.ceil(MAX_PORTRAIT_CODE / 3)) return null;
  let bytes;
  try {
    bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  return mediaTypeOf(bytes) === type ? bytes : null;
}

/** The portrait code's symbol for P: {version, size, isDark(row, col), level}. */
export function encodePortraitQr(bytes) {
  const binary = String.fromCharCode(...bytes); // qrcode-generator's Byte mode takes each char code & 0xff
  let code = null;
  for (const level of ["M", "L"]) {
    code = qrcode(0, level);
    code.addData(binary, "Byte");
    code.make();
    const version = (code.getModuleCount() - 17) / 4;
    if (version <= MAX_PORTRAIT_VERSION || level === "L") {
      return { version, size: code.getModuleCount(), isDark: (r, c) => code.isDark(r, c), level };
    }
  }
  throw new Error("unreachable");
}
