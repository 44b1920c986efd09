// Turning what pickup.js brought into a held card: the SD-JWT VC verified and read, the QR passes checked to
// be bound to this phone's device key, before anything is kept.
import { b64urlDecode, equalBytes } from "../../src/bytes.js";
import { keyFor } from "../../src/lists.js";
import { decodeQrText, verifyPass } from "../../src/qrpass.js";
import { publicJwk } from "./devicekey.js";
import { WalletError } from "./http.js";
import { passBytes } from "./live.js";
import { beijingDay, readSdJwtVc } from "./sdjwt.js";

const C_CNF = 8;
const DAY = 86400;

async function boundPass(text, jwk) {
  const decoded = await decodeQrText(text);
  const key = decoded.payload.get(C_CNF)?.get?.(1);
  const x = key?.get?.(-2);
  if (!(x instanceof Uint8Array) || !equalBytes(x, b64urlDecode(jwk.x))) {
    throw new WalletError("not_genuine", "the pass is not bound to this phone's key");
  }
  return { decoded, bytes: await passBytes(text) };
}

/** A card to keep, or a `not_genuine` WalletError. `trust` is the verified trust list. */
export async function makeCard(picked, trust, now) {
  const jwk = await publicJwk(picked.keyPair);
  let read = null;
  if (picked.sd_jwt) {
    try {
      read = await readSdJwtVc(picked.sd_jwt, trust, now);
    } catch (err) {
      throw new WalletError("not_genuine", err.message);
    }
    if (read.cnf?.x !== jwk.x || read.cnf?.y !== jwk.y) throw new WalletError("not_genuine", "SD-JWT VC bound to another key");
  }
  const full = picked.qr ? await boundPass(picked.qr, jwk) : null;
  const basic = picked.qr_basic ? await boundPass(picked.qr_basic, jwk) : null;
  if (!read && full) { // no SD-JWT VC in the offer: the full pass carries the same claims
    let verified;
    try {
      verified = await verifyPass(full.decoded, async (kid) => keyFor(trust, kid, { purpose: "credential", now }), now);
    } catch (err) {
      throw new WalletError("not_genuine", err.message);
    }
    const p = verified.permit;
    const nbf = full.decoded.payload.get(5), exp = full.decoded.payload.get(4);
    read = {
      type: p.type, nbf, exp, validFrom: beijingDay(nbf), validUntil: beijingDay(exp - DAY),
      status: { uri: verified.uri, idx: verified.idx },
      claims: { name: p.name, name_pinyin: p.name_pinyin, citizen_id: p.citizen_id, address: p.address,
        document_number: p.document_number, authority_name: p.authority_name },
    };
  }
  if (!read) throw new WalletError("bad_offer", "nothing to read the card from");
  return {
    id: crypto.randomUUID(), slug: picked.slug, type: read.type, claims: read.claims, validFrom: read.validFrom,
    validUntil: read.validUntil, nbf: read.nbf, exp: read.exp, status: read.status, issuer: picked.issuer,
    sdJwt: picked.sd_jwt, passes: { full: full?.bytes ?? null, basic: basic?.bytes ?? null },
    keyPair: picked.keyPair, pickedUpAt: now, order: Date.now(), lastStatus: null, // order: ms, to list in pickup order
  };
}
