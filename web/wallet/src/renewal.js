// Getting the new credential of an approved request: the one step the OpenID4VCI authorization code flow
// (issue 16, item 2) will replace, so it lives here alone. Today: the request's delivery offers, each redeemed
// exactly like a first pickup (pickup.js, pre-authorized code + its PIN), with the old card's device key when
// there is an old card (a renewal stays bound to the same key; a lost phone's new cards get new keys). The
// new card is verified and kept first, then credential_accepted is reported (the service retires the old
// credential only then), and only then are the old copies of the same document removed from this phone:
// the resident is never left without a card.
import { allCards, deleteCard, getCard, putCard } from "./db.js";
import { makeCard } from "./cards.js";
import { confirm, offerUrl, pickUp } from "./pickup.js";
import { delivery } from "./requests.js";

/** Redeem `kept`'s offers; resolves to {cards, recoveryCode} (a new phone's first pickup hands a new code). */
export async function renew(kept, trust, now) {
  const old = kept.cardId ? await getCard(kept.cardId) : null;
  const picked = [];
  let recoveryCode = null;
  for (const offer of await delivery(kept)) {
    const got = await pickUp(offerUrl(offer.offer_uri), offer.tx_code, { keyPair: old?.keyPair ?? null });
    const card = await makeCard(got, trust, now);
    await putCard(card);
    await confirm(got);
    recoveryCode = got.recoveryCode ?? recoveryCode;
    picked.push(card);
  }
  for (const card of picked) { // the older copies of each renewed document go: it is held anew
    for (const held of await allCards()) {
      if (held.id !== card.id && held.type === card.type && held.claims?.document_number === card.claims?.document_number
          && !picked.some((p) => p.id === held.id)) {
        await deleteCard(held.id);
      }
    }
  }
  return { cards: picked, recoveryCode };
}
