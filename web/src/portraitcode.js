// The portrait code (credential/portraitcode.py, its twin): the holder's portrait bytes P in a second QR
// symbol, byte mode, beside the live QR. The page shows a face only once SHA-256(P) is the digest a verified
// pass signs; any other image is not the holder's. zxing-wasm hands over each symbol's raw `bytes`: the text
// of a binary symbol is mangled. Both twins are tested against tests/vectors/portrait_codes.json.
import { malformed, VerifyError } from "./base45.js";
import { equalBytes, sha256 } from "./bytes.js";

// The most bytes one QR symbol holds (version 40-L, byte mode): nothing larger was ever a portrait code.
export const MAX_PORTRAIT_CODE = 2953;
// Each media type a browser decodes in an <img>, with the bytes every such file begins with (null: any byte).
const ascii = (s) => [...s].map((c) => c.charCodeAt(0));
// The order and the patterns are credential/portrait.py's.
const MAGIC = [
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/png", [0x89, ...ascii("PNG\r\n\x1a\n")]],
  ["image/webp", [...ascii("RIFF"), null, null, null, null, ...ascii("WEBPVP8")]],
  ["image/avif", [null, null, null, null, ...ascii("ftypavif")]],
];
export const MEDIA_TYPES = MAGIC.map(([type]) => type);

const beginsAs = (data, pattern) => data.length >= pattern.length && pattern.every((p, i) => p === null || data[i] === p);

/** The media type whose magic `data` begins with, or null. */
export function mediaTypeOf(data) {
  const found = MAGIC.find(([, pattern]) => beginsAs(data, pattern));
  return found ? found[0] : null;
}

/** Whether a QR symbol's raw bytes look like a portrait code (so a frame's symbols can be sorted). */
export const isPortraitCode = (content) => mediaTypeOf(content) !== null;

/** {mediaType, image} of a portrait code's raw bytes; the size is capped before anything else is looked at. */
export function decodePortraitCode(content) {
  if (content.length > MAX_PORTRAIT_CODE) throw malformed(`portrait code exceeds ${MAX_PORTRAIT_CODE} bytes`);
  const mediaType = mediaTypeOf(content);
  if (mediaType === null) throw malformed(`portrait code is not one of ${MEDIA_TYPES.join(", ")}`);
  return { mediaType, image: Uint8Array.from(content) };
}

/** Judge the scanned portrait codes against the digest a verified pass signs (null: it signs none, or did not
 *  verify). Never throws: {check: "verified" | "absent" | "mismatch", reason, mediaType, image}. */
export async function checkPortrait(codes, signedDigest) {
  if (!codes.length) {
    const reason = signedDigest ? "no portrait code scanned: compare the holder with the physical card" : "no portrait code scanned";
    return { check: "absent", reason, mediaType: null, image: null };
  }
  if (!signedDigest) {
    return { check: "mismatch", reason: "no verified pass signs a portrait: the image is not the holder's face", mediaType: null, image: null };
  }
  let reason = "the portrait's SHA-256 is not the digest the pass signs: the image is not the holder's face";
  for (const content of codes) {
    let decoded;
    try {
      decoded = decodePortraitCode(content);
    } catch (err) {
      if (!(err instanceof VerifyError)) throw err;
      reason = `unreadable portrait code: ${err.reason}`;
      continue;
    }
    if (equalBytes(await sha256(decoded.image), signedDigest)) {
      return { check: "verified", reason: "the portrait is the one the pass signs", ...decoded };
    }
  }
  return { check: "mismatch", reason, mediaType: null, image: null };
}
