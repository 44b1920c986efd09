// A renewal by the OpenID4VCI 1.0 authorization code flow (wallet_api/authorization), the wallet's side, as
// the command-line wallet does it (epermit/wallet/renewal.py):
//
//   1. the AS metadata of the card's issuer: its issuer, PKCE S256, the PAR, authorization and token endpoints
//   2. PAR (RFC 9126): response_type=code, client_id, redirect_uri, state, PKCE S256 (RFC 7636), the card's
//      configurations as `scope`, dpop_jkt and a DPoP proof by the card's device key (RFC 9449 §10.1): the
//      code will only be redeemed by that key
//   3. /authorize?client_id&request_uri with Accept: application/json (a fetch cannot read a redirect's
//      Location) -> {authorization_uri}: the service's OpenID4VP login request, proved and answered with the
//      card once the resident agrees (login.js) -> redirect_uri?code&state&iss
//   4. the authorization response checked before anything else: `iss` the issuer the metadata names (RFC 9207
//      §2.4: a mix-up is otherwise undetectable) and `state` ours
//   5. /token: authorization_code, code_verifier, redirect_uri, client_id, DPoP proof -> a DPoP-bound token
//   6. the credentials (pickup.js receive()), key proofs by the SAME device key, DPoP on every call; the
//      caller verifies and keeps them, then reports credential_accepted (renewal.js)
//
// The wallet never serves the redirect_uri: it reads the code from the redirect the login's answer names.
// REDIRECT_URI is therefore a reserved `.invalid` name (RFC 6761) that no one can register.
import { b64urlEncode, sha256 } from "../../src/bytes.js";
import { WalletError, call, sameOrigin } from "./http.js";
import { keyThumbprint } from "./jwkthumb.js";
import { presentTo, provedLogin } from "./login.js";
import { configurationKind, issuerMetadata, receive } from "./pickup.js";

export const CLIENT_ID = "epermit-web-wallet";
export const REDIRECT_URI = "https://wallet.epermit.invalid/callback";
const FORMATS = ["dc+sd-jwt", "epermit_qr_pass"];

const random = (n) => b64urlEncode(crypto.getRandomValues(new Uint8Array(n)));
const s256 = async (verifier) => b64urlEncode(await sha256(new TextEncoder().encode(verifier)));

/** The authorization server said no (`error`, e.g. access_denied: nothing to renew), or its answer does not
 * belong to this request (a wrong iss or state): nothing was redeemed. */
const refused = (error, description) => new WalletError("renewal_refused", description, { error });

/** The code of an authorization response, once `iss` and `state` are this request's (RFC 9207 §2.4). */
export function authorizationResponse(redirect, { issuer, state }) {
  if (typeof redirect !== "string" || !redirect.startsWith(`${REDIRECT_URI}?`)) {
    throw refused("invalid_request", "the answer does not go to this wallet's redirect_uri");
  }
  const fields = new URL(redirect).searchParams;
  if (fields.get("iss") !== issuer) throw refused("invalid_request", "the authorization response names another issuer (iss)");
  if (fields.get("state") !== state) throw refused("invalid_request", "the authorization response is for another request (state)");
  if (fields.has("error")) throw refused(fields.get("error").slice(0, 64), (fields.get("error_description") ?? "").slice(0, 300));
  const code = fields.get("code");
  if (!code) throw refused("invalid_request", "the authorization response holds no code");
  return code;
}

const endpointOf = (as, name) => {
  if (typeof as?.[name] !== "string") throw new WalletError("server", `the authorization server metadata names no ${name}`);
  return sameOrigin(as[name]).href;
};

/** Whether the card's issuer renews by the code flow (PAR in its AS metadata); else renewal.js redeems offers. */
export async function codeFlowAvailable(issuer) {
  const { as } = await issuerMetadata(issuer);
  return typeof as?.pushed_authorization_request_endpoint === "string";
}

/** Steps 1-6 for `card`; `consent` asks the resident (presentview.js); `trust` the verified trust list (the
 * login's anchor must be its root: login.js). Resolves to what receive() brought, bound to the card's own
 * device key. */
export async function renewByCode(card, consent, trust = null) {
  const issuer = card.issuer;
  const { metadata, as } = await issuerMetadata(issuer);
  if (as?.issuer !== issuer) throw new WalletError("server", "the authorization server metadata names another issuer");
  if (!(as.code_challenge_methods_supported ?? []).includes("S256")) throw new WalletError("server", "no PKCE S256");
  const par = endpointOf(as, "pushed_authorization_request_endpoint");
  const authorize = endpointOf(as, "authorization_endpoint");
  const tokenEndpoint = endpointOf(as, "token_endpoint");
  const supported = metadata.credential_configurations_supported ?? {};
  const slug = card.slug ?? card.type;
  const wanted = Object.keys(supported).filter((id) => configurationKind(id)?.slug === slug
    && FORMATS.includes(supported[id]?.format));
  if (!wanted.length) throw new WalletError("server", "the issuer offers no configuration of this card's type");
  // By scope (OpenID4VCI §5.1.2): the token names no credential_identifiers; each credential is asked by its
  // credential_configuration_id, as at a first pickup.
  const scopes = wanted.map((id) => supported[id].scope);
  if (!scopes.every((s) => typeof s === "string" && s)) throw new WalletError("server", "a configuration to renew has no scope");
  const verifier = random(48);
  const state = random(24);
  const dpop = { keyPair: card.keyPair };
  const { body: pushed } = await call(par, {
    method: "POST", dpop, form: {
      response_type: "code", client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, state,
      code_challenge: await s256(verifier), code_challenge_method: "S256", scope: scopes.join(" "),
      dpop_jkt: await keyThumbprint(card.keyPair),
    },
  });
  if (typeof pushed?.request_uri !== "string") throw new WalletError("server", "the PAR answer holds no request_uri");
  const query = new URLSearchParams({ client_id: CLIENT_ID, request_uri: pushed.request_uri });
  const { body: sent } = await call(`${authorize}?${query}`, { accept: "application/json" });
  if (typeof sent?.authorization_uri !== "string") throw new WalletError("server", "the authorization endpoint sent the wallet nowhere");
  const proved = await provedLogin(sent.authorization_uri, card, trust); // the issuer's own login, or nothing is sent
  const redirect = await presentTo(proved, card, "renewal", consent);
  const code = authorizationResponse(redirect, { issuer, state });
  const { body: answer } = await call(tokenEndpoint, {
    method: "POST", dpop, form: {
      grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: CLIENT_ID,
    },
  });
  if (typeof answer?.access_token !== "string" || answer.token_type !== "DPoP") {
    throw new WalletError("server", "the renewal's access token is not DPoP-bound");
  }
  return receive(issuer, metadata, wanted, card.keyPair, { dpop: { keyPair: card.keyPair, accessToken: answer.access_token } });
}
