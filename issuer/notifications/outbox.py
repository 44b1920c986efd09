"""The outbox: the messages the service owes residents, written to the store, delivered later (delivery.py).

Each message names the record (what the SMS gateway addresses: the bureau's registration system maps a
record to the registered phone number; this service keeps no phone number) and carries its words in
Chinese and English plus the ids and dates it speaks of — never a name, a citizen ID or a document number.
The wallet shows a holder's messages when it syncs (GET /resident/notifications).
"""

from __future__ import annotations

import datetime
import enum
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from issuer.model import Record, RecordState, holder_hash
from issuer.rules import beijing_day
from issuer.settings import Clock
from issuer.store import Store, StoredNotification

ENDORSEMENT_DUE_DAYS = 30
EXPIRING_DAYS = 30
_SENT_MARK = "notified"  # ephemeral kind: a reminder already written for (record, kind, date)


class NoticeKind(enum.Enum):
    REQUEST_DECIDED = "request_decided"
    ENDORSEMENT_DUE = "endorsement_due"
    CREDENTIAL_EXPIRING = "credential_expiring"
    SUSPENDED = "suspended"
    ONE_TIME_CODE = "one_time_code"  # a lost phone's re-delivery code, for the registered phone number only


PRIVATE_KINDS = (NoticeKind.ONE_TIME_CODE.value,)  # sent by SMS, never listed in a wallet


@dataclass(frozen=True)
class Message:
    id: str
    kind: str
    record_id: str
    created_at: int
    zh: str
    en: str
    params: dict[str, Any]
    state: str
    attempts: int

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "record_id": self.record_id, "created_at": self.created_at,
                "message": {"zh": self.zh, "en": self.en}, **({"params": self.params} if self.params else {})}

    def payload(self) -> dict[str, Any]:
        """What a gateway receives: ids and words only."""
        return {"id": self.id, "kind": self.kind, "record_id": self.record_id, "created_at": self.created_at,
                "text_zh": self.zh, "text_en": self.en}


def message_of(stored: StoredNotification) -> Message:
    data: dict[str, Any] = json.loads(stored.data)
    return Message(stored.id, stored.kind, stored.record_id, stored.created_at, data["zh"], data["en"],
                   dict(data.get("params") or {}), stored.state, stored.attempts)


class Outbox:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def write(self, record: Record, kind: NoticeKind, *, zh: str, en: str,
              params: dict[str, Any] | None = None) -> Message:
        now = self._clock()
        stored = StoredNotification(
            secrets.token_urlsafe(12), holder_hash(record.permit.holder.citizen_id), record.id, kind.value,
            json.dumps({"zh": zh, "en": en, "params": params or {}}, ensure_ascii=False), now, "pending", 0, now,
        )
        self._store.insert_notification(stored)
        return message_of(stored)

    def of_holder(self, citizen_id: str, *, limit: int = 50) -> list[Message]:
        """The holder's messages a wallet shows (not the one-time codes: they are for the phone number)."""
        return [message_of(n) for n in self._store.notifications_of_holder(holder_hash(citizen_id), limit=limit)
                if n.kind not in PRIVATE_KINDS]

    def remind(self, records: Iterable[Record], *, endorsement_window_days: int) -> list[Message]:
        """Write the reminders due today (endorsement due within 30 days, validity ending within 30 days),
        each once per record and validity end."""
        now = self._clock()
        today = beijing_day(now)
        written: list[Message] = []
        for record in records:
            if record.state is not RecordState.ACTIVE:
                continue
            end = record.permit.valid_until
            if record.permit.type.slug == "residence_permit":
                due = end - datetime.timedelta(days=endorsement_window_days)
                if today <= due <= today + datetime.timedelta(days=ENDORSEMENT_DUE_DAYS):
                    written += self._once(record, NoticeKind.ENDORSEMENT_DUE, end, now, zh=(
                        f"您的居住证将于{due.isoformat()}起可以签注，请在钱包中在线申请签注（无需到窗口）。"),
                        en=f"Your residence permit can be endorsed from {due.isoformat()}: request the "
                           f"endorsement in your wallet (no visit needed).", params={"due": due.isoformat()})
                    continue
            if today <= end <= today + datetime.timedelta(days=EXPIRING_DAYS):
                written += self._once(record, NoticeKind.CREDENTIAL_EXPIRING, end, now, zh=(
                    f"您的证件有效期至{end.isoformat()}，请及时办理。"),
                    en=f"Your credential is valid until {end.isoformat()}: renew it in time.",
                    params={"valid_until": end.isoformat()})
        return written

    def _once(self, record: Record, kind: NoticeKind, end: datetime.date, now: int, *, zh: str, en: str,
              params: dict[str, Any]) -> list[Message]:
        mark = f"{record.id}:{kind.value}:{end.isoformat()}"
        if self._store.increment(_SENT_MARK, mark, 400 * 86400, now) != 1:
            return []
        return [self.write(record, kind, zh=zh, en=en, params=params)]
