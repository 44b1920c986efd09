// ECDSA P-256 with WebCrypto: keys from JWKs and COSE_Keys (compressed points decompressed here),
// raw r||s signatures (what WebCrypto expects, and what JWS and COSE carry), r and s range-checked.
import { b64urlDecode, b64urlEncode, sha256 } from "./bytes.js";
import { VerifyError, malformed } from "./base45.js";

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const toBig = (bytes) => bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
const toBytes = (n) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * (31 - i))) & 0xffn));

function modPow(base, exp, mod) {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

/** y for x on P-256 with the given parity; MALFORMED when x is not on the curve. */
export function decompressY(xBytes, odd) {
  const x = toBig(xBytes);
  if (x >= P) throw malformed("point not on P-256");
  const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
  let y = modPow(rhs, (P + 1n) / 4n, P);
  if ((y * y) % P !== rhs) throw malformed("point not on P-256");
  if ((y & 1n) !== (odd ? 1n : 0n)) y = P - y;
  return toBytes(y);
}

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
