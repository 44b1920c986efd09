"""Failed officer authentications: each one audited, and throttled per client address and per officer id.

A failure is a bearer token on the officer API that is unknown, expired, revoked or a disabled officer's,
or a console sign-in whose token is no live token of the officer id it names. Each is one audit entry
(action ``sign_in_failed``, outcome ``denied``, officer ``-``: nobody was authenticated) whose reason says
where it happened and, for the console, which officer id was claimed (when it is a well-formed id). The
presented token is never written anywhere; neither is the client address (it is a counter key, a keyed hash).

Failures are counted in the store (Store.increment: shared by every worker and host) per client address and,
for the console, per claimed officer id. Once a count reaches its limit within the window, every attempt
from that address or naming that officer id — a right token too — is refused with RateLimitedError (429,
Retry-After) until the window ends: a guesser cannot learn whether a guess was right. The moment a limit is
reached is audited once (``sign_in_throttled``); refused attempts are not, so a flood writes a bounded number
of entries. A request without any bearer token is refused (401) but is no attempt: not counted, not audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from issuer.audit import AuditLog
from issuer.errors import RateLimitedError, SettingsError
from issuer.keyed import SIGN_IN, KeyedHash
from issuer.model import DENIED, is_officer_id
from issuer.settings import Clock
from issuer.store import Store

FAILED = "sign_in_failed"
THROTTLED = "sign_in_throttled"
NOBODY = "-"  # the audit's officer for an attempt that authenticated nobody (no officer id has this form)
_COUNTS, _BLOCKS = "signin_failures", "signin_blocked"


@dataclass(frozen=True)
class SignInLimits:
    per_client: int = 20  # failed attempts from one client address within the window
    per_officer: int = 10  # failed console sign-ins naming one officer id within the window
    window: int = 900  # seconds: counts start over, and a blocked address or id is let in again

    def __post_init__(self) -> None:
        for name in ("per_client", "per_officer", "window"):
            if getattr(self, name) <= 0:
                raise SettingsError(name, "must be positive")


DEFAULT_LIMITS = SignInLimits()


@dataclass(frozen=True)
class _Counter:
    key: str  # a keyed hash: no address or id is kept in clear (nor a hash a copy of the store could test
    # guesses against), and every key has the same bounded length
    limit: int
    what: str  # what the throttled entry names


class SignInGuard:
    def __init__(self, store: Store, audit: AuditLog, clock: Clock, limits: SignInLimits, keyed: KeyedHash) -> None:
        self._store = store
        self._keyed = keyed
        self._audit = audit
        self._clock = clock
        self.limits = limits

    def check(self, *, client: str, officer_id: str | None) -> None:
        """RateLimitedError while the address or the claimed officer id is blocked; else nothing."""
        now = self._clock()
        for counter in self._counters(client, officer_id):
            until = self._store.get_ephemeral(_BLOCKS, counter.key, now)
            if until is not None:
                raise RateLimitedError("too many failed sign-ins; retry later",
                                       retry_after=max(1, min(int(until) - now, self.limits.window)))

    def failed(self, *, client: str, officer_id: str | None, channel: str) -> None:
        """Audit and count one failed attempt; ``officer_id``: what a console sign-in claimed (None: the API)."""
        claimed = officer_id if officer_id is not None and is_officer_id(officer_id) else None
        if claimed is not None:
            reason = f"{channel}, officer {claimed}"
        else:
            reason = channel if officer_id is None else f"{channel}, no well-formed officer id"
        self._audit.append(officer=NOBODY, action=FAILED, record_id=None, outcome=DENIED, reason=reason)
        now = self._clock()
        window = self.limits.window
        for counter in self._counters(client, officer_id):
            count = self._store.increment(_COUNTS, counter.key, window, now)
            if count >= counter.limit:  # >=: concurrent failures may pass the limit together
                self._store.put_ephemeral(_BLOCKS, counter.key, str(now + window), window, now)
                if count == counter.limit:
                    self._audit.append(officer=NOBODY, action=THROTTLED, record_id=None, outcome=DENIED,
                                       reason=f"{channel}, {counter.what}: {count} failures in {window} s")

    def _counters(self, client: str, officer_id: str | None) -> list[_Counter]:
        counters = [_Counter(self._keyed.digest(SIGN_IN, "client", client), self.limits.per_client, "client address")]
        if officer_id is not None and is_officer_id(officer_id):
            counters.append(_Counter(self._keyed.digest(SIGN_IN, "officer", officer_id), self.limits.per_officer,
                                     f"officer {officer_id}"))
        return counters
