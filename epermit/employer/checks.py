"""The employer's online check, in plain Python: start a request, serve it, receive the answer, keep the verdict.

One check = one OpenID4VP transaction (verifier.openid4vp) plus a ``view_id``: a random id known only to
the employer's browser, under which the page shows the outcome. The view id is neither the state (which the
wallet and anyone who fetches the request object sees) nor the request id (which is in the QR), so a person
who photographs the QR cannot read the result. Outcomes are kept in memory, bounded, for ``keep`` seconds.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from verifier.cache import VerifierCache
from verifier.openid4vp import (
    InMemoryTransactionStore,
    MissingClaimsError,
    OpenId4VpError,
    PendingRequest,
    PresentationRejectedError,
    VerifiedResponse,
    VerifierIdentity,
    WalletDeclinedError,
    basic_query,
    new_request,
    parse_dcql,
    verify_response,
)
from verifier.result import Result

MAX_CHECKS = 1000
DECLINED = "DECLINED"  # the resident said no (access_denied)
INCOMPLETE = "INCOMPLETE"  # genuine, but a required claim was not disclosed
EXPIRED_REQUEST = "EXPIRED_REQUEST"  # nobody answered in time


@dataclass
class Outcome:
    """What the page shows: waiting (result None), or a verdict with the requested claims."""

    pending: PendingRequest
    created_at: int
    result: str | None = None  # a verifier.result.Result value, or DECLINED / INCOMPLETE / EXPIRED_REQUEST
    reason: str = ""
    credential_type: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    valid_from: str | None = None
    valid_until: str | None = None
    status_age_seconds: int | None = None
    response_code: str | None = None  # given to the wallet in the redirect_uri once answered


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to the wallet's direct_post: status and JSON body (OpenID4VP 1.0 §8.2, §8.5)."""

    status: int
    body: dict[str, str]


class EmployerChecks:
    """``refresh(now)`` brings the trust and status lists up to date before each verdict (a sync)."""

    def __init__(self, identity: VerifierIdentity, *, public_url: str, issuer: str, cache: VerifierCache,
                 refresh: Callable[[int], object] | None, ttl: int = 300, keep: int = 3600) -> None:
        self.identity = identity
        self.public_url = public_url.rstrip("/")
        self.issuer = issuer
        self.cache = cache
        self.refresh = refresh
        self.ttl = ttl
        self.keep = keep
        self.store = InMemoryTransactionStore(max_entries=MAX_CHECKS)
        self._lock = threading.Lock()
        self._outcomes: OrderedDict[str, Outcome] = OrderedDict()  # view_id -> outcome, oldest first
        self._views: dict[str, str] = {}  # state -> view_id
        self._codes: dict[str, str] = {}  # response_code -> view_id

    @property
    def response_uri(self) -> str:
        return f"{self.public_url}/openid4vp/response"

    def start(self, *, now: int) -> str:
        """A new check for the basic claims of either credential type; returns its view id."""
        pending = new_request(self.identity, response_uri=self.response_uri,
                              request_uri_base=f"{self.public_url}/openid4vp/request",
                              dcql_query=basic_query(self.issuer), store=self.store, now=now, ttl=self.ttl)
        view_id = secrets.token_urlsafe(16)
        with self._lock:
            while self._outcomes:
                oldest = next(iter(self._outcomes.values()))
                if len(self._outcomes) < MAX_CHECKS and oldest.created_at + self.keep > now:
                    break
                self._outcomes.popitem(last=False)
                self._views.pop(oldest.pending.transaction.state, None)
                self._codes.pop(oldest.response_code or "", None)
            self._outcomes[view_id] = Outcome(pending, now)
            self._views[pending.transaction.state] = view_id
        return view_id

    def outcome(self, view_id: str, *, now: int) -> Outcome | None:
        with self._lock:
            found = self._outcomes.get(view_id)
            if found is None or found.created_at + self.keep <= now:
                return None
            if found.result is None and found.pending.transaction.expires_at <= now:
                found.result, found.reason = EXPIRED_REQUEST, "no answer before the request expired"
            return found

    def request_object(self, request_id: str, *, now: int) -> str:
        return self.store.by_request_id(request_id, now=now).request_object  # UnknownTransactionError

    def receive(self, body: bytes, *, now: int) -> Answer:
        """Verify one direct_post body and record the verdict for the page.

        A response for one of our open requests is *processed* whatever its verdict, so it is answered 200
        with a ``redirect_uri`` holding a fresh random ``response_code`` (OpenID4VP 1.0 §8.2: 200 for every
        processed response, a fresh random value in the redirect); there the wallet's user sees the verdict
        without the claims. A response for no open request, or one that cannot be read, is a 400."""
        sync = self.refresh
        try:
            verified = verify_response(body, store=self.store, cache=self.cache, now=now,
                                       refresh=None if sync is None else lambda: sync(now))
        except WalletDeclinedError as exc:
            code = self._failed(exc, DECLINED, "持证人拒绝出示 the holder declined")
        except (PresentationRejectedError, MissingClaimsError) as exc:
            code = self._failed(exc, *self._verdict(exc))
        except OpenId4VpError as exc:  # unknown or spent state, an unreadable body or vp_token
            self._failed(exc, *self._verdict(exc))
            return Answer(400, {"error": exc.error, "error_description": exc.reason})
        else:
            code = self._verified(verified)
        if code is None:  # answered a request whose page has been forgotten since
            return Answer(200, {})
        return Answer(200, {"redirect_uri": f"{self.public_url}/done?response_code={code}"})

    def by_response_code(self, code: str, *, now: int) -> Outcome | None:
        with self._lock:
            view_id = self._codes.get(code)
        return None if view_id is None else self.outcome(view_id, now=now)

    @staticmethod
    def _verdict(exc: OpenId4VpError) -> tuple[str, str]:
        if isinstance(exc, PresentationRejectedError):
            return exc.result.value, exc.detail
        if isinstance(exc, MissingClaimsError):
            return INCOMPLETE, exc.reason
        return Result.MALFORMED.value, exc.reason

    def _outcome_of(self, state: str | None) -> tuple[str, Outcome] | None:
        view_id = None if state is None else self._views.get(state)
        outcome = None if view_id is None else self._outcomes.get(view_id)
        return None if view_id is None or outcome is None else (view_id, outcome)

    def _answered(self, view_id: str, outcome: Outcome) -> str:
        code = secrets.token_urlsafe(16)
        outcome.response_code = code
        self._codes[code] = view_id
        return code

    def _failed(self, exc: OpenId4VpError, result: str, reason: str) -> str | None:
        with self._lock:
            found = self._outcome_of(exc.state)  # None: the response consumed no transaction of ours
            if found is None:
                return None
            view_id, outcome = found
            outcome.result, outcome.reason = result, reason
            verification = exc.verification if isinstance(exc, PresentationRejectedError) else None
            if verification is not None and verification.claims:  # whose credential it is, for REVOKED
                [query] = parse_dcql(outcome.pending.transaction.dcql_query)
                outcome.credential_type = verification.credential_type
                outcome.claims = {k: v for k, v in verification.claims.items() if k in query.claims}
            return self._answered(view_id, outcome)

    def _verified(self, verified: VerifiedResponse) -> str | None:
        with self._lock:
            found = self._outcome_of(verified.transaction.state)
            if found is None:
                return None
            view_id, outcome = found
            [presented] = verified.presentations.values()
            outcome.result, outcome.reason = Result.VALID.value, presented.verification.reason
            outcome.credential_type = presented.credential_type
            outcome.claims = presented.claims
            outcome.valid_from, outcome.valid_until = presented.valid_from, presented.valid_until
            outcome.status_age_seconds = presented.verification.status_age_seconds
            return self._answered(view_id, outcome)
