// The trust list (credential/trustlist.py) and status lists (credential/statuslist.py) in the browser.
// The trust list is checked against the pinned root JWK; each entry's kid must be its JWK's thumbprint.
// The entries' X.509 certificates are not re-checked here (the root's signature over the list covers
// the same keys); see docs/web.md. A status list is read in either form, by the same rules: the JWT
// (statuslist+jwt; its x5c chain is ignored) or the CWT the page asks for (COSE_Sign1 tag 18, typ
// application/statuslist+cwt, claims 2 sub, 6 iat, 4 exp, 65534 ttl, 65533 status_list).
import { VerifyError, malformed } from "./base45.js";
import { b64urlDecode, b64urlEncode, inflate } from "./bytes.js";
import { cborDecode } from "./cbor.js";
import { importJwk, keyId } from "./ec.js";
import { isInt, verifyCompact } from "./jws.js";
import { parseSign1, verifySign1 } from "./qrpass.js";

export const MAX_TRUST_LIST = 1 << 20;
export const MAX_STATUS_TOKEN = 2 * 1024 * 1024;
export const MAX_STATUS_ENTRIES = 1 << 20;
export const CWT_TYP = "application/statuslist+cwt";
const CWT_SUB = 2, CWT_EXP = 4, CWT_IAT = 6, CWT_TTL = 65534, CWT_STATUS_LIST = 65533;
const SKEW = 300;
const untrusted = (kid, reason) => new VerifyError("UNTRUSTED_ISSUER", `kid ${kid}: ${reason}`);

export async function verifyTrustList(token, rootJwk, { minVersion = 0 } = {}) {
  const rootKid = await keyId(rootJwk);
  const rootKey = await importJwk(rootJwk);
  const { payload } = await verifyCompact(token, {
    typ: "trustlist+jwt",
    maxSize: MAX_TRUST_LIST,
    resolveKey: async (kid) => {
      if (kid !== rootKid) throw untrusted(kid, "trust list not signed by the pinned root");
      return rootKey;
    },
  });
  for (const claim of ["iss", "version", "iat", "exp", "keys", "status_lists"]) {
    if (!(claim in payload)) throw malformed(`trust list lacks ${claim}`);
  }
  const { version, iat, exp } = payload;
  if (!isInt(version) || version < 1 || !isInt(iat) || !isInt(exp) || exp <= iat) throw malformed("bad trust list times");
  if (version < minVersion) throw new VerifyError("ROLLBACK", `trust list version ${version} < ${minVersion}`);
  if (!Array.isArray(payload.keys) || !Array.isArray(payload.status_lists)) throw malformed("bad trust list");
  const keys = new Map();
  for (const entry of payload.keys) {
    if (!entry || typeof entry !== "object") throw malformed("trust list entries must be objects");
    if (entry.jwk?.kty !== "EC") continue; // EdDSA keys: this page verifies ES256 only (docs/web.md)
    const kid = await keyId(entry.jwk);
    if (entry.kid !== kid) throw malformed(`kid ${entry.kid} is not the thumbprint of its jwk`);
    if (kid === rootKid) throw malformed("the root key cannot be listed as a signing key");
    if (keys.has(kid)) throw malformed("duplicate kid");
    if (!isInt(entry.not_before) || !isInt(entry.not_after) || entry.not_after < entry.not_before) {
      throw malformed("bad key window");
    }
    keys.set(kid, {
      kid, purpose: entry.purpose, state: entry.state, notBefore: entry.not_before, notAfter: entry.not_after,
      types: Array.isArray(entry.types) ? entry.types : [], authorityName: entry.authority?.name ?? "",
      authorityCode: entry.authority?.code ?? "",
      key: await importJwk(entry.jwk),
    });
  }
  // issuer and root: whose list it is and the pinned root it was proved under (the wallet's login anchor,
  // web/wallet/src/loginanchors.js, must be that very root and that issuer's).
  return { token, version, iat, exp, keys, statusLists: payload.status_lists.filter((u) => typeof u === "string"),
    issuer: typeof payload.iss === "string" ? payload.iss : null, root: rootJwk };
}

/** The key that may verify a `purpose` signature at `now` (TrustList.key_for). */
export function keyFor(trust, kid, { purpose, now, type = null }) {
  // Never synced: a state of this verifier, not a verdict on the card (never NOT GENUINE for a genuine one).
  if (!trust) throw new VerifyError("NOT_SET_UP", "no trust list yet: open this page online once");
  const key = trust.keys.get(kid);
  if (!key) throw untrusted(kid, "unknown key");
  if (key.state === "revoked") throw untrusted(kid, "key revoked");
  if (key.purpose !== purpose) throw untrusted(kid, `key signs ${key.purpose}, not ${purpose}`);
  if (type !== null && !key.types.includes(type)) throw untrusted(kid, `key may not sign ${type}`);
  if (now < key.notBefore) throw untrusted(kid, "key not yet valid");
  if (now > key.notAfter) throw untrusted(kid, "key past its validity window");
  return key;
}

/** A Token Status List JWT for `uri`, verified with a trusted status key; StatusError -> STATUS_UNKNOWN. */
export async function verifyStatusList(token, uri, trust, now) {
  const { payload } = await verifyCompact(token, {
    typ: "statuslist+jwt",
    maxSize: MAX_STATUS_TOKEN,
    allowX5c: true,
    resolveKey: async (kid) => keyFor(trust, kid, { purpose: "status", now }).key,
  });
  const list = payload.status_list;
  if (!list || typeof list !== "object" || typeof list.lst !== "string") throw malformed("bad status_list");
  return checkedList({ sub: payload.sub, iat: payload.iat, exp: payload.exp, ttl: payload.ttl }, list.bits,
    b64urlDecode(list.lst), uri, now);
}

/** Whether held or fetched bytes are the CWT form: the COSE_Sign1 tag 18 and an array of four. */
export const isCwt = (bytes) => bytes.length >= 2 && bytes[0] === 0xd2 && bytes[1] === 0x84;

/** The same list as a CWT (bytes): strict CBOR, tag 18, typ exact, ES256, the kid a trusted status key. */
export async function verifyStatusListCwt(bytes, uri, trust, now) {
  if (!(bytes instanceof Uint8Array)) throw malformed("a status list CWT is bytes");
  if (bytes.length > MAX_STATUS_TOKEN) throw malformed("status list too large");
  const message = parseSign1(cborDecode(bytes, { maxSize: MAX_STATUS_TOKEN }), true);
  const kid = message.header.get(4);
  if (!(kid instanceof Uint8Array) || kid.length !== 8) throw malformed("the status list must name an 8-byte kid");
  const claims = cborDecode(message.payload, { maxSize: MAX_STATUS_TOKEN, maxDepth: 3 });
  if (!(claims instanceof Map)) throw malformed("status list claims must be a map");
  const { key } = keyFor(trust, b64urlEncode(kid), { purpose: "status", now });
  await verifySign1(message, key, { typ: CWT_TYP });
  const list = claims.get(CWT_STATUS_LIST);
  if (!(list instanceof Map) || !(list.get("lst") instanceof Uint8Array)) throw malformed("bad status_list");
  return checkedList({ sub: claims.get(CWT_SUB), iat: claims.get(CWT_IAT), exp: claims.get(CWT_EXP),
    ttl: claims.get(CWT_TTL) }, list.get("bits"), list.get("lst"), uri, now);
}

/** The claim rules both forms share (credential/statuslist.py _verified_claims), after the signature. */
async function checkedList(claims, bits, compressed, uri, now) {
  if (typeof claims.sub !== "string") throw malformed("status list lacks its sub");
  if (claims.sub !== uri) throw new VerifyError("STATUS_UNKNOWN", "status list is for another URI");
  const { iat } = claims;
  const exp = claims.exp ?? null;
  if (!isInt(iat) || (exp !== null && (!isInt(exp) || exp < 0))) throw malformed("bad status list times");
  if (claims.ttl !== undefined && (!isInt(claims.ttl) || claims.ttl < 0)) throw malformed("bad status list ttl");
  if (iat > now + SKEW) throw new VerifyError("STATUS_UNKNOWN", "status list issued in the future");
  if (exp !== null && exp <= now) throw new VerifyError("STATUS_UNKNOWN", "status list expired");
  if (![1, 2, 4, 8].includes(bits)) throw malformed("bad status_list bits");
  const data = await inflate(compressed, (MAX_STATUS_ENTRIES * bits + 7) >> 3);
  if (!data.length) throw malformed("empty status list");
  return { uri, iat, exp, bits, data, size: (data.length * 8) / bits };
}

/** Entry `idx`, LSB-first: entry i lives in byte i*bits/8 at bit (i*bits) % 8. */
export function statusAt(list, idx) {
  if (!Number.isSafeInteger(idx) || idx < 0 || idx >= list.size) {
    throw new VerifyError("STATUS_UNKNOWN", "index out of range");
  }
  const bit = idx * list.bits;
  return (list.data[bit >> 3] >> (bit & 7)) & ((1 << list.bits) - 1);
}
