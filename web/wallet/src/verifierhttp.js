// The wallet's door to online verifiers (OpenID4VP): other origins, unlike http.js's issuer calls. Every
// exchange sends no cookies, follows no HTTP redirect (§13.4: a redirect could carry the presentation to a
// URL never checked as the response_uri), and reads the answer with a size cap. The verifier must answer
// CORS for its request_uri and response_uri (epermit/employer/app.py does).
import { jsonLoads } from "../../src/bytes.js";
import { anchorsFrom } from "./x509.js";

export const MAX_ANSWER = 16 * 1024;

/** Why a request is not answered. `kind` picks the resident's message (presentwords.js); `replyTo`
 * ({responseUri, state}) is set only once the verifier is proved: only then may it be told why. */
export class PresentError extends Error {
  constructor(kind, detail = "", { error = "invalid_request", replyTo = null } = {}) {
    super(`${kind}: ${detail}`);
    this.kind = kind;
    this.detail = detail;
    this.error = error;
    this.replyTo = replyTo;
  }
}

export const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

export function httpsUrl(text, what) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new PresentError("bad_link", `${what} is not a URL`);
  }
  if (url.protocol !== "https:" || !url.hostname || url.username || url.password) {
    throw new PresentError("bad_link", `${what} must be an https URL`);
  }
  return url;
}

async function readBounded(response, limit) {
  const reader = response.body?.getReader();
  const chunks = [];
  let total = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new PresentError("verifier_error", "answer too large");
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.length; }
  return all;
}

/** One exchange with a verifier: no cookies, no redirects, bounded. CORS: the verifier must allow it. */
export async function exchange(url, { form = null, accept = "application/json", limit = MAX_ANSWER } = {}) {
  const init = { method: form ? "POST" : "GET", headers: { Accept: accept }, credentials: "omit", redirect: "error",
    cache: "no-store", referrerPolicy: "no-referrer", mode: "cors" };
  if (form) {
    init.headers["Content-Type"] = "application/x-www-form-urlencoded";
    init.body = new URLSearchParams(form).toString();
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new PresentError("unreachable", new URL(url).host);
  }
  const body = await readBounded(response, limit);
  if (!response.ok) {
    let said = null;
    try { said = jsonLoads(body, MAX_ANSWER); } catch { said = null; }
    throw new PresentError("verifier_error", typeof said?.error === "string" ? said.error : `HTTP ${response.status}`,
      { error: typeof said?.error === "string" ? said.error : "" });
  }
  return body;
}

/** /wallet/verifiers.json as served by the wallet's own origin: the operator's CA bundle (`certificates`) and,
 * in a real deployment, the anchor of the issuer's own login (`issuer_login`: loginanchors.js). */
export async function loadVerifierList() {
  let response;
  try {
    response = await fetch(new URL("verifiers.json", location.href), { credentials: "omit", cache: "no-store", redirect: "error" });
  } catch {
    throw new PresentError("offline");
  }
  if (!response.ok) throw new PresentError("no_anchors", `HTTP ${response.status}`);
  return jsonLoads(await readBounded(response, 256 * 1024), 256 * 1024);
}

/** The CAs this wallet trusts for verifiers: the operator's bundle only, never the issuer's login root. */
export async function loadVerifierAnchors() {
  const body = await loadVerifierList();
  try {
    return anchorsFrom(body?.certificates);
  } catch (err) {
    throw new PresentError("no_anchors", err.message);
  }
}
