// The wallet's one door to the network. Every issuer call goes through `call`, so a sender-constrained
// token (DPoP, RFC 9449) is one change here: `authorize` adds the headers a request needs (a fresh proof by
// the device key on every attempt), and a `use_dpop_nonce` challenge is answered in one place: the call is
// sent once more with the server's DPoP-Nonce (RFC 9449 §8, §9), which is then kept for the next proofs.
// Only the wallet's own origin is ever contacted: the page's Content-Security-Policy says so too.
import { dpopProof } from "./dpop.js";

export const MAX_RESPONSE = 256 * 1024;

/** A failure the resident is told about in words: `kind` picks the message (i18n.js `errors`). */
export class WalletError extends Error {
  constructor(kind, detail = "", data = {}) {
    super(`${kind}: ${detail}`);
    this.kind = kind;
    this.detail = detail;
    this.data = data;
  }
}

/** The only URLs the wallet fetches: https, or http on loopback (a development server), same origin. */
export function sameOrigin(url) {
  let parsed;
  try {
    parsed = new URL(url, location.href);
  } catch {
    throw new WalletError("bad_link", "not a URL");
  }
  if (parsed.origin !== location.origin) throw new WalletError("foreign_issuer", parsed.origin);
  return parsed;
}

let dpopNonce = null; // the server's newest DPoP-Nonce (one origin: one server)

/** The Authorization and DPoP headers of one attempt. `dpop`: {keyPair, accessToken?} signs a proof over
 * this method and URL (with ath when there is a token: `Authorization: DPoP <token>`); else a Bearer token. */
async function authorize(headers, token, dpop, method, url) {
  if (dpop) {
    headers.set("DPoP", await dpopProof(dpop.keyPair, method, url, { accessToken: dpop.accessToken ?? null, nonce: dpopNonce }));
    if (dpop.accessToken) headers.set("Authorization", `DPoP ${dpop.accessToken}`);
  } else if (token) {
    headers.set("Authorization", `Bearer ${token}`);
  }
}

function parsedJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

async function readBounded(response) {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_RESPONSE) {
      await reader.cancel();
      throw new WalletError("server", "response too large");
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

/** The error code of an answer: its JSON `error`, or the DPoP challenge's (RFC 9449 §7.1). */
function errorCode(status, body, response) {
  if (typeof body?.error === "string") return body.error;
  const challenge = /error="([a-z_]+)"/.exec(response.headers.get("WWW-Authenticate") || "");
  return challenge ? challenge[1] : `http_${status}`;
}

function asIssuerError(status, body, response, dpop) {
  const error = errorCode(status, body, response);
  const description = typeof body?.error_description === "string" ? body.error_description : "";
  // The resident's Chinese beside the ASCII description (wallet_api/error_words.py): shown first.
  const descriptionZh = typeof body?.error_description_zh === "string" ? body.error_description_zh : null;
  const challenge = response.headers.get("WWW-Authenticate") || "";
  if (!dpop && (error === "use_dpop_nonce" || /^DPoP\b/i.test(challenge))) {
    throw new WalletError("dpop_required", description, { status }); // a bearer call where the issuer wants DPoP
  }
  // retryAfter: a throttled answer (429) says how long to wait; the resident is told plainly.
  throw new WalletError("issuer", description, { status, error, descriptionZh,
    retryAfter: Number(response.headers.get("Retry-After")) || null });
}

async function attempt(target, { method, form, json, token, accept, authorization, dpop }) {
  const headers = new Headers({ Accept: accept });
  let body;
  if (form) {
    headers.set("Content-Type", "application/x-www-form-urlencoded");
    body = new URLSearchParams(form).toString();
  } else if (json) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(json);
  }
  await authorize(headers, token, dpop, method, target.href);
  if (authorization) headers.set("Authorization", authorization);
  let response;
  try {
    response = await fetch(target, { method, headers, body, cache: "no-store", credentials: "omit", redirect: "error" });
  } catch {
    throw new WalletError("offline", target.pathname);
  }
  const text = await readBounded(response);
  return { response, text };
}

/** One exchange with the issuer: `form` (urlencoded) or `json` body, optional access token, or another
 * `authorization` header value (the resident service's `Presentation …`, a request's `Bearer …`), or `dpop`
 * ({keyPair, accessToken?}: a DPoP proof by the device key, and the DPoP-bound token if any).
 * Resolves to {status, body}; a network failure is `offline`, an error answer an `issuer` WalletError. */
export async function call(url, { method = "GET", form = null, json = null, token = null, accept = "application/json",
  authorization = null, dpop = null } = {}) {
  const target = sameOrigin(url);
  const options = { method, form, json, token, accept, authorization, dpop };
  let { response, text } = await attempt(target, options);
  const offered = response.headers.get("DPoP-Nonce");
  if (dpop && offered && !response.ok && errorCode(response.status, parsedJson(text), response) === "use_dpop_nonce") {
    dpopNonce = offered; // RFC 9449 §8.2: one retry, with the nonce the server named
    ({ response, text } = await attempt(target, options));
  }
  if (response.headers.get("DPoP-Nonce")) dpopNonce = response.headers.get("DPoP-Nonce");
  const parsed = parsedJson(text);
  if (!response.ok) asIssuerError(response.status, parsed, response, dpop);
  return { status: response.status, body: parsed, text };
}

/** A public signed document (trust list, status list) as text. */
export async function fetchText(url, accept = "application/jwt") {
  // A status list is served as a JWT or a CWT by Accept: name the JWT, or the server may answer 406.
  const { text } = await call(url, { method: "GET", accept });
  return text;
}
