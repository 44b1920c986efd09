// Picking a credential up over OpenID4VCI 1.0, pre-authorized code flow, from this origin only:
// offer (by reference) -> issuer and AS metadata -> token (code + PIN) -> receive(): for every configuration
// the offer names, a fresh nonce, a key proof by the device key, the credential endpoint. receive() and
// confirm() are also the end of a renewal by the authorization code flow (codeflow.js).
import { QR_PREFIX } from "../../src/qrpass.js";
import { newDeviceKey, publicJwk, signJws } from "./devicekey.js";
import { WalletError, call, sameOrigin } from "./http.js";

export const PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
export const OFFER_SCHEME = "openid-credential-offer://";
const SUFFIXES = [["_sd_jwt", "sd_jwt"], ["_qr_basic", "qr_basic"], ["_qr", "qr"]];

/** The offer URL from what the wallet was opened with: its own ?credential_offer_uri=, or a pasted
 * openid-credential-offer:// link (or the offer's https URL itself). */
export function offerUrl(input) {
  const text = (input || "").trim();
  if (!text) return null;
  let query = null;
  if (text.startsWith(OFFER_SCHEME)) query = text.slice(OFFER_SCHEME.length).replace(/^[^?]*\?/, "");
  else if (text.startsWith("?")) query = text.slice(1);
  else {
    try {
      const url = new URL(text);
      if (url.searchParams.has("credential_offer_uri")) query = url.search.slice(1);
      else return sameOrigin(url).href;
    } catch {
      throw new WalletError("bad_link", "not an offer link");
    }
  }
  const params = new URLSearchParams(query);
  if (params.has("credential_offer")) throw new WalletError("bad_link", "offers by value are not accepted");
  const uri = params.get("credential_offer_uri");
  if (!uri) throw new WalletError("bad_link", "no credential_offer_uri");
  const url = sameOrigin(uri);
  if (url.protocol !== "https:" && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    throw new WalletError("bad_link", "the offer must be https");
  }
  return url.href;
}

/** Which kind of credential a configuration id is, and the slug it belongs to. */
export function configurationKind(id) {
  for (const [suffix, kind] of SUFFIXES) if (id.endsWith(suffix)) return { slug: id.slice(0, -suffix.length), kind };
  return null;
}

export const wellKnown = (issuer, name) => {
  const url = new URL(issuer);
  return new URL(`/.well-known/${name}${url.pathname.replace(/\/$/, "")}`, url.origin).href;
};

/** Step 1: the offer, checked to be one this wallet can redeem. */
export async function fetchOffer(url) {
  let answer;
  try {
    answer = await call(url);
  } catch (err) {
    if (err.kind === "issuer" && err.data.status === 404) throw new WalletError("offer_gone", err.detail);
    throw err;
  }
  const offer = answer.body;
  const grant = offer?.grants?.[PRE_AUTHORIZED_GRANT];
  if (!offer || typeof offer.credential_issuer !== "string" || !grant || typeof grant["pre-authorized_code"] !== "string"
      || !Array.isArray(offer.credential_configuration_ids) || !offer.credential_configuration_ids.length) {
    throw new WalletError("bad_offer", "not a pre-authorized credential offer");
  }
  sameOrigin(offer.credential_issuer);
  return { offer, code: grant["pre-authorized_code"], txCode: grant.tx_code ?? null };
}

async function redeem(tokenEndpoint, code, pin) {
  try {
    const { body } = await call(tokenEndpoint, {
      method: "POST", form: { grant_type: PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, tx_code: pin },
    });
    if (typeof body?.access_token !== "string") throw new WalletError("server", "no access token");
    return body.access_token;
  } catch (err) {
    if (err.kind === "issuer" && err.data.error === "invalid_grant") {
      const left = /wrong PIN: (\d+) attempts? left/.exec(err.detail);
      if (left) throw new WalletError("wrong_pin", err.detail, { attemptsLeft: Number(left[1]) });
      throw new WalletError("offer_gone", err.detail);
    }
    if (err.kind === "issuer" && err.data.status === 429) throw new WalletError("rate_limited", err.detail);
    throw err;
  }
}

/** The issuer's metadata (checked to name this issuer) and its authorization server's metadata. */
export async function issuerMetadata(issuer) {
  const { body: metadata } = await call(wellKnown(issuer, "openid-credential-issuer"));
  const { body: as } = await call(wellKnown(issuer, "oauth-authorization-server"));
  if (metadata?.credential_issuer !== issuer) throw new WalletError("bad_offer", "issuer metadata for another issuer");
  return { metadata, as };
}

/** An access token's credentials, shared by a first pickup (a Bearer token, pre-authorized code) and a renewal
 * (a DPoP-bound token, authorization code: codeflow.js): for every configuration in `ids` this wallet knows,
 * a fresh nonce, a key proof by `keyPair`, the credential endpoint. `auth`: the call options that authorize
 * one call ({token} or {dpop}); kept on the result for confirm(). Resolves to the raw credentials by kind. */
export async function receive(issuer, metadata, ids, keyPair, auth) {
  const jwk = await publicJwk(keyPair);
  const got = { issuer, keyPair, slug: null, sd_jwt: null, qr: null, qr_basic: null, notifications: [], recoveryCode: null };
  for (const id of ids) {
    const kind = configurationKind(id);
    const configuration = metadata.credential_configurations_supported?.[id];
    if (!kind || !configuration) continue; // a configuration this wallet does not know: not requested
    got.slug = got.slug ?? kind.slug;
    const { body: nonce } = await call(metadata.nonce_endpoint, { method: "POST" });
    const proof = await signJws(keyPair, { typ: "openid4vci-proof+jwt", alg: "ES256", jwk },
      { aud: issuer, iat: Math.floor(Date.now() / 1000), nonce: nonce.c_nonce });
    let answer;
    try {
      answer = await call(metadata.credential_endpoint, {
        method: "POST", ...auth, json: { credential_configuration_id: id, proofs: { jwt: [proof] } },
      });
    } catch (err) {
      if (err.kind === "issuer" && err.data.error === "credential_request_denied") throw new WalletError("denied", err.detail);
      throw err;
    }
    if (answer.status === 202) throw new WalletError("pending", "the application awaits approval");
    const credential = answer.body?.credentials?.[0]?.credential;
    if (typeof credential !== "string") throw new WalletError("server", "no credential in the answer");
    const isPass = configuration.format === "epermit_qr_pass";
    if (isPass !== credential.startsWith(QR_PREFIX)) throw new WalletError("server", "credential of the wrong format");
    got[kind.kind] = credential;
    if (answer.body.notification_id) got.notifications.push(answer.body.notification_id);
    if (typeof answer.body.epermit_recovery_code === "string") got.recoveryCode = answer.body.epermit_recovery_code;
  }
  if (!got.sd_jwt && !got.qr && !got.qr_basic) throw new WalletError("bad_offer", "nothing this wallet can hold");
  return { ...got, auth, notificationEndpoint: metadata.notification_endpoint };
}

/** Steps 2-5 after the PIN is typed; resolves to the raw credentials by kind and the device key pair.
 * `keyPair`: a renewal by offers keeps the card's device key (renewal.js); a first pickup makes a new one.
 * `recoveryCode`: the first pickup of a holder carries it once (epermit_recovery_code): shown, never kept. */
export async function pickUp(offerUrlText, pin, { keyPair: heldKey = null } = {}) {
  const { offer, code } = await fetchOffer(offerUrlText);
  const issuer = offer.credential_issuer;
  const { metadata, as } = await issuerMetadata(issuer);
  const token = await redeem(as.token_endpoint, code, pin);
  const keyPair = heldKey ?? await newDeviceKey();
  return receive(issuer, metadata, offer.credential_configuration_ids, keyPair, { token });
}

/** Step 6: tell the issuer the credentials are held (the officer's audit shows the pickup; a renewal's old
 * credential is retired only then). With the same authorization the credentials were received with. */
export async function confirm(picked) {
  if (!picked.notificationEndpoint) return;
  for (const id of picked.notifications) {
    await call(picked.notificationEndpoint, {
      method: "POST", ...picked.auth, json: { notification_id: id, event: "credential_accepted" },
    }).catch(() => undefined); // the credentials are held either way
  }
}
