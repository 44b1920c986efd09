"""Recovery codes: the resident's way back in after losing the phone.

At the first pickup of a holder with no recovery code the wallet receives one, once (the credential
response's ``epermit_recovery_code``; ``epermit wallet pickup`` prints it; the resident writes it down).
The store keeps only its keyed hash (issuer.keyed) over the citizen ID and the code, under a key that is
itself a keyed hash of the citizen ID: a copy of the store can test neither. A successful use spends the
code: the next pickup (on the new phone) hands out a new one.

Wrong codes are throttled as officers' sign-ins are (issuer.signin): counted per citizen ID and per client
address (Store.increment, keyed hashes as counter keys); at the limit every attempt — a right code too — is
refused with RateLimitedError until the window ends, and the moment is audited once. Each failure is an
audit entry (``recovery_failed``, outcome denied, no record id, no citizen ID) and changes nothing else.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from issuer.audit import AuditLog
from issuer.errors import RateLimitedError
from issuer.keyed import KeyedHash
from issuer.model import DENIED
from issuer.requests.errors import RecoveryRefusedError
from issuer.requests.model import RECOVERY_FAILED, RECOVERY_THROTTLED, RESIDENT
from issuer.settings import Clock
from issuer.store import EphemeralStep, Store

RECOVERY = "recovery_code"  # ephemeral kind and keyed-hash label
_HOLDER = "recovery_holder"
_COUNTS, _BLOCKS = "recovery_failures", "recovery_blocked"
KEEP = 20 * 366 * 86400  # as long as a resident may hold credentials; a new pickup replaces it anyway
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
MAX_CODE = 40


@dataclass(frozen=True)
class RecoveryLimits:
    per_holder: int = 5
    per_client: int = 20
    window: int = 900


def new_code() -> str:
    """20 characters of a 32-letter alphabet (100 bits) in groups of five: ABCDE-FGHJK-LMNPQ-RSTUV."""
    letters = "".join(secrets.choice(_ALPHABET) for _ in range(20))
    return "-".join(letters[i:i + 5] for i in range(0, 20, 5))


def _normal(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class RecoveryCodes:
    def __init__(self, store: Store, keyed: KeyedHash, audit: AuditLog, clock: Clock,
                 limits: RecoveryLimits = RecoveryLimits()) -> None:
        self._store = store
        self._keyed = keyed
        self._audit = audit
        self._clock = clock
        self.limits = limits

    def _slot(self, citizen_id: str) -> str:
        return self._keyed.digest(_HOLDER, citizen_id)

    def issue_if_absent(self, citizen_id: str) -> str | None:
        """A new code for a holder who has none (shown once), else None."""
        code = new_code()
        # Put only where none is, in one store step: of two concurrent first pickups one shows a code.
        added = self._store.ephemeral_step(EphemeralStep(adds=(
            (RECOVERY, self._slot(citizen_id), self._keyed.digest(RECOVERY, citizen_id, _normal(code)), KEEP),)),
            self._clock()).added
        return code if added[0] else None

    def check(self, citizen_id: str, code: str, *, client: str) -> None:
        """Nothing if the code is the holder's; RateLimitedError while throttled; RecoveryRefusedError else."""
        now = self._clock()
        counters = [(self._keyed.digest(_COUNTS, "holder", citizen_id), self.limits.per_holder, "citizen ID"),
                    (self._keyed.digest(_COUNTS, "client", client), self.limits.per_client, "client address")]
        for key, _, _ in counters:
            until = self._store.get_ephemeral(_BLOCKS, key, now)
            if until is not None:
                raise RateLimitedError("too many wrong recovery codes; retry later",
                                       retry_after=max(1, min(int(until) - now, self.limits.window)))
        stored = self._store.get_ephemeral(RECOVERY, self._slot(citizen_id), now)
        given = self._keyed.digest(RECOVERY, citizen_id, _normal(code)) if len(code) <= MAX_CODE else ""
        if stored is not None and hmac.compare_digest(stored, given):
            return
        self._audit.append(officer=RESIDENT, action=RECOVERY_FAILED, record_id=None, outcome=DENIED,
                           reason="lost phone: citizen ID and recovery code do not match")
        for key, limit, what in counters:
            count = self._store.increment(_COUNTS, key, self.limits.window, now)
            if count >= limit:
                self._store.put_ephemeral(_BLOCKS, key, str(now + self.limits.window), self.limits.window, now)
                if count == limit:
                    self._audit.append(officer=RESIDENT, action=RECOVERY_THROTTLED, record_id=None, outcome=DENIED,
                                       reason=f"{what}: {count} wrong recovery codes in {self.limits.window} s")
        raise RecoveryRefusedError()

    def spend(self, citizen_id: str) -> None:
        self._store.take_ephemeral(RECOVERY, self._slot(citizen_id), self._clock())
