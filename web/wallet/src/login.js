// The resident's login to the bureau's online service by an OpenID4VP 1.0 presentation (wallet_api/login), as
// the command-line wallet does it (epermit/wallet/login.py), once per sitting instead of once per request:
//
//   POST {issuer}/resident/login          -> {authorization_uri, client_id, …}: the service's own request,
//                                            its client_id must be x509_san_dns:<the card's issuer host>
//   the request proved (request.js: the x5c chain to a CA of /wallet/verifiers.json's bundle, or to the
//   office's root it names for this login when that is the root the wallet pinned: loginanchors.js; the
//   signature), then
//   the resident sees who asks and for which claims on the presentation screen and agrees or refuses
//   direct_post: the SD-JWT VC with the asked claims and a KB-JWT by the card's device key (present.js)
//                                         -> redirect_uri {issuer}/resident/login/done?response_code=…
//   POST {issuer}/resident/session        + DPoP proof by the device key -> a DPoP-bound session (900 s)
//
// Afterwards every resident call carries `Authorization: DPoP <token>` and a fresh proof by the same key
// (http.js). Sessions live in this page's memory only, by card: a closed wallet logs in again. A service
// without a login (404) is remembered, and the caller presents per request instead (requests.js).
import { answer, decline, matchingCard, tell } from "./present.js";
import { X509_SAN_DNS, parseLink, readRequest } from "./request.js";
import { WalletError, call } from "./http.js";
import { loginAnchors } from "./loginanchors.js";
import { PresentError, loadVerifierList } from "./verifierhttp.js";
import { UntrustedChainError } from "./x509.js";

const SESSION_MARGIN = 30; // seconds before its expiry a session is no longer used
const nowSeconds = () => Math.floor(Date.now() / 1000);
const endpoint = (issuer, path) => new URL(`${issuer.replace(/\/$/, "")}/resident${path}`).href;

/** The only client_id the bureau's own login may have: the card's issuer host (x509_san_dns). */
export const serviceClientId = (issuer) => `${X509_SAN_DNS}:${new URL(issuer).hostname}`;

/** The login request behind `link`, proved to be the card issuer's own and to ask for `card`'s type:
 * {request, query}. Its chain must lead to a CA of the operator's bundle or to the office's root, which counts
 * for this login only when it is the root this wallet pinned (loginanchors.js; `trust`: the verified trust
 * list, or null). A proved request that asks for something else is told why (access_denied). */
export async function provedLogin(link, card, trust) {
  let refusal = null;
  try {
    const parsed = parseLink(link);
    if (parsed.clientId !== serviceClientId(card.issuer)) throw new PresentError("untrusted", "not the issuer's own login");
    let anchors;
    try {
      ({ anchors, refusal } = await loginAnchors(await loadVerifierList(), { clientId: parsed.clientId, card, trust }));
    } catch (err) {
      if (err instanceof UntrustedChainError) throw new PresentError("no_anchors", err.reason);
      throw err;
    }
    const request = await readRequest(parsed, anchors, nowSeconds());
    return { request, query: matchingCard(request, [card]).query };
  } catch (err) {
    if (!(err instanceof PresentError)) throw err;
    await tell(err); // only a proved verifier has a replyTo: an unproved one hears nothing
    if (err.kind === "unreachable" || err.kind === "offline") throw new WalletError("offline", err.detail);
    // An unproved login whose list named the office's root for it, unusable here: the resident hears why.
    const untrusted = err.kind === "untrusted" && refusal ? refusal : "login_untrusted";
    const why = { no_anchors: "login_no_anchors", no_match: "login_no_match" }[err.kind] ?? untrusted;
    throw new WalletError("local", why);
  }
}

/** Ask the resident (`consent`: the presentation screen's) and answer `proved` with `card`, or refuse it:
 * resolves to the service's redirect_uri; a refusal is WalletError("local", "login_refused"). */
export async function presentTo({ request, query }, card, purpose, consent) {
  if (!(await consent({ request, query, card, purpose }))) {
    await decline(request).catch(() => null); // the service hears access_denied; the refusal stands anyway
    throw new WalletError("local", "login_refused");
  }
  try {
    return await answer(request, query, card, nowSeconds());
  } catch (err) {
    if (err instanceof PresentError && err.kind === "unreachable") throw new WalletError("offline", err.detail);
    if (err instanceof PresentError) throw new WalletError("issuer", err.detail, { error: err.error || "login_failed" });
    throw err;
  }
}

/** The wallet's logins. `consent(…)` asks the resident (presentview.js); `onState(state)` is told
 * consent | busy | done | refused | failed (body[data-login]); `trust()` the verified trust list (or null). */
export function createLogin({ consent, onState = () => undefined, trust = async () => null }) {
  const sessions = new Map(); // card id -> {token, expiresAt}
  const logins = new Map(); // issuer -> whether its service has a login

  function live(card) {
    const found = sessions.get(card?.id);
    return found && found.expiresAt > nowSeconds() + SESSION_MARGIN ? found : null;
  }

  /** Whether the card's service logs residents in; learned from a login attempt, else from its AS metadata
   * (the wallet API offers the code flow exactly when its login verifier is set up). */
  async function hasLogin(issuer) {
    if (!logins.has(issuer)) {
      const url = new URL("/.well-known/oauth-authorization-server", issuer).href;
      const { body } = await call(url);
      logins.set(issuer, typeof body?.pushed_authorization_request_endpoint === "string");
    }
    return logins.get(issuer);
  }

  async function logIn(card) {
    let started;
    try {
      ({ body: started } = await call(endpoint(card.issuer, "/login"), { method: "POST", json: {} }));
    } catch (err) {
      if (err.kind === "issuer" && err.data.status === 404) {
        logins.set(card.issuer, false);
        return null;
      }
      throw err;
    }
    logins.set(card.issuer, true);
    if (typeof started?.authorization_uri !== "string" || started.client_id !== serviceClientId(card.issuer)) {
      throw new WalletError("local", "login_untrusted"); // the login request does not come from the card's issuer
    }
    const proved = await provedLogin(started.authorization_uri, card, await trust());
    onState("consent");
    const redirect = await presentTo(proved, card, "login", consent);
    onState("busy");
    const done = `${endpoint(card.issuer, "/login/done")}?`;
    if (typeof redirect !== "string" || !redirect.startsWith(done)) {
      throw new WalletError("server", "the service did not answer the login with its redirect_uri");
    }
    const code = new URL(redirect).searchParams.get("response_code");
    if (!code) throw new WalletError("server", "the login's redirect_uri holds no response_code");
    const { body: opened } = await call(endpoint(card.issuer, "/session"), {
      method: "POST", json: { response_code: code }, dpop: { keyPair: card.keyPair },
    });
    if (typeof opened?.access_token !== "string" || opened.token_type !== "DPoP" || !Number.isSafeInteger(opened.expires_in)) {
      throw new WalletError("server", "the service's session answer holds no DPoP access token");
    }
    const session = { token: opened.access_token, expiresAt: nowSeconds() + opened.expires_in };
    sessions.set(card.id, session);
    return session;
  }

  /** A live session for `card`, logging in (with the resident's consent) when needed; null: no login here. */
  async function session(card) {
    const found = live(card);
    if (found) return found;
    if (logins.get(card.issuer) === false) return null;
    try {
      const opened = await logIn(card);
      onState(opened ? "done" : "");
      return opened;
    } catch (err) {
      onState(err?.detail === "login_refused" ? "refused" : "failed");
      throw err;
    }
  }

  /** The call options of a session (http.js `dpop`). */
  const authorization = (card, found) => ({ dpop: { keyPair: card.keyPair, accessToken: found.token } });

  return { session, live, hasLogin, authorization, forget: (card) => sessions.delete(card?.id) };
}
