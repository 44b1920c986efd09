// The wallet's own status: the trust list (checked against the pinned root, never an older version than
// one already seen), then the card's status list JWT from the URI its SD-JWT VC names (this origin only),
// checked with a trusted status key, and the 2-bit entry read (0 valid, 1 revoked, 2 suspended).
import { statusAt, verifyStatusList, verifyTrustList } from "../../src/lists.js";
import { getMeta, putMeta } from "./db.js";
import { fetchText, sameOrigin } from "./http.js";

export const STATES = { 0: "valid", 1: "revoked", 2: "suspended" };
export const EXPIRES_SOON = 30 * 86400;

export async function loadRoot() {
  const response = await fetch(new URL("root.json", document.baseURI));
  if (!response.ok) throw new Error("no pinned root");
  return (await response.json()).jwk;
}

/** The trust list: the newest verified one, refreshed from /trustlist.jwt when online. */
export async function trustList(root, { online }) {
  const heldToken = await getMeta("trustlist");
  let held = null;
  if (heldToken) {
    try {
      held = await verifyTrustList(heldToken, root);
    } catch {
      held = null;
    }
  }
  if (!online) return held;
  const offered = await verifyTrustList(await fetchText(new URL("/trustlist.jwt", location.origin)), root,
    { minVersion: held?.version ?? 0 });
  await putMeta("trustlist", offered.token);
  return offered;
}

/** Check one card's status now: {value, state, listIat, checkedAt}; an older list than last time changes nothing. */
export async function checkStatus(card, trust, now) {
  const { uri, idx } = card.status;
  sameOrigin(uri);
  const list = await verifyStatusList(await fetchText(uri, "application/statuslist+jwt"), uri, trust, now);
  if (card.lastStatus && list.iat < card.lastStatus.listIat) return card.lastStatus;
  const value = statusAt(list, idx);
  return { value, state: STATES[value] ?? "unknown", listIat: list.iat, checkedAt: now };
}

/** What the home screen says about a card at `now`: revoked / suspended / expired / expires_soon / valid / unknown. */
export function cardState(card, now) {
  const state = card.lastStatus?.state ?? "unknown";
  if (state === "revoked" || state === "suspended") return state;
  if (now >= card.exp) return "expired";
  if (card.exp - now <= EXPIRES_SOON) return state === "valid" ? "expires_soon" : state;
  return state;
}

