"""The bureau's own OpenID4VP verifier: the resident's login (issue 16 item 1), in plain Python.

    start(now)            -> a signed request (x509_san_dns, DCQL for a residence permit or registration
                             card of ours with the citizen ID, key binding, direct_post)
    finish(body, now)     -> the ResidentIdentity behind a verified direct_post

The answer is judged by verifier.openid4vp.verify_response — the code of `epermit verify` — over one
verifier cache per process, filled from the issuer service itself just before each verdict: the trust list,
and the status list the presented credential points to, each as the store publishes it now (no network, no
staleness: every status change re-signs its list at once, issuer.publication, so the list in the store is
the freshest there is). What this process put into the cache is memoised by the published token's etag:
a login verifies and writes a list only when it changed since, instead of every list at every login. Then
the status is read once more from the store (issuer.requests.authn.current_identity): a credential revoked
a moment ago, or a record no longer ACTIVE, logs nobody in.
"""

from __future__ import annotations

import tempfile
import threading
import urllib.parse
from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import Encoding

from credential.encoding import json_loads
from credential.errors import CredentialError
from credential.jose import parse_compact
from credential.sdjwt import MAX_SD_JWT, verify_sd_jwt_vc
from issuer.errors import StatusListNotFoundError
from issuer.requests.authn import ResidentIdentity, credential_key, current_identity
from issuer.requests.errors import PresentationRejectedError
from issuer.service import IssuerService
from verifier.cache import VerifierCache
from verifier.openid4vp import (
    MalformedResponseError,
    PendingRequest,
    Transaction,
    VerifierIdentity,
    basic_query,
    new_request,
    verify_response,
)
from verifier.openid4vp.response import MAX_BODY
from wallet_api.login.transactions import StoreTransactions

LOGIN_CLAIMS = ("citizen_id", "name", "document_number")  # who, and which document (verify needs the name)
LOGIN_TTL = 300


@dataclass(frozen=True)
class LoggedIn:
    identity: ResidentIdentity
    transaction: Transaction


class LoginVerifier:
    """``identity``: the service's verifier certificate and key (its host the wallet API's); ``cache_dir``:
    where the verifier cache lives (public documents only; a fresh temporary folder when None)."""

    def __init__(self, service: IssuerService, identity: VerifierIdentity, *, public_url: str,
                 transactions: StoreTransactions, cache_dir: str | None = None) -> None:
        self.service = service
        self.identity = identity
        self.public_url = public_url
        self.transactions = transactions
        self._cache_dir = cache_dir
        self._cache: VerifierCache | None = None
        self._lock = threading.Lock()
        # What this process last put into the cache: the trust list token, each status list's etag.
        self._trust_token: str | None = None
        self._status_etags: dict[str, str] = {}

    @property
    def response_uri(self) -> str:
        return f"{self.public_url}/resident/login/response"

    def start(self, *, now: int) -> PendingRequest:
        query = basic_query(self.service.settings.public_url, claims=LOGIN_CLAIMS, query_id="resident")
        return new_request(self.identity, response_uri=self.response_uri,
                           request_uri_base=f"{self.public_url}/resident/login/request", dcql_query=query,
                           store=self.transactions, now=now, ttl=LOGIN_TTL)

    def _refreshed_cache(self, now: int, uri: str | None) -> VerifierCache:
        """The cache with the trust list and the status list at ``uri`` as the service publishes them now."""
        with self._lock:
            if self._cache is None:
                cache = VerifierCache(self._cache_dir or tempfile.mkdtemp(prefix="epermit-login-"))
                if not cache.has_root():
                    cache.pin_root(self.service.keyring.root_certificate.public_bytes(Encoding.PEM))
                self._cache = cache
            cache = self._cache
            trust = self.service.trust_list_token()
            if trust != self._trust_token:
                cache.accept_trust_list(trust, now)
                self._trust_token = trust
                self._status_etags.clear()  # a new trust list: the lists are verified again under it
            if uri is None:
                return cache
            try:
                published = self.service.published_status_list(uri)  # re-signed when a status changed
            except StatusListNotFoundError:
                return cache  # not one of ours: verify_response says so
            if self._status_etags.get(uri) != published.etag:
                cache.accept_status_list(uri, published.token, now)
                self._status_etags[uri] = published.etag
            return cache

    def finish(self, body: bytes, *, now: int) -> LoggedIn:
        cache = self._refreshed_cache(now, _status_uri(body))
        verified = verify_response(body, store=self.transactions, cache=cache, now=now)
        # VALID by `epermit verify`'s rules; read the presented credential for the store's own check.
        text = _presented(body)
        try:
            read = verify_sd_jwt_vc(text, resolve_key=lambda kid: credential_key(self.service, kid), now=now,
                                    require_key_binding=True, aud=verified.transaction.client_id,
                                    nonce=verified.transaction.nonce, kb_max_age=LOGIN_TTL)
        except CredentialError as exc:  # verified a moment ago: only a key revoked in between gets here
            raise PresentationRejectedError("signature", f"the presentation does not verify: {exc}") from exc
        citizen_id = read.claims.get("citizen_id")
        if not isinstance(citizen_id, str) or read.holder_key is None:
            raise PresentationRejectedError("unknown_holder", "present the credential with the citizen ID disclosed")
        identity = current_identity(self.service, citizen_id, read.status_uri, read.status_idx, read.holder_key, now)
        return LoggedIn(identity, verified.transaction)


def _status_uri(body: bytes) -> str | None:
    """The status list the presented credential points to, read before any check (only to choose which list
    to bring up to date: verify_response then checks everything); None when the body does not say."""
    try:
        issuer_jwt = _presented(body).split("~", 1)[0]
        status = parse_compact(issuer_jwt, max_size=MAX_SD_JWT).payload.get("status")
    except (CredentialError, MalformedResponseError, UnicodeDecodeError, KeyError, ValueError, TypeError,
            AttributeError):
        return None
    entry = status.get("status_list") if isinstance(status, dict) else None
    uri = entry.get("uri") if isinstance(entry, dict) else None
    return uri if isinstance(uri, str) and len(uri) <= 2048 else None


def _presented(body: bytes) -> str:
    """The one presentation of an already verified body (verify_response checked its shape)."""
    fields = dict(urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True))
    token = json_loads(fields["vp_token"], max_size=MAX_BODY)
    [[text]] = token.values()
    if not isinstance(text, str) or len(text) > MAX_SD_JWT:
        raise MalformedResponseError("vp_token holds no presentation", parameter="vp_token")
    return text.strip()
