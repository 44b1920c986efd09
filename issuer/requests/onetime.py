"""One-time codes: a lost phone's re-delivery without waiting for an officer.

The resident asks for a code for a queued lost-phone request (its bearer token); a six-digit code goes to
the registered phone number through the outbox (a ``one_time_code`` message for the record: the SMS
gateway knows the number, this service does not; wallets never list these messages). The store keeps the
code's keyed hash for ten minutes. At most MAX_SENT codes per request an hour, at most MAX_TRIES wrong codes
per request in that time (then RateLimitedError, the moment audited); each wrong code is audited and
changes nothing else. The right code approves the request as an officer would (decided by ``one_time_code``).
"""

from __future__ import annotations

import hmac
import secrets

from issuer.audit import AuditLog
from issuer.errors import RateLimitedError
from issuer.keyed import KeyedHash
from issuer.model import DENIED, Record
from issuer.notifications import NoticeKind, Outbox
from issuer.requests.errors import OneTimeCodeRefusedError
from issuer.requests.model import CODE_FAILED, CODE_SENT, RESIDENT, ResidentRequest
from issuer.settings import Clock
from issuer.store import Store

CODE_TTL = 600
WINDOW = 3600
MAX_SENT = 3
MAX_TRIES = 5
_CODE, _SENT, _TRIES = "lost_code", "lost_codes_sent", "lost_code_tries"


class OneTimeCodes:
    def __init__(self, store: Store, keyed: KeyedHash, audit: AuditLog, clock: Clock, outbox: Outbox) -> None:
        self._store = store
        self._keyed = keyed
        self._audit = audit
        self._clock = clock
        self._outbox = outbox

    def send(self, request: ResidentRequest, record: Record) -> None:
        now = self._clock()
        if self._store.increment(_SENT, request.id, WINDOW, now) > MAX_SENT:
            raise RateLimitedError("too many codes for this request; retry later", retry_after=WINDOW)
        code = f"{secrets.randbelow(10**6):06d}"
        self._store.put_ephemeral(_CODE, request.id, self._keyed.digest(_CODE, request.id, code), CODE_TTL, now)
        self._outbox.write(record, NoticeKind.ONE_TIME_CODE,
                           zh=f"您的重新发证验证码：{code}，10分钟内有效。请勿告诉他人。",
                           en=f"Your re-delivery code: {code}, valid for 10 minutes. Tell nobody.",
                           params={"request_id": request.id})
        self._audit.append(officer=RESIDENT, action=CODE_SENT, record_id=record.id, reason=f"request {request.id}")

    def check(self, request: ResidentRequest, code: str) -> None:
        """Nothing if ``code`` is the request's live code (then spent); else an audited refusal."""
        now = self._clock()
        tries_key = self._keyed.digest(_TRIES, request.id)
        if (self._store.get_ephemeral(_TRIES, tries_key, now) or "") == "blocked":
            raise RateLimitedError("too many wrong codes for this request; retry later", retry_after=WINDOW)
        stored = self._store.get_ephemeral(_CODE, request.id, now)
        given = self._keyed.digest(_CODE, request.id, code) if isinstance(code, str) and len(code) <= 12 else ""
        if stored is not None and hmac.compare_digest(stored, given) \
                and self._store.take_ephemeral(_CODE, request.id, now) is not None:
            return
        self._audit.append(officer=RESIDENT, action=CODE_FAILED, record_id=request.record_id, outcome=DENIED,
                           reason=f"request {request.id}")
        if self._store.increment(_TRIES, tries_key, WINDOW, now) >= MAX_TRIES:
            self._store.put_ephemeral(_TRIES, tries_key, "blocked", WINDOW, now)
        raise OneTimeCodeRefusedError()
