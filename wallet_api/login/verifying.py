"""The bureau's own OpenID4VP verifier: the resident's login (issue 16 item 1), in plain Python.

    start(now)            -> a signed request (x509_san_dns, DCQL for a residence permit or registration
                             card of ours with the citizen ID, key binding, direct_post)
    finish(body, now)     -> the ResidentIdentity behind a verified direct_post

The answer is judged by verifier.openid4vp.verify_response — the code of `epermit verify` — over a
verifier cache this process fills from the issuer service itself (its trust list and status lists, signed
as they are published, just before each verdict: no network, no staleness). Then the status is read once
more from the store (issuer.requests.authn.current_identity): a credential revoked a moment ago, or a
record no longer ACTIVE, logs nobody in.
"""

from __future__ import annotations

import tempfile
import threading
import urllib.parse
from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import Encoding

from credential.encoding import json_loads
from credential.errors import CredentialError
from credential.sdjwt import MAX_SD_JWT, verify_sd_jwt_vc
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

    @property
    def response_uri(self) -> str:
        return f"{self.public_url}/resident/login/response"

    def start(self, *, now: int) -> PendingRequest:
        query = basic_query(self.service.settings.public_url, claims=LOGIN_CLAIMS, query_id="resident")
        return new_request(self.identity, response_uri=self.response_uri,
                           request_uri_base=f"{self.public_url}/resident/login/request", dcql_query=query,
                           store=self.transactions, now=now, ttl=LOGIN_TTL)

    def _refreshed_cache(self, now: int) -> VerifierCache:
        """The cache with the trust list and every status list as the service publishes them now."""
        with self._lock:
            if self._cache is None:
                cache = VerifierCache(self._cache_dir or tempfile.mkdtemp(prefix="epermit-login-"))
                if not cache.has_root():
                    cache.pin_root(self.service.keyring.root_certificate.public_bytes(Encoding.PEM))
                self._cache = cache
            cache = self._cache
            cache.accept_trust_list(self.service.trust_list_token(), now)
            for uri in self.service.status_list_uris():
                cache.accept_status_list(uri, self.service.published_status_list(uri).token, now)
            return cache

    def finish(self, body: bytes, *, now: int) -> LoggedIn:
        cache = self._refreshed_cache(now)
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


def _presented(body: bytes) -> str:
    """The one presentation of an already verified body (verify_response checked its shape)."""
    fields = dict(urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True))
    token = json_loads(fields["vp_token"], max_size=MAX_BODY)
    [[text]] = token.values()
    if not isinstance(text, str) or len(text) > MAX_SD_JWT:
        raise MalformedResponseError("vp_token holds no presentation", parameter="vp_token")
    return text.strip()
