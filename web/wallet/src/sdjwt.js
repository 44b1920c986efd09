// Reading the SD-JWT VC the wallet picked up (credential/sdjwt.py): the issuer-signed JWT checked with the
// trust list's credential key for its kid, each disclosure's digest found in _sd, the claims read from the
// disclosures. The wallet shows what it holds; the landlord's verifier judges it again on every scan.
import { b64urlDecode, b64urlEncode, jsonLoads, sha256 } from "../../src/bytes.js";
import { verifyCompact } from "../../src/jws.js";
import { keyFor } from "../../src/lists.js";

export const MAX_SD_JWT = 64 * 1024;
const DAY = 86400;
const BEIJING = 8 * 3600;
const TYPES = { "/vct/residence-permit/1": "residence_permit", "/vct/residence-registration/1": "residence_registration" };

/** The Beijing calendar day of a unix time, as YYYY-MM-DD. */
export const beijingDay = (t) => new Date((t + BEIJING) * 1000).toISOString().slice(0, 10);

/** Verify and read an SD-JWT VC (issued form, ending in "~"). `trust` from lists.js verifyTrustList. */
export async function readSdJwtVc(text, trust, now) {
  if (typeof text !== "string" || text.length > MAX_SD_JWT || !text.endsWith("~")) {
    throw new Error("not an SD-JWT VC in issued form");
  }
  const [jwt, ...rest] = text.split("~");
  const disclosures = rest.slice(0, -1);
  const { payload } = await verifyCompact(jwt, {
    // The issuer's certificate rides in x5c for generic verifiers (HAIP); the key still comes from the trust list.
    typ: "dc+sd-jwt", maxSize: MAX_SD_JWT, allowX5c: true,
    resolveKey: async (kid) => keyFor(trust, kid, { purpose: "credential", now }).key,
  });
  const digests = new Set(Array.isArray(payload._sd) ? payload._sd : []);
  if (payload._sd_alg !== "sha-256") throw new Error("unsupported _sd_alg");
  const claims = {};
  for (const disclosure of disclosures) {
    const digest = b64urlEncode(await sha256(new TextEncoder().encode(disclosure)));
    if (!digests.has(digest)) throw new Error("a disclosure is not in the signed _sd digests");
    digests.delete(digest); // each disclosed once
    const item = jsonLoads(b64urlDecode(disclosure), MAX_SD_JWT);
    if (!Array.isArray(item) || item.length !== 3 || typeof item[1] !== "string" || item[1] in claims) {
      throw new Error("bad disclosure");
    }
    claims[item[1]] = item[2];
  }
  const path = typeof payload.vct === "string" && payload.vct.startsWith(payload.iss) ? payload.vct.slice(payload.iss.length) : "";
  const type = TYPES[path];
  if (!type) throw new Error("unknown credential type");
  const ref = payload.status?.status_list;
  if (!ref || typeof ref.uri !== "string" || !Number.isSafeInteger(ref.idx) || ref.idx < 0) throw new Error("no status reference");
  if (!Number.isSafeInteger(payload.nbf) || !Number.isSafeInteger(payload.exp)) throw new Error("no validity");
  return {
    type, claims, nbf: payload.nbf, exp: payload.exp, validFrom: beijingDay(payload.nbf),
    validUntil: beijingDay(payload.exp - DAY), status: { uri: ref.uri, idx: ref.idx }, cnf: payload.cnf?.jwk ?? null,
    issuer: payload.iss,
  };
}
