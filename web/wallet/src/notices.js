// The holder's notifications (GET /resident/notifications), read when the wallet syncs: request decided,
// suspended, endorsement due, credential expiring. Once per holder (the messages are the holder's, not a
// card's), by a card the service still takes as current — with its live login session (login.js), or a
// presentation where the service has no login: a sync never asks the resident to log in, so where the service
// logs residents in, the notices come with their next login. A suspended or revoked card cannot sign in, so
// its holder's notices wait for another card or come as SMS. Kept in memory only, like a page.
import { cardState } from "./status.js";
import { notices as fetchNotices } from "./requests.js";
import { REQUEST_LABELS } from "./requestswords.js";

const $ = (id) => document.getElementById(id);
const MAX_SHOWN = 20;

export function installNotices({ lang, cards, login }) {
  let shown = [];

  async function sync() {
    const now = Math.floor(Date.now() / 1000);
    const byHolder = new Map();
    for (const card of cards()) {
      const holder = card.claims?.citizen_id;
      if (!holder || typeof card.sdJwt !== "string") continue;
      if (["revoked", "suspended", "expired"].includes(cardState(card, now))) continue;
      if (!byHolder.has(holder) || (login.live(card) && !login.live(byHolder.get(holder)))) byHolder.set(holder, card);
    }
    const found = [];
    for (const card of byHolder.values()) {
      try {
        const holder = card.claims.citizen_id;
        const read = await fetchNotices(card, login);
        // null: nobody is logged in now; the holder's notices read at the last login stay on screen
        found.push(...(read ? read.map((m) => ({ ...m, holder })) : shown.filter((m) => m.holder === holder)));
      } catch {
        // this holder's notices could not be read now: the next sync tries again
      }
    }
    const seen = new Set();
    shown = found.filter((m) => typeof m?.id === "string" && !seen.has(m.id) && seen.add(m.id))
      .sort((a, b) => (b.created_at ?? 0) - (a.created_at ?? 0)).slice(0, MAX_SHOWN);
  }

  function render() {
    const w = REQUEST_LABELS[lang()];
    $("notices-title").textContent = w.notices;
    $("notices-badge").textContent = shown.length ? String(shown.length) : "";
    $("notices-badge").hidden = !shown.length;
    $("no-notices").textContent = w.noNotices;
    $("no-notices").hidden = shown.length > 0;
    const locale = lang() === "zh" ? "zh-CN" : "en-GB";
    $("notices").replaceChildren(...shown.map((m) => {
      const item = document.createElement("li");
      item.dataset.testid = "notice";
      item.dataset.kind = typeof m.kind === "string" ? m.kind : "";
      const when = Number.isSafeInteger(m.created_at) ? new Date(m.created_at * 1000).toLocaleString(locale) : "";
      const text = lang() === "zh" ? m.message?.zh : m.message?.en;
      item.textContent = `${when} · ${typeof text === "string" ? text : ""}`;
      return item;
    }));
  }

  return { sync, render };
}
