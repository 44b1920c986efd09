// The resident's wallet: pick up (OpenID4VCI), hold, show a live QR offline, keep its own status.
import { allCards, allLog, addLog, deleteCard, getCard, putCard } from "./db.js";
import { WalletError } from "./http.js";
import { LABELS, ageText, serviceDescription } from "./i18n.js";
import { makeCard } from "./cards.js";
import { liveText } from "./live.js";
import { confirm, offerUrl, pickUp } from "./pickup.js";
import { encodePortraitQr, pictureBytes } from "./portrait.js";
import { createLogin } from "./login.js";
import { installPresent } from "./presentview.js";
import { installRequests } from "./requestsview.js";
import { QrTooLargeError, drawQr, encodeQr } from "./qr.js";
import { cardState, checkStatus, loadRoot, trustList } from "./status.js";

const $ = (id) => document.getElementById(id);
const now = () => Math.floor(Date.now() / 1000);
const DAY = 86400;
const LIVE_PERIOD = 30;
const LANG_KEY = "epermit-wallet-lang";

let lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh"; // Chinese first, English on the switch
let root = null;
let cards = [];
let revealed = new Set();
let removing = null;
let showing = null; // {cardId, view, timer, signedAt}
let lastError = null;
let present = null; // the OpenID4VP screen (presentview.js)
let requestsUi = null; // services, my requests, lost phone, notices (requestsview.js)
const t = () => LABELS[lang];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "testid") node.dataset.testid = v;
    else if (k === "onclick") node.addEventListener("click", v);
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const mask = (id) => (typeof id === "string" && id.length === 18 ? `${id.slice(0, 3)}***********${id.slice(14)}` : "******");
const daysLeft = (card) => Math.ceil((card.exp - now()) / DAY);

function errorText(err) {
  const words = t().errors;
  const kind = err instanceof WalletError ? err.kind : "unknown";
  if (kind === "wrong_pin") return words.wrong_pin(err.data.attemptsLeft);
  if (kind === "issuer") return serviceDescription(err) || words.issuer; // the service's words, zh then en
  return words[kind] ?? words.unknown;
}

function statusWords(card) {
  const words = t();
  const state = cardState(card, now());
  const said = state === "expires_soon" ? words.states.expires_soon(daysLeft(card)) : words.states[state];
  const checked = card.lastStatus ? words.checked(ageText(Math.max(0, now() - card.lastStatus.checkedAt), lang))
    : words.neverChecked;
  return { state, text: `${said} ${checked}${navigator.onLine ? "" : ` · ${words.offlineNote}`}` };
}

// --- home ------------------------------------------------------------------------------------------------
function renderCard(card) {
  const words = t();
  const c = card.claims;
  const shown = revealed.has(card.id);
  const { state, text } = statusWords(card);
  const rows = el("dl");
  const row = (label, ...value) => rows.append(el("dt", {}, label), el("dd", {}, ...value));
  row(words.fields.name, el("span", { className: "name" }, c.name ?? ""), " ", el("span", { className: "pinyin" }, c.name_pinyin ?? ""));
  row(words.fields.citizen_id, el("span", { testid: "citizen-id" }, shown ? c.citizen_id : mask(c.citizen_id)), " ",
    el("button", { type: "button", className: "link", "aria-pressed": String(shown), testid: "reveal-id",
      onclick: () => { shown ? revealed.delete(card.id) : revealed.add(card.id); render(); } },
    shown ? words.hide : words.reveal));
  row(words.fields.address, c.address ?? "");
  row(words.fields.document_number, c.document_number ?? "");
  row(words.fields.authority_name, c.authority_name ?? "");
  row(words.fields.valid, `${card.validFrom} – ${card.validUntil}`, " ", el("strong", {}, `(${words.daysLeft(daysLeft(card))})`));
  const actions = el("div", { className: "actions" },
    el("button", { type: "button", testid: "show-live", className: "primary", onclick: () => openShow(card.id) }, words.show),
    requestsUi?.cardButton(card),
    el("button", { type: "button", testid: "remove", className: "secondary", onclick: () => { removing = card.id; render(); } }, words.remove));
  const confirmBox = removing === card.id ? el("div", { className: "confirm", role: "alertdialog" },
    el("p", {}, words.confirmRemove),
    el("button", { type: "button", testid: "confirm-remove", className: "danger", onclick: () => removeCard(card.id) }, words.yesRemove),
    el("button", { type: "button", className: "secondary", onclick: () => { removing = null; render(); } }, words.cancel)) : null;
  return el("article", { testid: "card", className: `card state-${state}`, "data-card-id": card.id, "data-state": state },
    el("h2", {}, words.types[card.type] ?? card.type),
    el("p", { testid: "status-text", className: `status state-${state}`, role: "status" }, text),
    rows, actions, confirmBox);
}

async function renderLog() {
  const words = t();
  const entries = (await allLog()).reverse();
  const list = $("log-list");
  list.replaceChildren(...entries.map((e) => el("li", { testid: "log-entry" },
    `${new Date(e.at * 1000).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB")} · ${words.types[e.type] ?? e.type}`
      + ` ${e.documentNumber} · ${e.view === "basic" ? words.viewBasic : words.viewFull}`)));
  $("log-empty").hidden = entries.length > 0;
}

function render() {
  const words = t();
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = words[node.dataset.t];
  $("lang").textContent = words.lang;
  $("cards").replaceChildren(...cards.map(renderCard));
  present?.render();
  requestsUi?.render();
  $("no-cards").hidden = cards.length > 0;
  if (lastError) $("pickup-message").textContent = errorText(lastError);
  if (showing) renderShow();
  renderLog();
}

async function reload() {
  cards = (await allCards()).sort((a, b) => a.order - b.order);
  render();
}

async function removeCard(id) {
  await deleteCard(id);
  removing = null;
  revealed.delete(id);
  await reload();
}

// --- status ----------------------------------------------------------------------------------------------
let syncing = false;
async function syncStatus() {
  if (syncing || !navigator.onLine || !root || !cards.length) return;
  syncing = true;
  document.body.dataset.sync = "checking";
  try {
    const trust = await trustList(root, { online: true });
    for (const card of cards) {
      try {
        card.lastStatus = await checkStatus(card, trust, now());
        const held = await getCard(card.id);
        if (held) await putCard({ ...held, lastStatus: card.lastStatus });
      } catch {
        // this card's list could not be had or did not verify: its last known state stays
      }
    }
    document.body.dataset.sync = "done";
  } catch {
    document.body.dataset.sync = "failed";
  } finally {
    syncing = false;
    render();
  }
}

/** The cards' status, then the resident's requests (approved ones picked up) and notices. */
async function syncAll() {
  await syncStatus();
  if (navigator.onLine) await requestsUi.sync();
}

// --- pick up ---------------------------------------------------------------------------------------------
function openPickup(link) {
  $("pickup").hidden = false;
  $("offer-link").value = link ?? "";
  $("offer-link-row").hidden = Boolean(link);
  $("pickup-pin").focus();
}

async function submitPickup(event) {
  event.preventDefault();
  const message = $("pickup-message");
  const pin = $("pickup-pin").value.trim();
  lastError = null;
  if (!/^[0-9]{6}$/.test(pin)) {
    lastError = new WalletError("pin_format");
    message.textContent = errorText(lastError);
    return;
  }
  $("pickup-submit").disabled = true;
  message.textContent = t().picking;
  document.body.dataset.pickup = "busy";
  try {
    const url = offerUrl($("offer-link").value);
    if (!url) throw new WalletError("bad_link");
    const picked = await pickUp(url, pin);
    const trust = await trustList(root, { online: true });
    const card = await makeCard(picked, trust, now());
    await putCard(card);
    await confirm(picked);
    if (picked.recoveryCode) requestsUi.showRecovery(picked.recoveryCode); // once, never stored
    $("pickup-pin").value = "";
    $("pickup").hidden = true;
    history.replaceState(null, "", location.pathname);
    message.textContent = "";
    $("home-message").textContent = t().picked;
    await reload();
    const checked = syncStatus();
    document.body.dataset.pickup = "done";
    await checked;
  } catch (err) {
    lastError = err;
    message.textContent = errorText(err);
    document.body.dataset.pickup = "failed";
    $("pickup-pin").select();
  } finally {
    $("pickup-submit").disabled = false;
  }
}

// --- show ------------------------------------------------------------------------------------------------
function passFor(card, view) {
  if (view === "basic" && card.passes.basic) return { pass: card.passes.basic, fallback: false };
  return { pass: card.passes.full ?? card.passes.basic, fallback: view === "basic" };
}

async function openShow(cardId, view = "basic") {
  closeShow();
  showing = { cardId, view, timer: null, signedAt: null };
  $("show").hidden = false;
  $("home").hidden = true;
  const card = cards.find((c) => c.id === cardId);
  await addLog({ at: now(), cardId, type: card.type, documentNumber: card.claims.document_number ?? "", view });
  await resign();
  showing.timer = setInterval(tick, 1000);
  renderLog();
}

function closeShow() {
  if (showing?.timer) clearInterval(showing.timer);
  showing = null;
  $("show").hidden = true;
  $("home").hidden = false;
  $("live-qr").hidden = true;
  $("portrait-code").hidden = true;
}

async function switchView(view) {
  if (!showing || showing.view === view) return;
  const cardId = showing.cardId;
  await openShow(cardId, view);
}

async function resign() {
  const current = showing;
  const card = cards.find((c) => c.id === current.cardId);
  const canvas = $("live-qr");
  const { pass, fallback } = passFor(card, current.view);
  $("show-note").textContent = fallback ? t().basicMissing : current.view === "basic" ? t().basicNote : t().fullNote;
  $("show-error").textContent = "";
  if (!pass) {
    canvas.hidden = true;
    $("show-error").textContent = t().errors.no_pass;
    return;
  }
  const signedAt = now();
  try {
    const text = await liveText(pass, card.keyPair, signedAt);
    if (showing !== current) return;
    const symbol = encodeQr(text);
    const panel = $("show");
    const style = getComputedStyle(panel);
    const room = panel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    // With a portrait, both codes side by side in one frame (each half the room; the basic view too).
    const face = pictureBytes(card.claims.picture);
    const share = face ? (room - 8) / 2 : room;
    drawQr(canvas, symbol, Math.min(share, 560)); // the whole symbol and its quiet zone on screen
    drawPortrait($("portrait-code"), face, share);
    canvas.dataset.signedAt = String(signedAt);
    canvas.dataset.view = current.view;
    canvas.dataset.shownPass = fallback ? "full" : current.view;
    canvas.hidden = false;
    current.signedAt = signedAt;
  } catch (err) {
    // Never leave an old (or a static) code up as if it were live.
    canvas.hidden = true;
    $("portrait-code").hidden = true;
    current.signedAt = null;
    $("show-error").textContent = err instanceof QrTooLargeError ? t().errors.too_large : t().errors.unknown;
  }
  renderShow();
}

/** The portrait code beside the live QR, or nothing when the card has no portrait. */
function drawPortrait(canvas, face, width) {
  if (!face) {
    canvas.hidden = true;
    return;
  }
  const symbol = encodePortraitQr(face);
  drawQr(canvas, symbol, Math.min(width, 560));
  canvas.dataset.level = symbol.level;
  canvas.dataset.bytes = String(face.length);
  canvas.hidden = false;
}

function tick() {
  if (!showing || showing.signedAt === null) return;
  if (now() - showing.signedAt >= LIVE_PERIOD) resign();
  else renderShow();
}

function renderShow() {
  if (!showing) return;
  const words = t();
  const card = cards.find((c) => c.id === showing.cardId);
  if (!card) return closeShow();
  $("show-title").textContent = `${words.types[card.type]} · ${card.claims.name ?? ""}`;
  for (const view of ["basic", "full"]) {
    const button = $(`view-${view}`);
    button.setAttribute("aria-pressed", String(showing.view === view));
  }
  const left = showing.signedAt === null ? null : Math.max(0, LIVE_PERIOD - (now() - showing.signedAt));
  $("countdown").textContent = left === null ? "" : words.refreshIn(left);
  $("countdown-bar").style.width = left === null ? "0" : `${(left / LIVE_PERIOD) * 100}%`;
  const canvas = $("live-qr");
  const portrait = $("portrait-code");
  const versions = canvas.dataset.version && !canvas.hidden ? words.version(canvas.dataset.version) : "";
  $("qr-version").textContent = versions && !portrait.hidden ? `${versions} · ${words.portraitVersion(portrait.dataset.version)}` : versions;
  $("portrait-hint").hidden = portrait.hidden || canvas.hidden;
}

// --- start -----------------------------------------------------------------------------------------------
async function main() {
  if ("serviceWorker" in navigator) {
    await navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => undefined);
  }
  $("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem(LANG_KEY, lang);
    render();
  });
  $("add").addEventListener("click", () => openPickup(null));
  $("pickup-cancel").addEventListener("click", () => { $("pickup").hidden = true; lastError = null; $("pickup-message").textContent = ""; });
  $("pickup-form").addEventListener("submit", submitPickup);
  $("check").addEventListener("click", () => { requestsUi.askAgain(); syncAll(); }); // 刷新
  $("show-close").addEventListener("click", closeShow);
  $("view-basic").addEventListener("click", () => switchView("basic"));
  $("view-full").addEventListener("click", () => switchView("full"));
  window.addEventListener("online", () => { render(); syncAll(); });
  window.addEventListener("offline", render);
  present = installPresent({ lang: () => lang, cards: () => cards, typeName: (type) => t().types[type] ?? type });
  // The resident logs in to the bureau's service by presenting a card, with consent asked on the present screen.
  // The login's anchor is the office's root only when it is the one pinned here (loginanchors.js): the trust
  // list verified under it says so; with no pinned root yet (first start offline) the CA bundle alone counts.
  const login = createLogin({ consent: present.consent, onState: (state) => { document.body.dataset.login = state; },
    trust: async () => (root ? trustList(root, { online: true }) : null) });
  requestsUi = installRequests({ lang: () => lang, cards: () => cards, typeName: (type) => t().types[type] ?? type,
    trust: () => trustList(root, { online: true }), now, changed: async () => { await reload(); await syncStatus(); },
    login, consent: present.consent });
  await reload();
  const query = new URLSearchParams(location.search);
  if (query.has("openid4vp")) { // same device: a verifier's link to this wallet opens at the consent screen
    const link = query.get("openid4vp");
    history.replaceState(null, "", location.pathname);
    present.open(link);
  }
  if (query.has("credential_offer_uri")) {
    try {
      openPickup(offerUrl(`?${query.toString()}`));
    } catch (err) {
      openPickup(null);
      lastError = err;
      render();
    }
  }
  try {
    root = await loadRoot();
  } catch {
    root = null; // first start offline: status checks wait for the network
  }
  const checked = syncAll(); // sets body[data-sync] to "checking" at once when it goes online
  document.body.dataset.ready = "1";
  await checked;
  setInterval(() => { render(); syncAll(); }, 5 * 60 * 1000);
}

main();
