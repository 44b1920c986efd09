// ECDSA P-256 with WebCrypto: keys from JWKs and COSE_Keys (both coordinates, as the pass carries them),
// raw r||s signatures (what WebCrypto expects, and what JWS and COSE carry), r and s range-checked.
import { b64urlDecode, b64urlEncode, sha256 } from "./bytes.js";
import { VerifyError, malformed } from "./base45.js";

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const toBig = (bytes) => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);

export async function importJwk(jwk) {
  if (!jwk || jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.x !== "string" || typeof jwk.y !== "string"
      || "d" in jwk) {
    throw new VerifyError("BAD_SIGNATURE", "only public P-256 EC keys are supported in this page");
  }
  if (b64urlDecode(jwk.x).length !== 32 || b64urlDecode(jwk.y).length !== 32) throw malformed("bad JWK");
  try {
    return await crypto.subtle.importKey("jwk", { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, ext: true },
      { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } catch {
    throw malformed("JWK is not a valid P-256 public key");
  }
}

export async function importPoint(x, y) {
  return importJwk({ kty: "EC", crv: "P-256", x: b64urlEncode(x), y: b64urlEncode(y) });
}

/** RFC 7638 thumbprint, first 8 bytes, base64url: the project's kid rule (credential/jwk.py). */
export async function keyId(jwk) {
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`;
  return b64urlEncode((await sha256(new TextEncoder().encode(canonical))).slice(0, 8));
}

export async function verifyEs256(key, signature, data) {
  if (signature.length !== 64) throw new VerifyError("BAD_SIGNATURE", "ES256 signature must be 64 bytes");
  const r = toBig(signature.slice(0, 32));
  const s = toBig(signature.slice(32));
  if (!(r > 0n && r < N && s > 0n && s < N)) throw new VerifyError("BAD_SIGNATURE", "r or s out of range");
  const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, data);
  if (!ok) throw new VerifyError("BAD_SIGNATURE", "signature does not verify");
}
