// The device key: a WebCrypto P-256 key pair made with extractable: false. The private key is a CryptoKey
// object that IndexedDB stores as it is (structured clone); its bytes never leave the browser, and
// crypto.subtle.exportKey refuses it. Only the public key is shown to the issuer, as a JWK.
import { b64urlEncode } from "../../src/bytes.js";

export async function newDeviceKey() {
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
}

/** The public JWK with exactly kty, crv, x, y (what a key proof's jwk header carries). */
export async function publicJwk(keyPair) {
  const jwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

/** ES256: WebCrypto gives the raw r||s that JWS and COSE carry. */
export async function signEs256(keyPair, data) {
  return new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keyPair.privateKey, data));
}

/** A compact JWS over `header` and `payload`, signed by the device key. */
export async function signJws(keyPair, header, payload) {
  const enc = (v) => b64urlEncode(new TextEncoder().encode(JSON.stringify(v)));
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${b64urlEncode(await signEs256(keyPair, new TextEncoder().encode(input)))}`;
}
