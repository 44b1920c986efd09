// The wallet's one door to the network. Every issuer call goes through `call`, so a sender-constrained
// token (DPoP, RFC 9449) is one change here: `authorize` adds the headers a request needs, and a
// `use_dpop_nonce` / `WWW-Authenticate: DPoP` challenge is recognised in one place (`asIssuerError`).
// Only the wallet's own origin is ever contacted: the page's Content-Security-Policy says so too.

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

// Where DPoP will go: today an access token is a plain Bearer token.
function authorize(headers, token) {
  if (token) headers.set("Authorization", `Bearer ${token}`);
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

function asIssuerError(status, body, response) {
  const error = typeof body?.error === "string" ? body.error : `http_${status}`;
  const description = typeof body?.error_description === "string" ? body.error_description : "";
  const challenge = response.headers.get("WWW-Authenticate") || "";
  if (error === "use_dpop_nonce" || /^DPoP\b/i.test(challenge)) {
    throw new WalletError("dpop_required", description, { status }); // the lead adds DPoP here
  }
  // retryAfter: a throttled answer (429) says how long to wait; the resident is told plainly.
  throw new WalletError("issuer", description, { status, error, retryAfter: Number(response.headers.get("Retry-After")) || null });
}

/** One exchange with the issuer: `form` (urlencoded) or `json` body, optional access token, or another
 * `authorization` header value (the resident service's `Presentation …`, a request's `Bearer …`).
 * Resolves to {status, body}; a network failure is `offline`, an error answer an `issuer` WalletError. */
export async function call(url, { method = "GET", form = null, json = null, token = null, accept = "application/json",
  authorization = null } = {}) {
  const target = sameOrigin(url);
  const headers = new Headers({ Accept: accept });
  let body;
  if (form) {
    headers.set("Content-Type", "application/x-www-form-urlencoded");
    body = new URLSearchParams(form).toString();
  } else if (json) {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify(json);
  }
  authorize(headers, token);
  if (authorization) headers.set("Authorization", authorization);
  let response;
  try {
    response = await fetch(target, { method, headers, body, cache: "no-store", credentials: "omit", redirect: "error" });
  } catch {
    throw new WalletError("offline", target.pathname);
  }
  const text = await readBounded(response);
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) asIssuerError(response.status, parsed, response);
  return { status: response.status, body: parsed, text };
}

/** A public signed document (trust list, status list) as text. */
export async function fetchText(url, accept = "application/jwt") {
  // A status list is served as a JWT or a CWT by Accept: name the JWT, or the server may answer 406.
  const { text } = await call(url, { method: "GET", accept });
  return text;
}
