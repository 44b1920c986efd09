// Getting the new credential of an approved request, as the command-line wallet's refresh does
// (epermit/wallet/requests.py): a renewal (endorse, address) by the OpenID4VCI authorization code flow where
// the service runs it (codeflow.js: the resident logs in with the card, the new credential is bound to the
// SAME device key); else — and for a lost phone, whose new phone has nothing to present — the request's
// delivery offers, each redeemed exactly like a first pickup (pickup.js, pre-authorized code + its PIN), with
// the old card's device key when there is an old card. Either way the new card is verified and kept first,
// then credential_accepted is reported (the service retires the old credential only then), and only then are
// the old copies of the same document removed from this phone: the resident is never left without a card.
import { allCards, deleteCard, getCard, putCard } from "./db.js";
import { makeCard } from "./cards.js";
import { codeFlowAvailable, renewByCode } from "./codeflow.js";
import { confirm, offerUrl, pickUp } from "./pickup.js";
import { delivery } from "./requests.js";

const RENEWALS = ["endorse", "address"]; // renewed by the authorization code flow; a lost phone's by its offers

/** Verify and keep what was received, then confirm it (the service retires the old credential only then). */
async function keepOne(got, trust, now) {
  const card = await makeCard(got, trust, now);
  await putCard(card);
  await confirm(got);
  return card;
}

/** The older copies of each renewed document go: it is held anew. */
async function dropOlder(picked) {
  for (const card of picked) {
    for (const held of await allCards()) {
      if (held.id !== card.id && held.type === card.type && held.claims?.document_number === card.claims?.document_number
          && !picked.some((p) => p.id === held.id)) {
        await deleteCard(held.id);
      }
    }
  }
  return picked;
}

/** The cards a renewal may be for: the request's own first, then (as the CLI tries them) the issuer's others. */
async function candidates(kept, old) {
  const fits = (c) => c.issuer === kept.issuer && typeof c.sdJwt === "string"
    && (kept.kind !== "endorse" || c.type === "residence_permit");
  const others = (await allCards()).filter((c) => fits(c) && c.id !== old?.id);
  return [...(old && fits(old) ? [old] : []), ...others];
}

/** The renewed card by the code flow; null where the service has none (its offers are redeemed instead). */
async function renewByCodeFlow(kept, old, trust, now, consent) {
  const cards = await candidates(kept, old);
  if (!cards.length || !(await codeFlowAvailable(kept.issuer))) return null;
  let refusal = null;
  for (const card of cards) {
    let got;
    try {
      got = await renewByCode(card, consent, trust);
    } catch (err) {
      if (err.kind !== "renewal_refused" || err.data.error !== "access_denied") throw err; // wrong iss/state: stop
      refusal = err; // not this card's renewal: try the next one
      continue;
    }
    const picked = [await keepOne(got, trust, now)];
    await dropOlder(picked);
    return picked;
  }
  throw refusal;
}

/** `kept`'s new cards; resolves to {cards, recoveryCode} (a new phone's first pickup hands a new code).
 * `consent`: asks the resident before the code flow's login presents the card (presentview.js). */
export async function renew(kept, trust, now, { consent }) {
  const old = kept.cardId ? await getCard(kept.cardId) : null;
  if (RENEWALS.includes(kept.kind)) {
    const renewed = await renewByCodeFlow(kept, old, trust, now, consent);
    if (renewed) return { cards: renewed, recoveryCode: null };
  }
  const picked = [];
  let recoveryCode = null;
  for (const offer of await delivery(kept)) {
    const got = await pickUp(offerUrl(offer.offer_uri), offer.tx_code, { keyPair: old?.keyPair ?? null });
    picked.push(await keepOne(got, trust, now));
    recoveryCode = got.recoveryCode ?? recoveryCode;
  }
  await dropOlder(picked);
  return { cards: picked, recoveryCode };
}
