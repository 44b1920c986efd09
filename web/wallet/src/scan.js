// Reading a QR code with the phone's camera (an employer's OpenID4VP request shown on another screen), with
// the same zxing-wasm reader the landlord's page uses (web/src/app.js). Frames are read in the page and
// dropped; nothing is recorded or sent.
import { prepareZXingModule, readBarcodesFromImageData } from "zxing-wasm/reader";

let prepared = false;
let stream = null;

function prepare() {
  if (prepared) return;
  prepareZXingModule({ overrides: { locateFile: (path) => new URL(path, document.baseURI).href } });
  prepared = true;
}

/** Read frames from the camera into `video` until a QR code is found: resolves to its text, or null when
 * stopped. Rejects when no camera can be had. */
export async function scanCamera(video) {
  prepare();
  stopCamera();
  stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  const mine = stream;
  video.srcObject = mine;
  video.hidden = false;
  await video.play();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  while (stream === mine) {
    if (video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0);
      const found = await readBarcodesFromImageData(ctx.getImageData(0, 0, canvas.width, canvas.height),
        { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 });
      if (found.length && stream === mine) {
        stopCamera(video);
        return found[0].text;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return null;
}

export function stopCamera(video = null) {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  if (video) {
    video.srcObject = null;
    video.hidden = true;
  }
}
