// The live QR text (credential/qrpass.py live_qr_text): the pass as delivered plus a fresh holder proof.
//   "EP1:" + base45(zlib(CBOR [pass (tag-18 COSE_Sign1, its exact bytes), proof (tag-18 COSE_Sign1)]))
//   proof: protected {1: -7 (ES256), 16: 65002}, unprotected {}, payload {1: unix time},
//          signed over Sig_structure ["Signature1", protected, SHA-256(pass bytes), payload].
import { b45decode, b45encode } from "../../src/base45.js";
import { concat, inflate, sha256 } from "../../src/bytes.js";
import { Tagged, cborEncode } from "../../src/cbor.js";
import { MAX_INFLATED, QR_PREFIX } from "../../src/qrpass.js";
import { signEs256 } from "./devicekey.js";

const ALG_ES256 = -7;
const TYP_PROOF = 65002;
const PROTECTED = cborEncode(new Map([[1, ALG_ES256], [16, TYP_PROOF]]));

/** The pass's COSE bytes from the static "EP1:" text the credential endpoint delivers. */
export async function passBytes(staticText) {
  if (typeof staticText !== "string" || !staticText.startsWith(QR_PREFIX)) throw new Error("not an EP1: pass");
  const bytes = await inflate(b45decode(staticText.slice(QR_PREFIX.length)), MAX_INFLATED);
  if (bytes[0] !== 0xd2) throw new Error("the pass must be a tagged COSE_Sign1"); // tag 18, one-byte head
  return bytes;
}

/** zlib (RFC 1950) with the browser's CompressionStream. */
export async function deflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The holder proof for `pass` at `now`, signed by the device key, as tagged COSE_Sign1 bytes. */
export async function holderProof(pass, keyPair, now) {
  const payload = cborEncode(new Map([[1, now]]));
  const toBeSigned = cborEncode(["Signature1", PROTECTED, await sha256(pass), payload]);
  const signature = await signEs256(keyPair, toBeSigned);
  return cborEncode(new Tagged(18, [PROTECTED, new Map(), payload, signature])); // tagged: COSE libraries expect it
}

export async function liveText(pass, keyPair, now) {
  const proof = await holderProof(pass, keyPair, now);
  // The array head (0x82) then the pass's bytes exactly as delivered: the proof's aad covers those bytes.
  return QR_PREFIX + b45encode(await deflate(concat(new Uint8Array([0x82]), pass, proof)));
}
