"""A renewal by the OpenID4VCI 1.0 authorization code flow: the wallet's side (`epermit wallet refresh`).

    1. the AS metadata (RFC 8414) of the credential's issuer: PAR required, S256, iss in the response
    2. PAR (RFC 9126): client_id, redirect_uri, response_type=code, state, PKCE S256 (RFC 7636), the
       credential configurations of the held credential's type as ``scope``, and a DPoP
       proof by the device key (RFC 9449 §10.1): the code will only be redeemed by that key
    3. /authorize?client_id&request_uri -> 303 to the AS's OpenID4VP request: answered with the held
       credential (epermit.wallet.presenting: the request's chain to a CA this wallet trusts, a KB-JWT by
       the device key); the answer sends the wallet to redirect_uri?code&state&iss
    4. the authorization response is checked before anything else is done: ``iss`` must be the issuer the
       metadata names (RFC 9207 §2.4: a mix-up attack is otherwise undetectable) and ``state`` ours
    5. /token: authorization_code, code_verifier, redirect_uri, client_id, DPoP proof -> a DPoP-bound token
    6. /credential for each configuration, proofs by the same device key, DPoP per call; the new credential
       is verified, kept, and reported credential_accepted — the service then retires the old one.

The wallet never serves the redirect_uri: it reads the code from the redirect the verifier's answer names.
REDIRECT_URI is therefore a reserved ``.invalid`` name (RFC 6761) that no one can register.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import urllib.error
import urllib.parse
import urllib.request

from credential.encoding import b64url_encode
from credential.jwk import thumbprint
from epermit.wallet.client import OpenId4VciClient, _text, _well_known
from epermit.wallet.errors import BadCredentialError, IssuerRefusedError, IssuerUnreachableError
from epermit.wallet.held import HeldCredential
from epermit.wallet.links import https_url
from epermit.wallet.login import dpop_proof
from epermit.wallet.presenting import Presenter
from keys import KeySigner

CLIENT_ID = "epermit-cli-wallet"
REDIRECT_URI = "https://wallet.epermit.invalid/callback"


# What the resident reads first (zh-CN), before the service's own words (RFC 6749 keeps those ASCII).
REFUSALS_ZH = {"access_denied": "没有可续期的申请：签注或地址变更尚未批准",
               "invalid_request": "续期应答不属于本次请求，未领取任何证件"}


class RenewalRefusedError(BadCredentialError):
    """The authorization server said no (``error``, e.g. access_denied: nothing to renew), or its answer does
    not belong to this request (a wrong ``iss`` or ``state``): nothing was redeemed."""

    def __init__(self, error: str, description: str) -> None:
        zh = REFUSALS_ZH.get(error, "续期被拒绝")
        super().__init__(f"{zh}。renewal refused: {description} ({error})")
        self.error = error


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def s256(verifier: str) -> str:
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def authorization_response(redirect: str, *, issuer: str, state: str) -> str:
    """The code of an authorization response, once ``iss`` and ``state`` are this request's (RFC 9207 §2.4)."""
    if not redirect.startswith(REDIRECT_URI + "?"):
        raise RenewalRefusedError("invalid_request", "the answer does not go to this wallet's redirect_uri")
    fields = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))
    if fields.get("iss") != issuer:  # before the code or the error is believed: a mix-up otherwise
        raise RenewalRefusedError("invalid_request", "the authorization response names another issuer (iss)")
    if not hmac.compare_digest(fields.get("state", ""), state):
        raise RenewalRefusedError("invalid_request", "the authorization response is for another request (state)")
    if "error" in fields:
        raise RenewalRefusedError(fields["error"][:64], fields.get("error_description", "")[:300])
    code = fields.get("code")
    if not code:
        raise RenewalRefusedError("invalid_request", "the authorization response holds no code")
    return code


class Renewer:
    def __init__(self, client: OpenId4VciClient, presenter: Presenter) -> None:
        self.client = client
        self.presenter = presenter

    def _location(self, url: str) -> str:
        """GET ``url`` without following its redirect: the Location the AS sends the wallet to."""
        https_url(url, what="the authorization endpoint", allow_http=self.client.allow_http)
        opener = urllib.request.build_opener(_NoRedirects(), urllib.request.HTTPSHandler(context=self.client.tls))
        try:
            with opener.open(url, timeout=self.client.timeout):
                pass
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location") if exc.code in (302, 303) else None
            if isinstance(location, str) and location:
                return location
            body = exc.read(16 * 1024).decode("utf-8", "replace")
            raise IssuerRefusedError("authorize", exc.code, "", body[:300]) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise IssuerUnreachableError(url, str(exc)) from exc
        raise BadCredentialError("authorize: the authorization server did not send the wallet on")

    def renew(self, held: HeldCredential, device_key: KeySigner, passphrase: bytes, *, now: int) -> HeldCredential:
        issuer = held.issuer
        server = self.client.get("authorization server metadata", _well_known(issuer, "oauth-authorization-server"))
        if server.get("issuer") != issuer:
            raise BadCredentialError("the authorization server metadata names another issuer")
        if "S256" not in (server.get("code_challenge_methods_supported") or []):
            raise BadCredentialError("the authorization server does not support PKCE S256")
        par = _text(server, "pushed_authorization_request_endpoint", "authorization server metadata")
        authorize = _text(server, "authorization_endpoint", "authorization server metadata")
        token_endpoint = _text(server, "token_endpoint", "authorization server metadata")
        metadata = self.client.get("issuer metadata", _well_known(issuer, "openid-credential-issuer"))
        if metadata.get("credential_issuer") != issuer:
            raise BadCredentialError("the issuer metadata names another credential issuer")
        supported = metadata.get("credential_configurations_supported") or {}
        wanted = [name for name in supported if isinstance(name, str)
                  and name.startswith(f"{held.credential_type.slug}_")]
        formats = self.client.formats(metadata, wanted)
        keys = self.client.issuer_keys(issuer)
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
        # By scope (OpenID4VCI §5.1.2): the token then names no credential_identifiers, and each credential is
        # asked by its credential_configuration_id, as at a first pickup.
        scopes = [str(supported[c].get("scope")) for c in formats if isinstance(supported[c].get("scope"), str)]
        if len(scopes) != len(formats):
            raise BadCredentialError("the issuer metadata gives no scope for a configuration to renew")
        form = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "state": state,
                "code_challenge": s256(verifier), "code_challenge_method": "S256",
                "scope": " ".join(scopes),
                "dpop_jkt": b64url_encode(thumbprint(device_key.public_key))}
        _, pushed = self.client.call("par", par, method="POST", form=form,
                                     headers=lambda: {"DPoP": dpop_proof(device_key, "POST", par,
                                                                         nonce=self.client.dpop_nonce(par))})
        request_uri = _text(pushed, "request_uri", "par")
        link = self._location(authorize + "?" + urllib.parse.urlencode({"client_id": CLIENT_ID,
                                                                         "request_uri": request_uri}))
        own = f"x509_san_dns:{urllib.parse.urlsplit(issuer).hostname}"
        # Only to the issuer's own host, checked before anything is presented (Presenter.present).
        presented = self.presenter.present(link, consent=lambda *_: True, passphrase=lambda: passphrase, now=now,
                                           document=held.document_number, client_id=own)
        if presented.request.client_id != own:
            raise BadCredentialError("the authorization server's login request came from another host")
        code = authorization_response(presented.redirect_uri or "", issuer=issuer, state=state)
        _, answer = self.client.call("token (authorization code)", token_endpoint, method="POST", form={
            "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": REDIRECT_URI, "client_id": CLIENT_ID},
            headers=lambda: {"DPoP": dpop_proof(device_key, "POST", token_endpoint,
                                                nonce=self.client.dpop_nonce(token_endpoint))})
        token = _text(answer, "access_token", "token")
        if answer.get("token_type") != "DPoP":
            raise BadCredentialError("the renewal's access token is not DPoP-bound")

        def authorization(method: str, url: str) -> dict[str, str]:
            return {"Authorization": f"DPoP {token}",
                    "DPoP": dpop_proof(device_key, method, url, access_token=token, nonce=self.client.dpop_nonce(url))}

        return self.client.receive(issuer, metadata, formats, device_key, keys=keys, authorization=authorization)


