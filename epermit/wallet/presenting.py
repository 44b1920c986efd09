"""Presenting a held credential to an online verifier: the wallet's side of OpenID4VP 1.0 (`wallet present`).

    link -> GET request_uri (application/oauth-authz-req+jwt) -> who asks, proved by an x509_san_dns chain to
    a CA this wallet trusts (verifier.openid4vp.authorization) -> the matching credential -> the resident's
    consent (who, which claims, zh-CN and en) -> direct_post to the response_uri: the requested claims only
    with a KB-JWT by the device key, or ``access_denied`` when the resident says no.

The protocol is verifier.openid4vp's (one library for verifiers and wallets); this module adds the wallet
folder, the HTTP and the consent. Everything a verifier sends is untrusted until the chain and signature
check out: the request is fetched with a size cap, and the verifier's answer to the post is read only for
its ``redirect_uri`` (https), never shown unescaped.
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509

from credential.codes import FIELD_LABELS
from credential.encoding import json_loads
from credential.errors import CredentialError
from epermit.errors import UsageError
from epermit.http_client import HttpError
from epermit.wallet.anchors import UntrustedLoginError
from epermit.wallet.errors import WalletError, _quoted
from epermit.wallet.held import HeldCredential
from epermit.wallet.home import WalletHome
from epermit.wallet.links import https_url
from keys import KeySigner
from verifier.openid4vp import (
    REQUEST_MEDIA_TYPE,
    AuthorizationRequest,
    CredentialQuery,
    NoMatchingCredentialError,
    OpenId4VpError,
    UntrustedVerifierError,
    declined_form,
    matching_query,
    parse_authorization_link,
    verify_request_object,
    vp_token_form,
)
from verifier.openid4vp.authorization import MAX_REQUEST_OBJECT, client_host

MAX_ANSWER = 16 * 1024

# Shown to the resident before consent; None: refuse without asking. Called with the request and the
# credential and claims it would disclose.
Consent = Callable[[AuthorizationRequest, HeldCredential, CredentialQuery], bool]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the 3xx then reaches the caller as an HTTPError


class VerifierRefusedError(WalletError):
    """The verifier answered with an HTTP error (or a redirect, which is not followed): the request had
    expired or was already answered, or the answer could not be processed."""

    def __init__(self, status: int, error: str, description: str) -> None:
        detail = _quoted(description) or _quoted(error) or f"HTTP {status}"
        super().__init__(f"the verifier refused the presentation: {detail}" + (f" ({_quoted(error)})" if error else ""))
        self.status = status
        self.error = error
        self.description = description


class VerifierUnreachableError(UsageError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the verifier at {_quoted(url)}: {_quoted(reason)}")
        self.url = url


@dataclass(frozen=True)
class Presented:
    request: AuthorizationRequest
    held: HeldCredential
    query: CredentialQuery
    consented: bool
    redirect_uri: str | None  # where the verifier sends the resident next, if it said


def claim_labels(query: CredentialQuery) -> list[str]:
    """The requested claims as the resident reads them: 中文 English."""
    return [" ".join(FIELD_LABELS.get(name, (name, name))) for name in query.claims]


def load_trust_anchors(pem: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise UsageError("the CA file holds no PEM certificate") from exc


class Presenter:
    """``trust_anchors``: the CAs of any verifier (``--ca``); ``issuer_anchors``: host -> CAs trusted for
    requests of that host only (the pinned root for the wallet's own issuer's login: epermit.wallet.anchors)."""

    def __init__(self, home: WalletHome, *, trust_anchors: Sequence[x509.Certificate], tls: ssl.SSLContext | None,
                 timeout: float = 10, allow_http: bool = False,
                 issuer_anchors: Mapping[str, Sequence[x509.Certificate]] | None = None) -> None:
        self.home = home
        self.trust_anchors = list(trust_anchors)
        self.issuer_anchors = {host: list(anchors) for host, anchors in (issuer_anchors or {}).items()}
        self.tls = tls
        self.timeout = timeout
        self.allow_http = allow_http

    def _http(self, url: str, *, form: dict[str, str] | None = None, accept: str | None = None) -> bytes:
        """One bounded request that does not follow HTTP redirects (§13.4 of OpenID4VP 1.0: a redirect could
        re-send the presentation to a URL never validated as the response_uri): a 3xx is an error."""
        https_url(url, what="the verifier's URL", allow_http=self.allow_http)
        data = None if form is None else urllib.parse.urlencode(form).encode("ascii")
        headers = {"User-Agent": "epermit-wallet"}
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if accept is not None:
            headers["Accept"] = accept
        opener = urllib.request.build_opener(_NoRedirects(), urllib.request.HTTPSHandler(context=self.tls))
        try:
            with opener.open(urllib.request.Request(url, data=data, headers=headers,  # noqa: S310 - https checked
                                                    method="GET" if form is None else "POST"),
                             timeout=self.timeout) as answer:
                body: bytes = answer.read(MAX_REQUEST_OBJECT + 1)
                return body
        except urllib.error.HTTPError as exc:
            refused = HttpError(url, exc.code, exc.read(MAX_ANSWER))
            raise VerifierRefusedError(exc.code, refused.error, refused.description) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise VerifierUnreachableError(url, str(reason) or type(exc).__name__) from exc

    def read_request(self, link: str, *, now: int) -> AuthorizationRequest:
        """The proved request behind ``link``: fetched, its chain and signature checked (OpenId4VpError)."""
        parsed = parse_authorization_link(link, allow_http=self.allow_http)
        body = self._http(parsed.request_uri, accept=REQUEST_MEDIA_TYPE)
        if len(body) > MAX_REQUEST_OBJECT:
            raise WalletError(f"the request object is larger than {MAX_REQUEST_OBJECT} bytes")
        try:
            token = body.decode("ascii")
        except UnicodeDecodeError as exc:
            raise WalletError("the request object is not a compact JWT") from exc
        host = client_host(parsed.client_id)
        own = self.issuer_anchors.get(host, [])
        try:
            return verify_request_object(token, link=parsed, trust_anchors=[*self.trust_anchors, *own], now=now,
                                         allow_http=self.allow_http)
        except UntrustedVerifierError as exc:
            if own and not isinstance(exc, UntrustedLoginError):  # the wallet's own issuer: say which root failed
                raise UntrustedLoginError(parsed.client_id, host, own[0], exc.detail) from exc
            raise

    def present(self, link: str, *, consent: Consent, passphrase: Callable[[], bytes], now: int,
                document: str | None = None, client_id: str | None = None) -> Presented:
        """Answer the request behind ``link`` with the first held credential that matches it (only
        ``document``, when given; only to ``client_id``, when given: the login of the credential's issuer)."""
        try:
            request_ = self.read_request(link, now=now)
            if client_id is not None and request_.client_id != client_id:
                raise UntrustedVerifierError(request_.client_id, f"the request does not come from {client_id}")
            candidates = self.home.credentials() if document is None else [self.home.find(document)]
            held_by_text = {h.sd_jwt_vc: h for h in candidates if h.sd_jwt_vc}
            try:
                query, sd_jwt_vc = matching_query(request_, list(held_by_text))
            except NoMatchingCredentialError as exc:
                exc.reply_to = (request_.response_uri, request_.state)
                raise
        except OpenId4VpError as exc:
            if exc.reply_to is not None:  # a proved verifier is told why (§8.5); an unproved one hears nothing
                self._tell(exc.reply_to, exc.error, exc.reason)
            raise
        held = held_by_text[sd_jwt_vc]
        if not consent(request_, held, query):
            self._post(request_, declined_form(request_))
            return Presented(request_, held, query, False, None)
        device_key: KeySigner = self.home.device_key(passphrase())
        form = vp_token_form(request_, query, sd_jwt_vc, holder_signer=device_key, now=now)
        return Presented(request_, held, query, True, self._post(request_, form))

    def _tell(self, reply_to: tuple[str, str], error: str, description: str) -> None:
        """Best effort: the refusal stands whether or not the verifier hears of it."""
        response_uri, state = reply_to
        try:
            self._http(response_uri, form={"error": error, "error_description": description[:200], "state": state})
        except (WalletError, UsageError):
            pass

    def _post(self, request_: AuthorizationRequest, form: dict[str, str]) -> str | None:
        body = self._http(request_.response_uri, form=form)
        if not body.strip():
            return None
        try:
            answer = json_loads(body, max_size=MAX_ANSWER)
        except CredentialError:
            return None  # §8.2: only a JSON object with redirect_uri means anything; anything else is ignored
        redirect = answer.get("redirect_uri") if isinstance(answer, dict) else None
        if not isinstance(redirect, str):
            return None
        try:
            return https_url(redirect, what="the verifier's redirect_uri", allow_http=self.allow_http)
        except UsageError:
            return None


__all__ = ["Consent", "Presented", "Presenter", "VerifierRefusedError", "VerifierUnreachableError", "claim_labels",
           "load_trust_anchors"]
