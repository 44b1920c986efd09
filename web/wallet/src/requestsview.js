// The residents' requests on screen: "办事 Services" per card (endorse, address change, deregister with a
// final confirmation), "My requests" with each request's state, the lost phone from a phone holding no card
// (citizen ID + recovery code, then the SMS code or an officer's approval), the recovery code shown once.
// Every answer shown is the service's own (Chinese and English, with the next step). A request is made after
// the resident's login (login.js: their consent on the presentation screen) where the service has one. An
// approved request is picked up when the wallet syncs (renewal.js: the code flow's login asks consent too; a
// renewal the resident refused waits until they tap 刷新). body[data-svc] / [data-lost] / [data-requests] /
// [data-login] say where each is (busy | done | failed; the login also consent | refused), for people reading
// the page with a screen reader and for tests.
import { ask, confirmCode, follow, keptRequests, reportLost, sendCode } from "./requests.js";
import { renew } from "./renewal.js";
import { REQUEST_LABELS, requestErrorText, serviceWords } from "./requestswords.js";
import { installNotices } from "./notices.js";

const $ = (id) => document.getElementById(id);
/** What a test or a screen reader reads of a failure: the service's error, else the wallet's own reason. */
const errorCode = (err) => err?.data?.error ?? (err?.kind === "local" ? err.detail : err?.kind) ?? "";
const CITIZEN_ID = /^[0-9]{17}[0-9X]$/;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "testid") node.dataset.testid = v;
    else if (k === "onclick") node.addEventListener("click", v);
    else if (k === "className") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Wire the screens. `cards()` the held cards, `trust()` the verified trust list (online), `changed()` after
 * cards were added or removed (the home screen reloads and checks their status). */
export function installRequests({ lang, cards, trust, changed, typeName, now, login, consent }) {
  const words = () => REQUEST_LABELS[lang()];
  let open = null; // the card id the services panel is for
  let form = null; // null | "address" | "deregister"
  let result = null; // {message, state} | {error}
  let rows = []; // [{kept, request, message}]
  let lost = { step: "form", result: null, error: null, kept: null };
  let recovery = null; // shown once, in memory only
  let districts = [];
  const notices = installNotices({ lang, cards, login });
  const declined = new Set(); // request ids whose renewal login the resident refused: not asked again by itself

  function setBody(key, value) { document.body.dataset[key] = value; }

  // --- services per card -----------------------------------------------------------------------------
  function cardButton(card) {
    return el("button", { type: "button", testid: "svc-open", className: "secondary",
      onclick: () => { open = card.id; form = null; result = null; loadDistricts(); render(); $("services").scrollIntoView(); } },
    words().services);
  }

  async function loadDistricts() {
    if (districts.length) return;
    try {
      const response = await fetch(new URL("districts.json", document.baseURI));
      if (response.ok) districts = (await response.json()).districts ?? [];
    } catch {
      districts = [];
    }
    render();
  }

  async function submit(kind, body = {}) {
    const card = cards().find((c) => c.id === open);
    if (!card) return;
    setBody("svc", "busy");
    result = { pending: true };
    render();
    let outcome = "failed";
    try {
      const answer = await ask(card, kind, body, login);
      result = { message: answer.message, state: answer.request?.state ?? "" };
      form = null;
      outcome = "done";
      render();
      await sync(); // an approval at once (or a deregistration) shows, and is picked up, now
    } catch (err) {
      result = { error: requestErrorText(err, lang()), code: errorCode(err) };
    }
    render();
    setBody("svc", outcome);
  }

  function sendAddress(event) {
    event.preventDefault();
    const address = $("svc-new-address").value.trim();
    const district = $("svc-district").value;
    if (!address || !district) {
      result = { error: words().errors[address ? "no_district" : "no_address"], code: "local" };
      return render();
    }
    submit("address", { address, district });
  }

  function renderServices() {
    const w = words();
    const panel = $("services");
    const card = cards().find((c) => c.id === open);
    panel.hidden = !card;
    if (!card) return;
    const parts = [el("h2", {}, `${w.servicesTitle} · ${typeName(card.type)} ${card.claims?.document_number ?? ""}`)];
    const actions = el("div", { className: "actions" },
      card.type === "residence_permit" ? el("button", { type: "button", className: "primary", testid: "svc-endorse",
        onclick: () => submit("endorse") }, w.endorse) : null,
      el("button", { type: "button", className: "secondary", testid: "svc-address", onclick: () => { form = "address"; result = null; render(); } }, w.address),
      el("button", { type: "button", className: "secondary", testid: "svc-deregister", onclick: () => { form = "deregister"; result = null; render(); } }, w.deregister));
    parts.push(el("p", { className: "hint" }, w.endorseHint), actions);
    if (form === "address") {
      const city = (card.claims?.district ?? "").slice(0, 4);
      const choices = districts.filter((d) => !city || d.code.startsWith(city));
      const select = el("select", { id: "svc-district", testid: "svc-district" }, el("option", { value: "" }, "—"),
        ...choices.map((d) => el("option", { value: d.code }, lang() === "zh" ? `${d.zh} ${d.en}` : `${d.en} ${d.zh}`)));
      const kept = $("svc-district")?.value;
      if (kept) select.value = kept;
      const address = $("svc-new-address")?.value ?? "";
      const input = el("input", { id: "svc-new-address", testid: "svc-new-address", type: "text", autocomplete: "street-address" });
      input.value = address;
      const formNode = el("form", { id: "svc-address-form", novalidate: "" },
        el("p", {}, el("label", { for: "svc-new-address" }, w.newAddress), input),
        el("p", {}, el("label", { for: "svc-district" }, w.newDistrict), select),
        el("button", { type: "submit", className: "primary", testid: "svc-address-send" }, w.sendAddress));
      formNode.addEventListener("submit", sendAddress);
      parts.push(formNode);
    }
    if (form === "deregister") {
      parts.push(el("div", { className: "confirm", role: "alertdialog" }, el("p", {}, w.deregisterWarn),
        el("button", { type: "button", className: "danger", testid: "svc-deregister-confirm", onclick: () => submit("deregister") }, w.yesDeregister),
        el("button", { type: "button", className: "secondary", onclick: () => { form = null; render(); } }, w.cancel)));
    }
    if (result) {
      const text = result.pending ? w.sending : result.error ?? serviceWords(result.message, lang());
      parts.push(el("p", { testid: "svc-result", className: result.error ? "message" : "answer", role: "status",
        dataset: { state: result.state ?? "", error: result.code ?? "" } }, text));
    }
    parts.push(el("button", { type: "button", className: "secondary", testid: "svc-close",
      onclick: () => { open = null; result = null; form = null; render(); } }, w.close));
    const focus = document.activeElement?.id;
    panel.replaceChildren(...parts);
    if (focus && $(focus) && panel.contains($(focus))) $(focus).focus();
  }

  // --- my requests -----------------------------------------------------------------------------------
  function renderRequests() {
    const w = words();
    const list = $("my-requests");
    list.replaceChildren(...rows.map(({ kept, request, message, error, code }) => {
      const state = request?.state ?? "unknown";
      return el("li", { testid: "request-row", className: `request state-${state}`,
        dataset: { state, kind: kept.kind, requestId: kept.id } },
      el("strong", {}, `${w.kinds[kept.kind] ?? kept.kind} · ${w.states[state] ?? state}`),
      kept.documentNumber ? el("span", { className: "hint" }, ` ${kept.documentNumber}`) : null,
      el("p", { className: "answer" }, serviceWords(message, lang())),
      error ? el("p", { className: "message", testid: "request-error", dataset: { error: code ?? "" } }, error) : null);
    }));
    $("no-requests").hidden = rows.length > 0;
  }

  let syncing = null;
  /** Each kept request as the service sees it; approved ones picked up; then the holder's notices. */
  function sync() {
    syncing = syncing ?? (async () => {
      setBody("requests", "busy");
      let renewed = false;
      try {
        const kept = await keptRequests();
        const seen = [];
        for (const k of kept) {
          let now1 = null;
          let renewing = false;
          try {
            now1 = await follow(k);
            if (now1?.request?.state === "approved" && now1.request.kind !== "deregister" && !declined.has(k.id)) {
              renewing = true;
              $("home-message").textContent = words().renewing;
              const { recoveryCode } = await renew(k, await trust(), now(), { consent });
              if (recoveryCode) recovery = recoveryCode;
              renewed = true;
              $("home-message").textContent = words().renewed;
              seen.push({ kept: k, ...(await follow(k)) });
            } else {
              seen.push({ kept: k, ...now1 });
            }
          } catch (err) {
            if (err?.detail === "login_refused") declined.add(k.id); // it waits for the resident's 刷新
            const text = requestErrorText(err, lang());
            if (renewing) $("home-message").textContent = text;
            seen.push({ kept: k, ...(now1 ?? { request: rows.find((r) => r.kept.id === k.id)?.request ?? null, message: null }),
              error: text, code: errorCode(err) });
          }
        }
        rows = seen.reverse(); // newest first
        if (!lost.kept) { // reopened later: a lost-phone request still waiting can take its SMS code
          const waiting = rows.find((r) => r.kept.kind === "lost" && r.request?.state === "queued");
          if (waiting) lost = { step: "code", result: waiting, error: null, kept: waiting.kept };
        }
        if (lost.kept) lost.result = rows.find((r) => r.kept.id === lost.kept.id) ?? lost.result;
        if (renewed) await changed();
        await notices.sync();
        setBody("requests", "done");
      } catch {
        setBody("requests", "failed");
      } finally {
        syncing = null;
        render();
      }
    })();
    return syncing;
  }

  // --- lost phone ------------------------------------------------------------------------------------
  async function lostStep(action, step) {
    setBody("lost", "busy");
    lost.error = null;
    render();
    let outcome = "failed";
    try {
      const answer = await action();
      if (answer?.request || answer?.message) lost.result = { request: answer.request ?? lost.result?.request, message: answer.message };
      lost.step = step;
      outcome = "done";
      render();
      if (answer?.request?.state === "approved") await sync(); // the re-delivery is picked up now
    } catch (err) {
      lost.error = { text: requestErrorText(err, lang()), code: err?.data?.error ?? err?.kind ?? "", status: err?.data?.status ?? 0 };
    }
    render();
    setBody("lost", outcome);
  }

  function submitLost(event) {
    event.preventDefault();
    const citizenId = $("lost-citizen-id").value.trim().toUpperCase();
    const code = $("lost-recovery-code").value.trim().toUpperCase();
    if (!CITIZEN_ID.test(citizenId)) {
      lost.error = { text: words().errors.bad_citizen_id, code: "local", status: 0 };
      return render();
    }
    lostStep(async () => {
      const answer = await reportLost(citizenId, code);
      lost.kept = (await keptRequests()).find((k) => k.id === answer.request.id);
      $("lost-recovery-code").value = ""; // not kept on screen either
      return answer;
    }, "code");
  }

  function renderLost() {
    const w = words();
    $("lost-start").textContent = w.lostStart;
    $("lost-title").textContent = w.lostTitle;
    $("lost-hint").textContent = w.lostHint;
    $("lost-citizen-id-label").textContent = w.citizenId;
    $("lost-recovery-code-label").textContent = w.recoveryCode;
    $("lost-submit").textContent = w.lostSubmit;
    $("lost-send-code").textContent = w.sendCode;
    $("lost-code-label").textContent = w.codeLabel;
    $("lost-confirm").textContent = w.confirmCode;
    $("lost-wait").textContent = w.waitOfficer;
    $("lost-form").hidden = lost.step !== "form";
    $("lost-code-step").hidden = lost.step !== "code" || lost.result?.request?.state !== "queued";
    const result = $("lost-result");
    result.textContent = serviceWords(lost.result?.message, lang());
    result.dataset.state = lost.result?.request?.state ?? "";
    result.hidden = !result.textContent;
    const error = $("lost-error");
    error.textContent = lost.error?.text ?? "";
    error.dataset.error = lost.error?.code ?? "";
    error.dataset.status = String(lost.error?.status ?? "");
    error.hidden = !lost.error;
  }

  // --- the recovery code, once ------------------------------------------------------------------------
  function renderRecovery() {
    const w = words();
    const box = $("recovery");
    box.hidden = !recovery;
    $("recovery-title").textContent = w.recoveryTitle;
    $("recovery-note").textContent = w.recoveryNote;
    $("recovery-done").textContent = w.recoveryDone;
    // Each group unbroken, a line break only after a dash: the code is copied by hand, group by group.
    const groups = (recovery ?? "").split("-").map((g) => el("span", { className: "group" }, g));
    $("recovery-code").replaceChildren(...groups.flatMap((g, i) => (i ? ["-", g] : [g])));
  }

  function render() {
    const w = words();
    $("my-requests-title").textContent = w.myRequests;
    $("no-requests").textContent = w.noRequests;
    renderServices();
    renderRequests();
    renderLost();
    renderRecovery();
    notices.render();
  }

  $("lost-start").addEventListener("click", () => { $("lost").hidden = false; $("lost-citizen-id").focus(); render(); });
  $("lost-close").addEventListener("click", () => { $("lost").hidden = true; });
  $("lost-form").addEventListener("submit", submitLost);
  $("lost-send-code").addEventListener("click", () => lostStep(() => sendCode(lost.kept), "code"));
  $("lost-code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("lost-code").value.trim();
    lostStep(() => confirmCode(lost.kept, code), "code");
  });
  $("recovery-done").addEventListener("click", () => { recovery = null; render(); });

  return {
    cardButton, render, sync,
    /** The resident tapped 刷新: a renewal they refused to log in for is asked again. */
    askAgain() { declined.clear(); },
    /** The first pickup's recovery code: on screen until the resident says it is written down; never stored. */
    showRecovery(code) { recovery = code; render(); $("recovery").scrollIntoView(); },
  };
}
