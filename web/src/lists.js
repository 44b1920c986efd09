// The trust list (credential/trustlist.py) and status lists (credential/statuslist.py) in the browser.
// The trust list is checked against the pinned root JWK; each entry's kid must be its JWK's thumbprint.
// The entries' X.509 certificates are not re-checked here (the root's signature over the list covers
// the same keys); see docs/web.md.
import { VerifyError, malformed } from "./base45.js";
import { b64urlDecode, inflate } from "./bytes.js";
import { importJwk, keyId } from "./ec.js";
import { isInt, verifyCompact } from "./jws.js";

export const MAX_TRUST_LIST = 1 << 20;
export const MAX_STATUS_TOKEN = 2 * 1024 * 1024;
export const MAX_STATUS_ENTRIES = 1 << 20;
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
  return { token, version, iat, exp, keys, statusLists: payload.status_lists.filter((u) => typeof u === "string") };
}

/** The key that may verify a `purpose` signature at `now` (TrustList.key_for). */
export function keyFor(trust, kid, { purpose, now, type = null }) {
  if (!trust) throw untrusted(kid, "no trust list yet (open this page online once)");
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
    resolveKey: async (kid) => keyFor(trust, kid, { purpose: "status", now }).key,
  });
  if (payload.sub !== uri) throw new VerifyError("STATUS_UNKNOWN", "status list is for another URI");
  const { iat } = payload;
  const exp = payload.exp ?? null;
  if (!isInt(iat) || (exp !== null && !isInt(exp))) throw malformed("bad status list times");
  if (iat > now + SKEW) throw new VerifyError("STATUS_UNKNOWN", "status list issued in the future");
  if (exp !== null && exp <= now) throw new VerifyError("STATUS_UNKNOWN", "status list expired");
  const list = payload.status_list;
  if (!list || ![1, 2, 4, 8].includes(list.bits) || typeof list.lst !== "string") throw malformed("bad status_list");
  const data = await inflate(b64urlDecode(list.lst), (MAX_STATUS_ENTRIES * list.bits + 7) >> 3);
  if (!data.length) throw malformed("empty status list");
  return { uri, iat, exp, bits: list.bits, data, size: (data.length * 8) / list.bits };
}

/** Entry `idx`, LSB-first: entry i lives in byte i*bits/8 at bit (i*bits) % 8. */
export function statusAt(list, idx) {
  if (!Number.isSafeInteger(idx) || idx < 0 || idx >= list.size) {
    throw new VerifyError("STATUS_UNKNOWN", "index out of range");
  }
  const bit = idx * list.bits;
  return (list.data[bit >> 3] >> (bit & 7)) & ((1 << list.bits) - 1);
}
