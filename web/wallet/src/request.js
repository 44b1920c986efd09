// An OpenID4VP 1.0 request read and proved, as verifier/openid4vp/authorization.py does for the command-line
// wallet: the link (openid4vp://, an https link, or this wallet's /wallet/?openid4vp=<link>), the request
// object fetched with GET, its x5c chain to a CA this wallet trusts (x509.js) with the leaf naming the
// client_id's host, then the ES256 signature (pinned, never the token's choice), then the payload and its
// DCQL query (dcql.js). A verifier is "proved" only past the signature: only then may it be told why its
// request is refused (PresentError.replyTo); before, it hears nothing.
import { b64urlDecode, jsonLoads } from "../../src/bytes.js";
import { verifyEs256 } from "../../src/ec.js";
import { DcqlError, SD_JWT_FORMAT, parseDcql } from "./dcql.js";
import { PresentError, exchange, httpsUrl, isObject } from "./verifierhttp.js";
import { UntrustedChainError, validateChain } from "./x509.js";

export const URI_SCHEME = "openid4vp";
export const X509_SAN_DNS = "x509_san_dns";
export const REQUEST_TYP = "oauth-authz-req+jwt";
export const REQUEST_MEDIA_TYPE = "application/oauth-authz-req+jwt";
export const WALLET_PARAMETER = "openid4vp"; // /wallet/?openid4vp=<the link, URL-encoded>: the same-device door
const MAX_LINK = 4096;
const MAX_REQUEST_OBJECT = 64 * 1024;
const MAX_NONCE = 256;
const SKEW = 300;
const FORBIDDEN_HEADERS = ["jku", "x5u", "jwk", "x5t", "x5t#S256", "crit"];
const HOST = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

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
