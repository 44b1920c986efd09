// DPoP proofs (RFC 9449 §4.2) by the card's device key, as epermit/wallet/login.py's dpop_proof: typ dpop+jwt,
// ES256, the public jwk in the header; jti, htm, htu (the URL without query or fragment), iat; ath (the
// access token's SHA-256) on a resource request; the server's nonce when it asked for one (use_dpop_nonce).
import { b64urlEncode, sha256 } from "../../src/bytes.js";
import { publicJwk, signJws } from "./devicekey.js";

const htu = (url) => {
  const parsed = new URL(url, location.href);
  return `${parsed.origin}${parsed.pathname}`;
};

/** One proof for `method` `url`; `accessToken` adds ath, `nonce` the server's DPoP-Nonce. */
export async function dpopProof(keyPair, method, url, { accessToken = null, nonce = null } = {}) {
  const jti = b64urlEncode(crypto.getRandomValues(new Uint8Array(16)));
  const payload = { jti, htm: method, htu: htu(url), iat: Math.floor(Date.now() / 1000) };
  if (accessToken) payload.ath = b64urlEncode(await sha256(new TextEncoder().encode(accessToken)));
  if (nonce) payload.nonce = nonce;
  return signJws(keyPair, { typ: "dpop+jwt", alg: "ES256", jwk: await publicJwk(keyPair) }, payload);
}
