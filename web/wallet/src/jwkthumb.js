// The JWK thumbprint (RFC 7638) of the device key: what a DPoP-bound code or session is bound to (`dpop_jkt`,
// `jkt`). The members an EC key's thumbprint hashes are exactly crv, kty, x, y, in that (lexicographic) order,
// with no whitespace: the same bytes as credential/jwk.py's thumbprint, so both sides name the same key.
import { b64urlEncode, sha256 } from "../../src/bytes.js";
import { publicJwk } from "./devicekey.js";

/** base64url(SHA-256) of the required members of a public P-256 JWK. */
export async function jwkThumbprint(jwk) {
  if (jwk?.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.x !== "string" || typeof jwk.y !== "string") {
    throw new Error("only a public P-256 JWK has a thumbprint here");
  }
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`;
  return b64urlEncode(await sha256(new TextEncoder().encode(canonical)));
}

/** The thumbprint of a device key pair (devicekey.js). */
export const keyThumbprint = async (keyPair) => jwkThumbprint(await publicJwk(keyPair));
