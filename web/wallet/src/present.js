// Presenting a card to an online verifier: the wallet's side of OpenID4VP 1.0, as the command-line wallet
// does it (epermit/wallet/presenting.py over verifier/openid4vp): the same checks, the same refusal rules.
//
//   link (scanned QR, pasted, or /wallet/?openid4vp=…) -> the request proved (request.js) -> consent (who,
//   which claims; presentview.js) -> direct_post: only the requested disclosures with a KB-JWT by the
//   card's device key, or error=access_denied when the resident says no -> the verifier's redirect_uri.
//
// Nothing is ever sent to a verifier whose chain and signature do not check out: an unproved verifier
// hears nothing, not even a refusal. Its answers are read only for their redirect_uri (https).
import { b64urlDecode, b64urlEncode, jsonLoads, sha256 } from "../../src/bytes.js";
import { signJws } from "./devicekey.js";
import { MAX_ANSWER, PresentError, exchange, httpsUrl, isObject } from "./verifierhttp.js";

const MAX_SD_JWT = 64 * 1024;

const vctOf = (sdJwt) => {
  try {
    const payload = jsonLoads(b64urlDecode(sdJwt.split("~")[0].split(".")[1]), MAX_SD_JWT);
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
    const item = jsonLoads(b64urlDecode(d), MAX_SD_JWT);
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
