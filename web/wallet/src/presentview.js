// The presentation screen: a request scanned, pasted or opened by link (same device: /wallet/?openid4vp=…),
// who asks (the proved host and the names the verifier gives itself), which claims, agree or refuse.
// body[data-present] says where it is: reading | consent | sending | done | declined | refused.
// The same screen asks the resident's consent when the bureau's own service asks for a presentation (the
// login, login.js; a renewal's login, codeflow.js): consent() shows who asks and for which claims, and
// resolves to the resident's answer; the caller sends (or refuses) it.
import { answer, decline, matchingCard, tell } from "./present.js";
import { parseLink, readRequest } from "./request.js";
import { PresentError, loadVerifierAnchors } from "./verifierhttp.js";
import { CLAIM_LABELS, PRESENT_LABELS } from "./presentwords.js";
import { scanCamera, stopCamera } from "./scan.js";

const $ = (id) => document.getElementById(id);
const now = () => Math.floor(Date.now() / 1000);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "testid") node.dataset.testid = v;
    else if (k === "className") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Wire the screen; `lang()` and `cards()` read the wallet's current language and held cards. */
export function installPresent({ lang, cards, typeName }) {
  let pending = null; // {request, query, card} while the resident decides
  let failure = null;
  let outcome = null; // "done" | "declined"
  let asking = null; // {resolve, purpose} while the bureau's own login waits for the resident (consent())
  const words = () => PRESENT_LABELS[lang()];

  function setState(state) {
    document.body.dataset.present = state;
    render();
  }

  function render() {
    const w = words();
    for (const node of document.querySelectorAll("[data-tp]")) node.textContent = w[node.dataset.tp];
    const state = document.body.dataset.present ?? "";
    $("vp-start").hidden = !["", "refused", "idle"].includes(state);
    const message = $("vp-message");
    message.textContent = state === "reading" ? w.reading : state === "sending" ? w.sending : "";
    message.hidden = !message.textContent;
    const error = $("vp-error");
    error.textContent = failure ? (w.errors[failure.kind] ?? w.errors.unknown) : "";
    error.dataset.kind = failure?.kind ?? "";
    error.hidden = !failure;
    $("vp-done").hidden = !outcome;
    $("vp-done").dataset.outcome = outcome ?? "";
    $("vp-done").textContent = outcome ? w[outcome] : "";
    $("vp-purpose").textContent = asking ? w.purpose[asking.purpose] ?? "" : "";
    $("vp-purpose").hidden = !asking;
    const box = $("vp-request");
    box.hidden = !pending || !["consent", "sending"].includes(state);
    if (!pending) return;
    const { request, query, card } = pending;
    const names = [request.nameZh, request.nameEn].filter(Boolean);
    $("vp-verifier").replaceChildren(
      el("strong", { className: "name" }, names.length ? names.join(" · ") : request.host), " ",
      el("span", { className: "host", testid: "vp-host" }, request.host),
      el("p", { className: "hint" }, w.proved(request.host)));
    $("vp-claims").replaceChildren(...query.claims.map((claim) => {
      const [zh, en] = CLAIM_LABELS[claim] ?? [claim, claim];
      return el("li", { "data-claim": claim }, lang() === "zh" ? `${zh} ${en}` : `${en} ${zh}`);
    }));
    $("vp-card").textContent = `${typeName(card.type)} · ${card.claims?.document_number ?? ""}`;
    $("vp-accept").disabled = state !== "consent";
    $("vp-decline").disabled = state !== "consent";
  }

  async function start(text) {
    stopCamera($("vp-video"));
    pending = null;
    failure = null;
    outcome = null;
    setState("reading");
    try {
      const link = parseLink(text);
      const anchors = await loadVerifierAnchors();
      const request = await readRequest(link, anchors, now());
      pending = { request, ...matchingCard(request, cards()) };
      setState("consent");
      $("vp-accept").focus();
    } catch (err) {
      // A proved verifier is told why (no matching card: access_denied), as `epermit wallet present` does;
      // one whose chain or signature failed hears nothing.
      if (err instanceof PresentError && err.replyTo) await tell(err);
      failure = err instanceof PresentError ? err : new PresentError("unknown", String(err?.message ?? err));
      pending = null;
      setState("refused");
    }
  }

  /** The wallet's own login (login.js, codeflow.js): the proved request on this screen; resolves to true when
   * the resident agrees, false when they refuse or go back. Nothing is sent from here. */
  function consent({ request, query, card, purpose }) {
    asking?.resolve(false); // one question at a time: an older one is refused
    stopCamera($("vp-video"));
    failure = null;
    outcome = null;
    pending = { request, query, card };
    return new Promise((resolve) => {
      asking = { resolve, purpose };
      $("home").hidden = true;
      $("present").hidden = false;
      setState("consent");
      $("present").scrollIntoView();
      $("vp-accept").focus();
    });
  }

  function answered(agree) {
    const { resolve } = asking;
    asking = null;
    pending = null;
    $("present").hidden = true;
    $("home").hidden = false;
    document.body.dataset.present = "";
    render();
    resolve(agree);
  }

  async function respond(agree) {
    if (!pending || document.body.dataset.present !== "consent") return;
    if (asking) return answered(agree);
    const { request, query, card } = pending;
    setState("sending");
    try {
      const redirect = agree ? await answer(request, query, card, now()) : await decline(request);
      pending = null;
      outcome = agree ? "done" : "declined";
      setState(outcome);
      // After a presentation the verifier's own page takes over (§8.2); after a refusal the resident stays
      // here, as `epermit wallet present` does (it follows no redirect_uri after access_denied).
      if (agree && redirect) location.assign(redirect);
    } catch (err) {
      failure = err instanceof PresentError ? err : new PresentError("unknown", String(err?.message ?? err));
      pending = null;
      setState("refused");
    }
  }

  async function scan() {
    failure = null;
    render();
    let text;
    try {
      text = await scanCamera($("vp-video"));
    } catch {
      $("vp-message").textContent = words().noCamera;
      $("vp-message").hidden = false;
      return;
    }
    if (text) await start(text);
  }

  function open(link = null) {
    $("home").hidden = true;
    $("present").hidden = false;
    failure = null;
    outcome = null;
    pending = null;
    document.body.dataset.present = "idle";
    render();
    if (link) start(link);
  }

  function close() {
    if (asking) return answered(false); // going back is a refusal
    stopCamera($("vp-video"));
    pending = null;
    $("present").hidden = true;
    $("home").hidden = false;
    document.body.dataset.present = "";
  }

  $("vp-open").addEventListener("click", () => open());
  $("vp-scan").addEventListener("click", scan);
  $("vp-link-form").addEventListener("submit", (event) => { event.preventDefault(); start($("vp-link").value); });
  $("vp-accept").addEventListener("click", () => respond(true));
  $("vp-decline").addEventListener("click", () => respond(false));
  $("vp-close").addEventListener("click", close);
  return { open, render, consent };
}
