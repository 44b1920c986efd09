// The QR pass (credential/qrpass.py, credential/cose.py, credential/passclaims.py), decoded and verified.
// The pass names its authority by code only: the name is the trust-list entry's of the key that signed,
// and a pass whose authority code is not that key's is UNTRUSTED_ISSUER.
import { VerifyError, b45decode, malformed } from "./base45.js";
import { b64urlEncode, concat, inflate, sha256 } from "./bytes.js";
import { Tagged, cborDecode, cborEncode } from "./cbor.js";
import { importPoint, verifyEs256 } from "./ec.js";

export const QR_PREFIX = "EP1:";
export const MAX_QR_TEXT = 4096;
export const MAX_INFLATED = 8192;
const TYP_PASS = 65001;
const TYP_PROOF = 65002;
const H_ALG = 1, H_CRIT = 2, H_KID = 4, H_TYP = 16;
const KEY_SOURCE_HEADERS = new Set([32, 33, 34, 35, 13, 14, 22, 23, 24, 25]);
const C_EXP = 4, C_NBF = 5, C_IAT = 6, C_CNF = 8, C_STATUS = 65535, C_PERMIT = -70001;
const PASS_CLAIMS = new Set([C_EXP, C_NBF, C_IAT, C_CNF, C_STATUS, C_PERMIT]);
const SKEW = 300;

export function parseSign1(item, requireTag) {
  if (item instanceof Tagged) item = item.value;
  else if (requireTag) throw malformed("COSE_Sign1 tag 18 is required");
  if (!Array.isArray(item) || item.length !== 4) throw malformed("COSE_Sign1 must be an array of 4 items");
  const [protectedBytes, unprotected, payload, signature] = item;
  if (!(protectedBytes instanceof Uint8Array) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw malformed("COSE protected header, payload and signature must be byte strings");
  }
  if (!(unprotected instanceof Map)) throw malformed("COSE unprotected header must be a map");
  if (unprotected.size) throw malformed("forbidden header: unprotected header");
  const header = cborDecode(protectedBytes, { maxSize: MAX_INFLATED, maxDepth: 2 });
  if (!(header instanceof Map)) throw malformed("COSE protected header must be a map");
  for (const label of header.keys()) {
    if (label === H_CRIT || KEY_SOURCE_HEADERS.has(label)) throw malformed(`forbidden COSE header ${label}`);
    if (![H_ALG, H_KID, H_TYP].includes(label)) throw malformed(`unknown COSE header label ${label}`);
  }
  const kid = header.get(H_KID);
  if (kid !== undefined && !(kid instanceof Uint8Array)) throw malformed("COSE kid must be a byte string");
  return { header, protectedBytes, payload, signature };
}

const encodeSign1 = (m, tag) => {
  const body = [m.protectedBytes, new Map(), m.payload, m.signature];
  return cborEncode(tag ? new Tagged(18, body) : body);
};

// Both messages name their alg (ES256, -7, the only one this page verifies): none named is refused.
export async function verifySign1(m, key, { typ, externalAad = new Uint8Array() }) {
  if (m.header.get(H_TYP) !== typ) throw malformed(`wrong COSE typ ${m.header.get(H_TYP)}`);
  const alg = m.header.get(H_ALG);
  if (alg !== -7) throw new VerifyError("BAD_SIGNATURE", `algorithm ${alg} not accepted here`);
  const toBeSigned = cborEncode(["Signature1", m.protectedBytes, externalAad, m.payload]);
  await verifyEs256(key, m.signature, toBeSigned);
}

/** Bounds, prefix, base45, capped inflation and CBOR shape; no cryptography (decode_qr_text). */
export async function decodeQrText(text) {
  if (text.length > MAX_QR_TEXT) throw malformed("QR text too large");
  if (!text.startsWith(QR_PREFIX)) throw malformed(`not an ${QR_PREFIX} pass`);
  const data = await inflate(b45decode(text.slice(QR_PREFIX.length)), MAX_INFLATED);
  const item = cborDecode(data, { maxSize: MAX_INFLATED });
  let passItem = item;
  let proof = null;
  if (Array.isArray(item)) {
    if (item.length !== 2) throw malformed("a live pass is an array of pass and proof");
    passItem = item[0];
    proof = parseSign1(item[1], true); // tagged, as the pass: COSE libraries refuse an untagged message
  }
  const message = parseSign1(passItem, true);
  const kid = message.header.get(H_KID);
  if (!kid || kid.length !== 8) throw malformed("the pass must name an 8-byte kid");
  const payload = cborDecode(message.payload, { maxSize: MAX_INFLATED, maxDepth: 4 });
  if (!(payload instanceof Map)) throw malformed("the pass payload must be a CBOR map");
  return { message, proof, kid: b64urlEncode(kid), payload, cosePass: encodeSign1(message, true) };
}

const isInt = (v) => Number.isSafeInteger(v);
const claimError = (claim, reason) => malformed(`invalid claim ${claim}: ${reason}`);

function checkTimes(p, now) {
  for (const [key, name] of [[C_EXP, "exp"], [C_NBF, "nbf"], [C_IAT, "iat"]]) {
    if (!isInt(p.get(key))) throw claimError(name, "must be an integer NumericDate");
  }
  if (now - SKEW >= p.get(C_EXP)) throw new VerifyError("EXPIRED", `expired at ${p.get(C_EXP)}`);
  if (p.get(C_NBF) > now + SKEW) throw new VerifyError("NOT_YET_VALID", `valid from ${p.get(C_NBF)}`);
  if (p.get(C_IAT) > now + SKEW) throw new VerifyError("NOT_YET_VALID", `issued in the future`);
}

async function holderKey(cnf) {
  if (!(cnf instanceof Map) || cnf.size !== 1 || !cnf.has(1)) throw claimError("cnf", "must hold exactly one COSE_Key");
  const k = cnf.get(1);
  if (!(k instanceof Map) || k.get(1) !== 2 || k.get(-1) !== 1 || k.size !== 4) {
    throw claimError("cnf", "must be an EC2 P-256 COSE_Key");
  }
  const x = k.get(-2);
  const y = k.get(-3);
  if (!(x instanceof Uint8Array) || x.length !== 32) throw claimError("cnf", "x must be 32 bytes");
  // Both coordinates (RFC 9053 §7.1.1), as credential/cose.py sends and reads them: the compressed form
  // (y as a sign bit) is refused, one holder key having one encoding.
  if (y instanceof Uint8Array && y.length === 32) return importPoint(x, y);
  throw claimError("cnf", "y must be 32 bytes (the compressed form is not accepted)");
}

function statusReference(status) {
  const ref = status instanceof Map ? status.get("status_list") : undefined;
  if (!(ref instanceof Map)) throw claimError("status", "must hold a status_list object");
  const idx = ref.get("idx");
  const uri = ref.get("uri");
  if (!isInt(idx) || idx < 0) throw claimError("status", "idx must be a non-negative integer");
  if (typeof uri !== "string" || !uri || uri.length > 2048) throw claimError("status", "uri must be a non-empty string");
  return { uri, idx };
}

// --- the permit map (passclaims.py) -------------------------------------------------------------------
const FIELDS = { 1: "int", 2: "str", 3: "str", 4: "int", 5: "int", 7: "int", 8: "str", 9: "str", 10: "int",
  11: "int", 13: "bytes" };
const RETIRED_AUTHORITY_NAME = 12; // the trust list names the authority: a map still carrying it is refused
const OPTIONAL = new Set([13, 11]);
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const SLUGS = { 1: "residence_permit", 2: "residence_registration" };
const DAY = 86400;
const OFFSET = 8 * 3600;
const HAN = "\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\u{20000}-\\u{2fa1f}";
const NAME = new RegExp(`^[${HAN}]+(?:\\u00b7[${HAN}]+)*$`, "u");
const PINYIN = /^[A-Z]+(?: [A-Z]+)*$/;

const digits = (v, width, what) => {
  const n = BigInt(v);
  if (n < 0n || n >= 10n ** BigInt(width)) throw claimError("permit", `${what} has more than ${width} digits`);
  return n.toString().padStart(width, "0");
};
const civilDay = (t, claim) => {
  if ((t + OFFSET) % DAY) throw claimError(claim, "must be a midnight in Beijing");
  return new Date((t + OFFSET) * 1000).toISOString().slice(0, 10);
};
const cleanText = (s, max) => s.length > 0 && s.length <= max && s === s.normalize("NFC").split(/\s+/).filter(Boolean).join(" ")
  && !/[\p{Cc}\p{Cf}]/u.test(s);

/** `authorityName`: the trust list's name for the key that verified the signature (never from the pass). */
export function permitFromClaim(claim, nbf, exp, authorityName) {
  if (!(claim instanceof Map)) throw claimError("permit", "must be a map");
  for (const [key, value] of claim) {
    if (key === RETIRED_AUTHORITY_NAME) throw claimError("permit", "field 12 (authority name) is not carried: the trust list names it");
    const kind = FIELDS[key];
    if (!kind) throw claimError("permit", `unknown field ${key}`);
    const ok = kind === "int" ? (isInt(value) || typeof value === "bigint")
      : kind === "str" ? typeof value === "string" : value instanceof Uint8Array;
    if (!ok) throw claimError("permit", `field ${key} has the wrong type`);
  }
  for (const key of Object.keys(FIELDS).map(Number)) {
    if (!OPTIONAL.has(key) && !claim.has(key)) throw claimError("permit", `field ${key} is missing`);
  }
  const type = SLUGS[claim.get(1)];
  if (!type) throw claimError("permit", "unknown credential type");
  const first17 = digits(claim.get(7), 17, "citizen ID");
  const sum = WEIGHTS.reduce((n, w, i) => n + w * Number(first17[i]), 0);
  const citizenId = first17 + "10X98765432"[sum % 11];
  const birth = `${first17.slice(6, 10)}-${first17.slice(10, 12)}-${first17.slice(12, 14)}`;
  const birthDate = new Date(`${birth}T00:00:00Z`);
  if (Number.isNaN(birthDate.getTime()) || birthDate.toISOString().slice(0, 10) !== birth) {
    throw claimError("permit", "the citizen ID holds no birth date");
  }
  const name = claim.get(2), pinyin = claim.get(3), address = claim.get(8);
  if (!cleanText(name, 30) || !NAME.test(name)) throw claimError("permit", "name");
  if (!cleanText(pinyin, 100) || !PINYIN.test(pinyin)) throw claimError("permit", "name_pinyin");
  if (!cleanText(address, 80)) throw claimError("permit", "address");
  if (typeof authorityName !== "string" || !cleanText(authorityName, 60)) throw claimError("permit", "authority name");
  if (!/^[0-9A-Z][0-9A-Z-]*$/.test(claim.get(9)) || claim.get(9).length > 32) throw claimError("permit", "document number");
  if (![0, 1, 2, 9].includes(claim.get(4))) throw claimError("permit", "sex");
  const district = digits(claim.get(10), 6, "district");
  if (claim.has(11) && BigInt(claim.get(11)) === BigInt(claim.get(10))) throw claimError("permit", "not in canonical form");
  const portrait = claim.get(13);
  if (portrait !== undefined && portrait.length !== 32) throw claimError("permit", "portrait digest must be 32 bytes");
  const validUntil = new Date((civilDayToUnix(civilDay(exp, "exp")) - DAY) * 1000).toISOString().slice(0, 10);
  return {
    type, name, name_pinyin: pinyin, sex: claim.get(4), ethnicity: claim.get(5), birth_date: birth,
    citizen_id: citizenId, address, document_number: claim.get(9), district,
    authority_code: claim.has(11) ? digits(claim.get(11), 6, "authority code") : district,
    authority_name: authorityName, valid_from: civilDay(nbf, "nbf"), valid_until: validUntil,
    portrait_sha256: portrait ? [...portrait].map((b) => b.toString(16).padStart(2, "0")).join("") : null,
  };
}
const civilDayToUnix = (iso) => Date.parse(`${iso}T00:00:00Z`) / 1000;

/** verify_pass: issuer signature with a key from the trust list only, then claims, then validity, then the
 * authority. `resolveKey(kid)` gives the trust-list entry {key, authorityCode, authorityName}. */
export async function verifyPass(decoded, resolveKey, now) {
  const entry = await resolveKey(decoded.kid);
  await verifySign1(decoded.message, entry.key, { typ: TYP_PASS });
  const p = decoded.payload;
  for (const k of p.keys()) if (!PASS_CLAIMS.has(k)) throw claimError(String(k), "unknown claim");
  for (const k of PASS_CLAIMS) if (!p.has(k)) throw malformed(`missing claim ${k}`);
  checkTimes(p, now);
  const holder = await holderKey(p.get(C_CNF));
  const { uri, idx } = statusReference(p.get(C_STATUS));
  const permit = permitFromClaim(p.get(C_PERMIT), p.get(C_NBF), p.get(C_EXP), entry.authorityName);
  if (permit.authority_code !== entry.authorityCode) {
    throw new VerifyError("UNTRUSTED_ISSUER",
      `key of authority ${entry.authorityCode} may not sign for authority ${permit.authority_code} (kid ${decoded.kid})`);
  }
  return { permit, holder, uri, idx };
}

/** verify_live_proof: the holder key signed {1: time} over SHA-256(pass); any failure is REPLAYED. */
export async function verifyLiveProof(decoded, holder, now, window = 60) {
  const proof = decoded.proof;
  try {
    await verifySign1(proof, holder, { typ: TYP_PROOF, externalAad: await sha256(decoded.cosePass) });
  } catch (err) {
    if (err.code === "BAD_SIGNATURE" && proof.header.get(H_ALG) !== -7) {  // none named, or not the holder key's
      throw new VerifyError("REPLAYED", `proof algorithm ${proof.header.get(H_ALG)} is not the holder key's ES256`);
    }
    if (err.code === "BAD_SIGNATURE") throw new VerifyError("REPLAYED", "proof not by the holder key for this pass");
    throw err;
  }
  const payload = cborDecode(proof.payload, { maxSize: MAX_INFLATED, maxDepth: 1 });
  if (!(payload instanceof Map) || [...payload.keys()].some((k) => k !== 1 && k !== 2)) {
    throw malformed("the proof payload must be {1: time, 2: nonce}");
  }
  const time = payload.get(1);
  if (!isInt(time)) throw claimError("proof time", "must be an integer");
  if (Math.abs(time - now) > window) throw new VerifyError("REPLAYED", `proof time ${time} is more than ${window} s from now`);
  return time;
}

export { concat };
