// Presenting a card to an online verifier: the wallet's side of OpenID4VP 1.0, as the command-line wallet
// does it (epermit/wallet/presenting.py over verifier/openid4vp): the same checks, the same refusal rules.
//
//   link (scanned QR, pasted, or /wallet/?openid4vp=…) -> GET request_uri -> the x5c chain to a CA this
//   wallet trusts (x509.js), its leaf naming the client_id's host, then the ES256 signature, then the
//   payload -> consent (who, which claims) -> direct_post: only the requested disclosures with a KB-JWT by
//   the device key, or error=access_denied when the resident says no -> the verifier's redirect_uri.
//
// Nothing is ever sent to a verifier whose chain and signature do not check out: an unproved verifier
// hears nothing, not even a refusal. The verifier's answers are read with a size cap and only for their
// redirect_uri (https); no HTTP redirect is followed (§13.4: it could carry the presentation elsewhere).
import { b64urlDecode, b64urlEncode, jsonLoads, sha256 } from "../../src/bytes.js";
import { verifyEs256 } from "../../src/ec.js";
import { parseDcql, DcqlError, SD_JWT_FORMAT } from "./dcql.js";
import { signJws } from "./devicekey.js";
import { UntrustedChainError, anchorsFrom, validateChain } from "./x509.js";

export const URI_SCHEME = "openid4vp";
export const X509_SAN_DNS = "x509_san_dns";
export const REQUEST_TYP = "oauth-authz-req+jwt";
export const REQUEST_MEDIA_TYPE = "application/oauth-authz-req+jwt";
export const WALLET_PARAMETER = "openid4vp"; // /wallet/?openid4vp=<the link, URL-encoded>: the same-device door
const MAX_LINK = 4096;
const MAX_REQUEST_OBJECT = 64 * 1024;
const MAX_ANSWER = 16 * 1024;
const MAX_NONCE = 256;
const SKEW = 300;
const FORBIDDEN_HEADERS = ["jku", "x5u", "jwk", "x5t", "x5t#S256", "crit"];
const HOST = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

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

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function httpsUrl(text, what) {
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

/** The form a link's query has: each parameter once, strictly percent-encoded (Python's parse_qsl strict). */
function queryOf(text) {
  const at = text.indexOf("?");
  const query = at < 0 ? "" : text.slice(at + 1).split("#")[0];
  const pairs = new Map();
  const parts = query ? query.split("&") : [];
  if (parts.length > 8) throw new PresentError("bad_link", "too many parameters");
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 1) throw new PresentError("bad_link", "the link's query cannot be read");
    let name, value;
    try {
      [name, value] = [part.slice(0, eq), part.slice(eq + 1)].map((s) => decodeURIComponent(s.replaceAll("+", " ")));
    } catch {
      throw new PresentError("bad_link", "the link's query cannot be read");
    }
    if (pairs.has(name)) throw new PresentError("bad_link", "a parameter is repeated");
    pairs.set(name, value);
  }
  return pairs;
}

/** {clientId, requestUri} of an openid4vp:// or https link, or of this wallet's /wallet/?openid4vp=<link>. */
export function parseLink(input) {
  let text = typeof input === "string" ? input.trim() : "";
  if (!text || text.length > MAX_LINK || !/^[!-~]+$/.test(text)) throw new PresentError("bad_link", "not one line of ASCII");
  const scheme = text.slice(0, text.indexOf(":")).toLowerCase();
  if (scheme !== URI_SCHEME && scheme !== "https" && scheme !== "http") throw new PresentError("bad_link", "not a request link");
  let query = queryOf(text);
  if (scheme !== URI_SCHEME && query.has(WALLET_PARAMETER) && query.size === 1) { // the wallet's own same-device link
    text = query.get(WALLET_PARAMETER);
    if (!text.startsWith(`${URI_SCHEME}:`) && !text.startsWith("https:")) throw new PresentError("bad_link", "not a request link");
    query = queryOf(text);
  } else if (scheme === "http") {
    throw new PresentError("bad_link", "not a request link");
  }
  if (query.has("request") || query.has("dcql_query")) throw new PresentError("bad_link", "only signed requests by reference");
  if (!query.has("client_id") || !query.has("request_uri")) throw new PresentError("bad_link", "client_id and request_uri");
  // A wallet without wallet_metadata fetches with GET also when post is offered (§5.1).
  if (!["get", "post"].includes(query.get("request_uri_method") ?? "get")) throw new PresentError("bad_link", "request_uri_method");
  httpsUrl(query.get("request_uri"), "request_uri");
  return { clientId: query.get("client_id"), requestUri: query.get("request_uri") };
}

/** The DNS name of an x509_san_dns client_id: the only kind of verifier this wallet answers. */
export function clientHost(clientId) {
  const at = clientId.indexOf(":");
  const host = clientId.slice(at + 1);
  if (at < 0 || clientId.slice(0, at) !== X509_SAN_DNS) throw new PresentError("untrusted", `only ${X509_SAN_DNS} verifiers`);
  if (!HOST.test(host)) throw new PresentError("untrusted", "the client_id names no DNS host");
  return host;
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
async function exchange(url, { form = null, accept = "application/json", limit = MAX_ANSWER } = {}) {
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

/** The CAs this wallet trusts for verifiers: served by the wallet's own origin (the operator's bundle). */
export async function loadVerifierAnchors() {
  let response;
  try {
    response = await fetch(new URL("verifiers.json", location.href), { credentials: "omit", cache: "no-store", redirect: "error" });
  } catch {
    throw new PresentError("offline");
  }
  if (!response.ok) throw new PresentError("no_anchors", `HTTP ${response.status}`);
  const body = jsonLoads(await readBounded(response, 256 * 1024), 256 * 1024);
  try {
    return anchorsFrom(body?.certificates);
  } catch (err) {
    throw new PresentError("no_anchors", err.message);
  }
}

function parseJws(token) {
  const parts = token.split(".");
  if (parts.length !== 3) throw new PresentError("bad_request", "not a compact JWS");
  try {
    const header = jsonLoads(b64urlDecode(parts[0]), MAX_REQUEST_OBJECT);
    const payload = jsonLoads(b64urlDecode(parts[1]), MAX_REQUEST_OBJECT);
    if (!isObject(header) || !isObject(payload)) throw new Error("not objects");
    return { header, payload, input: new TextEncoder().encode(`${parts[0]}.${parts[1]}`), signature: b64urlDecode(parts[2]) };
  } catch {
    throw new PresentError("bad_request", "the request object cannot be read");
  }
}

const text = (payload, name, limit = MAX_LINK) => {
  const value = payload[name];
  if (typeof value !== "string" || !value || value.length > limit) throw new PresentError("bad_request", `no ${name}`);
  return value;
};

function checkFormats(metadata) {
  const formats = isObject(metadata) ? metadata.vp_formats_supported : undefined;
  if (formats === undefined) return;
  const sdJwt = isObject(formats) ? formats[SD_JWT_FORMAT] : undefined;
  if (!isObject(sdJwt)) throw new PresentError("bad_request", "no dc+sd-jwt", { error: "vp_formats_not_supported" });
  for (const [name, ours] of [["kb-jwt_alg_values", ["ES256"]], ["sd-jwt_alg_values", ["ES256", "EdDSA"]]]) {
    const accepted = sdJwt[name];
    if (accepted !== undefined && !(Array.isArray(accepted) && ours.some((a) => accepted.includes(a)))) {
      throw new PresentError("bad_request", `${name} excludes ours`, { error: "vp_formats_not_supported" });
    }
  }
}

function provedRequest(payload, { clientId, host, responseUri, state, now }) {
  for (const [name, expected] of [["response_type", "vp_token"], ["response_mode", "direct_post"]]) {
    if (payload[name] !== expected) throw new PresentError("bad_request", `${name} must be ${expected}`);
  }
  if ("redirect_uri" in payload) throw new PresentError("bad_request", "redirect_uri with direct_post");
  if ("presentation_definition" in payload || "scope" in payload) throw new PresentError("bad_request", "only dcql_query");
  const { iat, exp, nbf } = payload;
  if (!Number.isSafeInteger(iat) || iat > now + SKEW) throw new PresentError("bad_request", "iat");
  if (exp !== undefined && (!Number.isSafeInteger(exp) || exp <= now - SKEW)) throw new PresentError("expired", "exp");
  if (nbf !== undefined && (!Number.isSafeInteger(nbf) || nbf > now + SKEW)) throw new PresentError("bad_request", "nbf");
  let queries;
  try {
    queries = parseDcql(payload.dcql_query);
  } catch (err) {
    if (err instanceof DcqlError) throw new PresentError("bad_request", err.message);
    throw err;
  }
  checkFormats(payload.client_metadata);
  const meta = isObject(payload.client_metadata) ? payload.client_metadata : {};
  const name = (v) => (typeof v === "string" && v ? v : null);
  return {
    clientId, host, nameZh: name(meta["client_name#zh-CN"]), nameEn: name(meta.client_name),
    nonce: text(payload, "nonce", MAX_NONCE), state, responseUri, queries,
    expiresAt: Number.isSafeInteger(exp) ? exp : null,
  };
}

/** The proved request behind `link` (parseLink's), or a PresentError. `anchors`: loadVerifierAnchors(). */
export async function verifyRequestObject(token, link, anchors, now) {
  const host = clientHost(link.clientId);
  const jws = parseJws(token.trim());
  if (jws.header.typ !== REQUEST_TYP) throw new PresentError("bad_request", `typ ${jws.header.typ}`);
  if (jws.header.alg !== "ES256") throw new PresentError("bad_request", "alg"); // pinned: never the token's choice
  for (const name of FORBIDDEN_HEADERS) if (name in jws.header) throw new PresentError("bad_request", `header ${name}`);
  if (!("x5c" in jws.header)) throw new PresentError("untrusted", "the request carries no x5c chain");
  let key;
  try {
    key = await validateChain(jws.header.x5c, { host, anchors, now });
  } catch (err) {
    if (err instanceof UntrustedChainError) throw new PresentError("untrusted", err.reason);
    throw err;
  }
  try {
    await verifyEs256(key, jws.signature, jws.input);
  } catch {
    throw new PresentError("untrusted", "the request object's signature does not verify");
  }
  const { payload } = jws;
  if (payload.client_id !== link.clientId) throw new PresentError("untrusted", "another client_id");
  const responseUri = text(payload, "response_uri");
  if (httpsUrl(responseUri, "response_uri").hostname !== host) throw new PresentError("untrusted", "response_uri on another host");
  const state = text(payload, "state", MAX_NONCE);
  try {
    return provedRequest(payload, { clientId: link.clientId, host, responseUri, state, now });
  } catch (err) {
    if (err instanceof PresentError) err.replyTo = { responseUri, state }; // proved: it may hear why
    throw err;
  }
}

/** Fetch and prove the request behind `link`. */
export async function readRequest(link, anchors, now) {
  const body = await exchange(link.requestUri, { accept: REQUEST_MEDIA_TYPE, limit: MAX_REQUEST_OBJECT });
  let token;
  try {
    token = new TextDecoder("ascii", { fatal: true }).decode(body);
  } catch {
    throw new PresentError("bad_request", "not a compact JWT");
  }
  if (!/^[!-~\s]*$/.test(token)) throw new PresentError("bad_request", "not a compact JWT");
  return verifyRequestObject(token, link, anchors, now);
}

const vctOf = (sdJwt) => {
  try {
    const payload = jsonLoads(b64urlDecode(sdJwt.split("~")[0].split(".")[1]), MAX_REQUEST_OBJECT);
    return typeof payload?.vct === "string" ? payload.vct : null;
  } catch {
    return null;
  }
};

/** The request's single query and the first held card that answers it (matching_query). */
export function matchingCard(request, cards) {
  if (request.queries.length !== 1) {
    throw new PresentError("no_match", "one credential only", { error: "access_denied", replyTo: replyOf(request) });
  }
  const [query] = request.queries;
  const card = cards.find((c) => typeof c.sdJwt === "string" && query.vctValues.includes(vctOf(c.sdJwt)));
  if (!card) throw new PresentError("no_match", "no card of that type", { error: "access_denied", replyTo: replyOf(request) });
  return { query, card };
}

const replyOf = (request) => ({ responseUri: request.responseUri, state: request.state });

/** SD-JWT+KB with exactly the requested claims (credential.sdjwt.present): aud = client_id with its prefix. */
export async function presentation(card, query, request, now) {
  const [jwt, ...rest] = card.sdJwt.split("~");
  const chosen = rest.slice(0, -1).filter((d) => {
    const item = jsonLoads(b64urlDecode(d), MAX_REQUEST_OBJECT);
    return Array.isArray(item) && item.length === 3 && query.claims.includes(item[1]);
  });
  const presented = [jwt, ...chosen, ""].join("~");
  const sdHash = b64urlEncode(await sha256(new TextEncoder().encode(presented)));
  const kb = await signJws(card.keyPair, { typ: "kb+jwt", alg: "ES256" },
    { iat: now, aud: request.clientId, nonce: request.nonce, sd_hash: sdHash });
  return presented + kb;
}

async function post(request, form) {
  const body = await exchange(request.responseUri, { form });
  let answer = null;
  try { answer = body.length ? jsonLoads(body, MAX_ANSWER) : null; } catch { answer = null; }
  const redirect = isObject(answer) ? answer.redirect_uri : null;
  if (typeof redirect !== "string") return null; // §8.2: only a JSON object with redirect_uri means anything
  try {
    return httpsUrl(redirect, "redirect_uri").href;
  } catch {
    return null;
  }
}

/** Consent given: the presentation posted; resolves to the verifier's redirect_uri or null. */
export async function answer(request, query, card, now) {
  const vpToken = JSON.stringify({ [query.id]: [await presentation(card, query, request, now)] });
  return post(request, { vp_token: vpToken, state: request.state });
}

/** Consent refused: access_denied, to a proved verifier only (the request was proved to get here). */
export async function decline(request) {
  return post(request, { error: "access_denied", error_description: "the holder declined", state: request.state });
}

/** A proved verifier is told why its request is refused (§8.5); best effort: the refusal stands anyway. */
export async function tell(err) {
  if (!(err instanceof PresentError) || !err.replyTo) return;
  try {
    await exchange(err.replyTo.responseUri, { form: { error: err.error, error_description: err.detail.slice(0, 200),
      state: err.replyTo.state } });
  } catch {
    // nothing: the resident already sees why
  }
}
