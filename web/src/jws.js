// Compact JWS, strict like credential/jose.py: the verifier pins typ, alg and key; the token picks none.
import { VerifyError, malformed } from "./base45.js";
import { b64urlDecode, jsonLoads } from "./bytes.js";
import { verifyEs256 } from "./ec.js";

const KEY_SOURCE_HEADERS = ["jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256"];

/** `allowX5c`: an x5c chain is tolerated and never read (status lists carry one for generic verifiers);
 * the key is still the trusted one named by kid. */
export async function verifyCompact(token, { typ, resolveKey, maxSize, allowX5c = false }) {
  if (typeof token !== "string") throw malformed("token must be text");
  if (token.length > maxSize) throw malformed("token too large");
  const parts = token.split(".");
  if (parts.length !== 3) throw malformed("a compact JWS has three parts");
  const header = jsonLoads(b64urlDecode(parts[0]), maxSize);
  if (!header || typeof header !== "object" || Array.isArray(header)) throw malformed("JWS header must be an object");
  if (header.typ !== typ) throw malformed(`wrong typ ${header.typ}`);
  if (header.alg !== "ES256") throw new VerifyError("BAD_SIGNATURE", `algorithm ${header.alg} not accepted here`);
  for (const name of KEY_SOURCE_HEADERS) {
    if (name in header && !(allowX5c && name === "x5c")) throw malformed(`forbidden header ${name}`);
  }
  if ("crit" in header) throw malformed("forbidden header crit");
  if (typeof header.kid !== "string" || !header.kid) throw malformed("header lacks a kid");
  const payload = jsonLoads(b64urlDecode(parts[1]), maxSize);
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw malformed("JWS payload must be an object");
  const key = await resolveKey(header.kid);
  await verifyEs256(key, b64urlDecode(parts[2]), new TextEncoder().encode(`${parts[0]}.${parts[1]}`));
  return { header, payload };
}

export const isInt = (v) => Number.isSafeInteger(v);
