"""The wallet's login to the bureau's online service (wallet_api.login): an OpenID4VP presentation, once.

    POST {issuer}/resident/login            -> the service's OpenID4VP request (openid4vp://…)
    answered as any verifier's (epermit.wallet.presenting: the x509_san_dns chain to a CA this wallet
    trusts, the credential with the citizen ID and a KB-JWT by the device key, direct_post)
    -> redirect_uri …/resident/login/done?response_code=…
    POST {issuer}/resident/session          + DPoP proof by the device key -> a DPoP-bound session token

Afterwards each call carries ``Authorization: DPoP <token>`` and a fresh proof (htm, htu, ath) by the same
device key. The login request must come from the service itself: its client_id must name the issuer's
own host, so a presentation for the login never goes to anyone else. A service without a verifier
identity answers 404 to /resident/login: the wallet then presents per request (``Presentation``).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from credential.encoding import b64url_encode
from credential.jose import sign_compact
from credential.jwk import public_jwk
from epermit.wallet.client import OpenId4VciClient
from epermit.wallet.errors import BadCredentialError, IssuerRefusedError
from epermit.wallet.held import HeldCredential
from epermit.wallet.presenting import Presenter
from keys import KeySigner

SESSION_MARGIN = 30  # seconds before its expiry a session is no longer used


@dataclass
class _Session:
    token: str
    key: KeySigner
    expires_at: int


def dpop_proof(key: KeySigner, method: str, url: str, *, access_token: str | None = None,
               nonce: str | None = None) -> str:
    """A DPoP proof (RFC 9449 §4.2) by the device key over ``method`` and ``url`` (and the token's ``ath``,
    and the server's ``nonce`` when it gave one: §8, §9)."""
    payload: dict[str, object] = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url.split("?")[0],
                                  "iat": int(time.time())}
    if access_token is not None:
        payload["ath"] = b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())
    if nonce is not None:
        payload["nonce"] = nonce
    return sign_compact({"typ": "dpop+jwt", "jwk": public_jwk(key.public_key)}, payload, key, with_kid=False)


class ResidentLogin:
    def __init__(self, client: OpenId4VciClient, presenter: Presenter | None) -> None:
        self.client = client
        self.presenter = presenter
        self._sessions: dict[str, _Session] = {}  # by issuer and document, for this run only

    def session(self, held: HeldCredential, passphrase: Callable[[], bytes]) -> _Session | None:
        """A live session for ``held`` (logging in when needed); None: the service has no login."""
        name = f"{held.issuer}#{held.document_number}"
        found = self._sessions.get(name)
        if found is not None and found.expires_at > time.time() + SESSION_MARGIN:
            return found
        if self.presenter is None:
            return None
        try:
            _, started = self.client.call("login", f"{held.issuer}/resident/login", method="POST", json_body={})
        except IssuerRefusedError as exc:
            if exc.status == 404:
                return None
            raise
        link = started.get("authorization_uri")
        host = urllib.parse.urlsplit(held.issuer).hostname
        if not isinstance(link, str) or started.get("client_id") != f"x509_san_dns:{host}":
            raise BadCredentialError("the login request does not come from the credential's issuer")
        secret = passphrase()
        presented = self.presenter.present(link, consent=lambda *_: True, passphrase=lambda: secret,
                                           now=int(time.time()), document=held.document_number,
                                           client_id=f"x509_san_dns:{host}")
        done = f"{held.issuer}/resident/login/done"
        if presented.redirect_uri is None or not presented.redirect_uri.startswith(done + "?"):
            raise BadCredentialError("the service did not answer the login with its redirect_uri")
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(presented.redirect_uri).query)).get("response_code")
        if not code:
            raise BadCredentialError("the login's redirect_uri holds no response_code")
        key = self.presenter.home.device_key(secret)
        url = f"{held.issuer}/resident/session"
        _, opened = self.client.call("session", url, method="POST", json_body={"response_code": code},
                                     headers=lambda: {"DPoP": dpop_proof(key, "POST", url,
                                                                         nonce=self.client.dpop_nonce(url))})
        token, expires_in = opened.get("access_token"), opened.get("expires_in")
        if not isinstance(token, str) or opened.get("token_type") != "DPoP" or type(expires_in) is not int:
            raise BadCredentialError("the service's session answer holds no DPoP access token")
        self._sessions[name] = _Session(token, key, int(time.time()) + expires_in)
        return self._sessions[name]

    def headers(self, session: _Session, method: str, url: str) -> dict[str, str]:
        return {"Authorization": f"DPoP {session.token}",
                "DPoP": dpop_proof(session.key, method, url, access_token=session.token,
                                   nonce=self.client.dpop_nonce(url))}
