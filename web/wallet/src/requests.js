// The resident service (wallet_api/resident.py), as the command-line wallet uses it (epermit/wallet/requests.py):
//   ask (endorse, address, deregister) authenticated by the OpenID4VP login (login.js: the card presented
//   once, with the resident's consent, then a session bound to the card's device key by DPoP), or — by a
//   service without a login — by a presentation per request of the card's SD-JWT VC with a KB-JWT over the
//   service's nonce and audience, signed by the card's non-extractable device key;
//   reportLost (citizen ID + recovery code, no card needed); sendCode / confirmCode (the SMS one-time code);
//   follow (each request this wallet made, by its bearer token); notices (the holder's messages).
// What the wallet keeps of a request — where, which, its bearer token, for which card — is in IndexedDB
// (meta "requests"), like the cards. The recovery code is never kept anywhere.
import { b64urlDecode, b64urlEncode, jsonLoads, sha256 } from "../../src/bytes.js";
import { getMeta, putMeta } from "./db.js";
import { signJws } from "./devicekey.js";
import { WalletError, call, sameOrigin } from "./http.js";

const MAX_SD_JWT = 64 * 1024;
const KEPT = "requests";
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

const endpoint = (issuer, path) => new URL(`${issuer.replace(/\/$/, "")}/resident${path}`).href;

/** SD-JWT+KB disclosing only the citizen ID (all the service reads to find the holder), bound to the
 * service's nonce and audience: `${issuer}/resident`, checked before anything is signed. */
export async function presentationFor(card) {
  if (typeof card?.sdJwt !== "string") throw new WalletError("local", "no_sd_jwt");
  const { body: challenge } = await call(endpoint(card.issuer, "/nonce"), { method: "POST" });
  const audience = endpoint(card.issuer, "");
  if (typeof challenge?.nonce !== "string" || challenge.audience !== audience) {
    throw new WalletError("server", "the service's challenge names another audience than the card's issuer");
  }
  const [jwt, ...rest] = card.sdJwt.split("~");
  const chosen = rest.slice(0, -1).filter((d) => {
    const item = jsonLoads(b64urlDecode(d), MAX_SD_JWT);
    return Array.isArray(item) && item.length === 3 && item[1] === "citizen_id";
  });
  const presented = [jwt, ...chosen, ""].join("~");
  const sdHash = b64urlEncode(await sha256(new TextEncoder().encode(presented)));
  const kb = await signJws(card.keyPair, { typ: "kb+jwt", alg: "ES256" },
    { iat: Math.floor(Date.now() / 1000), aud: audience, nonce: challenge.nonce, sd_hash: sdHash });
  return `Presentation ${presented}${kb}`;
}

export const keptRequests = async () => (await getMeta(KEPT)) ?? [];

async function keep(issuer, kind, answer, card) {
  const request = answer?.request;
  if (typeof request?.id !== "string" || !SAFE_ID.test(request.id) || typeof answer.request_token !== "string") {
    throw new WalletError("server", "the service's answer holds no request");
  }
  const kept = await keptRequests();
  kept.push({ id: request.id, token: answer.request_token, kind, issuer, cardId: card?.id ?? null,
    type: card?.type ?? null, documentNumber: card?.claims?.document_number ?? null, at: Date.now() });
  await putMeta(KEPT, kept);
  return answer;
}

/** The call options that authenticate the resident: the login session's DPoP (logging in when needed),
 * or a presentation per request where the service has no login. */
async function asResident(card, login) {
  if (typeof card?.sdJwt !== "string") throw new WalletError("local", "no_sd_jwt");
  const session = login ? await login.session(card) : null;
  return session ? login.authorization(card, session) : { authorization: await presentationFor(card) };
}

/** `send(options)` as the resident; a session the service no longer takes (expired, or its credential changed
 * since: invalid_token) is dropped and the resident logs in once more. */
async function residentCall(card, login, send) {
  const options = await asResident(card, login);
  try {
    return await send(options);
  } catch (err) {
    if (!options.dpop || err?.data?.error !== "invalid_token") throw err;
    login.forget(card);
    return send(await asResident(card, login));
  }
}

/** endorse | address ({address, district}) | deregister, for `card`; the service's 201 answer. `login`:
 * login.js createLogin()'s (null: a presentation per request). */
export async function ask(card, kind, body = {}, login = null) {
  const { body: answer } = await residentCall(card, login, (options) => call(endpoint(card.issuer, "/requests"), {
    method: "POST", json: { kind, ...body }, ...options,
  }));
  return keep(card.issuer, kind, answer, card);
}

/** From a phone holding no card: the lost phone's credentials suspended at once; a queued request. */
export async function reportLost(citizenId, recoveryCode) {
  const issuer = location.origin; // the wallet is served by the issuer it picks up from
  const { body: answer } = await call(endpoint(issuer, "/lost"), {
    method: "POST", json: { citizen_id: citizenId, recovery_code: recoveryCode },
  });
  return keep(issuer, "lost", answer, null);
}

const bearer = (kept) => ({ authorization: `Bearer ${kept.token}` });

/** One kept request as the service sees it now: {request, message}. */
export async function follow(kept) {
  return (await call(endpoint(kept.issuer, `/requests/${kept.id}`), bearer(kept))).body;
}

export async function sendCode(kept) {
  return (await call(endpoint(kept.issuer, `/requests/${kept.id}/code`), { method: "POST", json: {}, ...bearer(kept) })).body;
}

export async function confirmCode(kept, code) {
  return (await call(endpoint(kept.issuer, `/requests/${kept.id}/code/confirm`), {
    method: "POST", json: { code }, ...bearer(kept),
  })).body;
}

/** The approved request's pickup offers ({offer_uri, tx_code, …}), each a same-origin offer. */
export async function delivery(kept) {
  const { body } = await call(endpoint(kept.issuer, `/requests/${kept.id}/delivery`), { method: "POST", json: {}, ...bearer(kept) });
  const offers = Array.isArray(body?.offers) ? body.offers : [];
  for (const offer of offers) {
    if (typeof offer?.offer_uri !== "string" || typeof offer.tx_code !== "string") throw new WalletError("server", "the delivery holds no offer");
    if (typeof offer.pickup_url === "string") sameOrigin(offer.pickup_url);
  }
  return offers;
}

/** The holder's messages (newest first): with `card`'s live login session, or a presentation per request
 * where the service has no login. null: the service logs residents in and none is logged in now (a sync
 * never asks for a login; the notices come with the resident's next one). */
export async function notices(card, login = null) {
  const session = login?.live(card);
  let options;
  if (session) options = login.authorization(card, session);
  else if (login && await login.hasLogin(card.issuer)) return null;
  else options = { authorization: await presentationFor(card) };
  const { body } = await call(endpoint(card.issuer, "/notifications"), options);
  return Array.isArray(body?.notifications) ? body.notifications : [];
}
