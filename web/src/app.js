// The landlord's page: sync when online, scan (camera or photo), verify offline, show the verdict.
// Nothing scanned is stored: the verdict lives in the DOM until the next scan.
import { prepareZXingModule, readBarcodesFromImageData } from "zxing-wasm/reader";
import { ETHNICITY } from "./ethnicity.js";
import { LABELS, ageText, headline } from "./i18n.js";
import { isPortraitCode } from "./portraitcode.js";
import { QR_PREFIX } from "./qrpass.js";
import { loadRoot, loadState, sync } from "./store.js";
import { verifyText } from "./verify.js";

const $ = (id) => document.getElementById(id);
const now = () => Math.floor(Date.now() / 1000);
let lang = (navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en";
let root = null;
let state = { trust: null, lists: new Map(), syncedAt: null };
let lastVerdict = null;
let stream = null;
let portraitUrl = null;  // the blob URL of the face on screen, revoked with its verdict

prepareZXingModule({ overrides: { locateFile: (path) => new URL(path, document.baseURI).href } });

/** The symbols of one frame: the pass's text (null if none) and the portrait codes' raw bytes (a binary
 *  symbol's text is mangled: its `bytes` are what was encoded). Up to 4 symbols: a pass, a portrait code,
 *  and room for whatever else is in the picture. */
async function decodeImage(imageData) {
  const found = await readBarcodesFromImageData(imageData, { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 4 });
  const valid = found.filter((s) => s.isValid !== false && s.bytes?.length);
  const portraits = valid.filter((s) => isPortraitCode(s.bytes)).map((s) => Uint8Array.from(s.bytes));
  const texts = valid.filter((s) => !isPortraitCode(s.bytes)).map((s) => s.text);
  const text = texts.find((t) => t.startsWith(QR_PREFIX)) ?? texts[0] ?? null;
  return { text, portraits };
}

function setSyncState(kind) {
  const t = LABELS[lang];
  const el = $("sync");
  el.dataset.state = kind;
  const oldest = Math.min(...[...state.lists.values()].map((l) => l.iat));
  const age = Number.isFinite(oldest) ? ` · ${t.updated(ageText(Math.max(0, now() - oldest), lang))}` : "";
  el.textContent = { syncing: t.syncing, synced: t.synced, offline: t.offline, none: t.noData }[kind] + age;
}

async function refresh() {
  state = await loadState(root, now());
  setSyncState(state.trust ? "offline" : "none");
  if (!navigator.onLine) return;
  setSyncState("syncing");
  try {
    await sync(location.origin, root, now());
    state = await loadState(root, now());
    setSyncState("synced");
  } catch {
    state = await loadState(root, now());
    setSyncState(state.trust ? "offline" : "none");
  }
}

function render() {
  const t = LABELS[lang];
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t[el.dataset.t];
  $("lang").textContent = lang === "zh" ? "English" : "中文";
  if (lastVerdict) showVerdict(lastVerdict);
  if ($("sync").dataset.state) setSyncState($("sync").dataset.state);
}

function showVerdict(v) {
  lastVerdict = v;
  const t = LABELS[lang];
  const key = headline(v.result);
  const box = $("verdict");
  box.hidden = false;
  box.dataset.result = v.result;
  box.dataset.live = v.live === null ? "" : String(v.live);
  box.dataset.view = v.view ?? "";
  box.className = `verdict ${key === "VALID" ? "ok" : key === "SUSPENDED" || key === "STATUS_UNKNOWN" || key === "NOT_SET_UP" ? "warn" : "bad"}`;
  $("verdict-title").textContent = t.results[key] ?? key;
  // A person reads what the result means and what to do; the technical reason (proof times, claim names)
  // stays on the element for whoever debugs, never in the text.
  box.dataset.reason = v.reason;
  $("verdict-mode").textContent = key === "VALID" ? (v.live ? t.live : t.static) : (t.advice[key] ?? key);
  $("verdict-code").textContent = v.result;
  showPortrait(v, t);
  const rows = $("holder");
  rows.replaceChildren();
  if (v.claims) {
    const c = v.claims;
    // A basic pass carries no personal field: a row is shown only for what the pass states.
    const add = (label, value, present = true) => {
      if (!present) return;
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = value;
      rows.append(dt, dd);
    };
    const has = (name) => c[name] !== undefined && c[name] !== null;
    if (v.view) add(t.view, t.views[v.view]);
    add(t.fields.name, `${c.name}  ${c.name_pinyin}`);
    add(t.fields.type, t.types[c.type]);
    add(t.fields.sex, t.sex[c.sex] ?? String(c.sex), has("sex"));
    const ethnicity = ETHNICITY[c.ethnicity];
    add(t.fields.ethnicity, ethnicity ? ethnicity[lang === "zh" ? 0 : 1] : String(c.ethnicity), has("ethnicity"));
    add(t.fields.birth_date, c.birth_date, has("birth_date"));
    // Data minimisation: a landlord compares the masked number with the physical card (as the CLI does).
    add(t.fields.citizen_id, maskCitizenId(c.citizen_id), has("citizen_id"));
    add(t.fields.address, c.address, has("address"));
    add(t.fields.document_number, c.document_number);
    add(t.fields.authority_name, v.authorityName || c.authority_name);
    add(t.fields.valid, `${c.valid_from} – ${c.valid_until}`);
  }
  $("verdict-age").textContent = v.statusAgeSeconds === null ? "" : t.updated(ageText(v.statusAgeSeconds, lang));
}

/** The face is shown only when verified against the pass's signed digest; otherwise the note says why not. */
function showPortrait(v, t) {
  const img = $("portrait");
  const note = $("portrait-note");
  $("verdict").dataset.portrait = v.portrait;
  if (v.portrait === "verified" && v.portraitImage) {
    if (!portraitUrl) portraitUrl = URL.createObjectURL(new Blob([v.portraitImage], { type: v.portraitMediaType }));
    img.src = portraitUrl;
    img.alt = t.portraitAlt;
    img.hidden = false;
  } else {
    img.hidden = true;
    img.removeAttribute("src");
  }
  const signsFace = Boolean(v.claims?.portrait_sha256);
  const noteKey = v.portrait === "absent" && !signsFace ? null : v.portrait;
  note.hidden = noteKey === null;
  note.textContent = noteKey === null ? "" : t.portrait[noteKey];
  note.dataset.portrait = v.portrait;
}

/** A new scan starts from a blank screen: the previous person's verdict and any message go at once. */
function clearVerdict() {
  lastVerdict = null;
  if (portraitUrl) URL.revokeObjectURL(portraitUrl);
  portraitUrl = null;
  $("portrait").hidden = true;
  $("portrait").removeAttribute("src");
  $("portrait-note").hidden = true;
  $("verdict").hidden = true;
  $("holder").replaceChildren();
  $("message").textContent = "";
}

function maskCitizenId(id) {
  return typeof id === "string" && id.length === 18 ? `${id.slice(0, 6)}********${id.slice(14)}` : id;
}

async function handleText(text, portraits = []) {
  clearVerdict();
  showVerdict(await verifyText(text, state, now(), portraits));
}

async function scanCamera() {
  const t = LABELS[lang];
  clearVerdict();
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch {
    $("message").textContent = t.noCamera;
    return;
  }
  const video = $("video");
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  // A frame may catch the pass before the denser portrait code: a few more frames are tried for both
  // before the pass is judged alone (then the portrait is "absent", never guessed).
  let passOnly = null;
  let extraFrames = 0;
  while (stream) {
    if (video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0);
      const frame = await decodeImage(ctx.getImageData(0, 0, canvas.width, canvas.height));
      const both = Boolean(frame.text && frame.portraits.length);
      if (frame.text && !both) passOnly = frame;
      if (both || (passOnly && extraFrames++ >= 12)) {
        stopCamera();
        const found = both ? frame : passOnly;
        await handleText(found.text, found.portraits);
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

function stopCamera() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  $("video").hidden = true;
}

async function scanFile(file) {
  clearVerdict();
  let text = null;
  let portraits = [];
  try {
    const bitmap = await createImageBitmap(file);
    const canvas = document.createElement("canvas");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0);
    ({ text, portraits } = await decodeImage(ctx.getImageData(0, 0, canvas.width, canvas.height)));
  } catch {
    text = null;  // not an image the browser can read: to the landlord, a photo without a code
  }
  $("file").value = "";
  if (text === null) {
    $("message").textContent = LABELS[lang].noQr;
    return;
  }
  await handleText(text, portraits);
}

async function main() {
  if ("serviceWorker" in navigator) {
    await navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => undefined);
  }
  $("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    render();
  });
  $("scan").addEventListener("click", () => (stream ? stopCamera() : scanCamera()));
  $("file").addEventListener("change", (e) => e.target.files[0] && scanFile(e.target.files[0]));
  // Pasted text (from a chat or an email) is checked exactly as a scanned code is; it is not kept.
  $("paste-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("paste").value;
    $("paste").value = "";
    await handleText(text);
  });
  window.addEventListener("online", refresh);
  render();
  root = await loadRoot(document.baseURI);
  await refresh();
  setInterval(() => navigator.onLine && refresh(), 5 * 60 * 1000);
  document.body.dataset.ready = "1";
}

main();
