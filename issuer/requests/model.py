"""What a resident's request is: its kind, its states, what it carries, and how it is kept in the store.

States: ``submitted`` (written, not yet judged) → ``queued`` (waits for an officer of the district) or
``approved`` (by the bureau's rules or an officer) → ``done`` (the new credential confirmed by the wallet, or
nothing left to deliver); a queued request may be ``denied`` (with a reason). A request never goes back.
What it carries (``data``) is ids, dates, the new address of an address change, the status indices to
retire once the new credential is confirmed, and the keyed hash of the request's bearer token: no secret.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

from issuer.store import StoredRequest


class RequestKind(enum.Enum):
    ENDORSE = "endorse"  # 签注: the next year of a residence permit
    LOST = "lost"  # the phone is lost: suspend at once, re-deliver to the new phone
    ADDRESS = "address"  # a new address in the city, maybe in another district
    DEREGISTER = "deregister"  # 注销: the resident moves away


class RequestState(enum.Enum):
    SUBMITTED = "submitted"
    QUEUED = "queued"
    APPROVED = "approved"
    DENIED = "denied"
    DONE = "done"


# Which state may follow which: every change goes through the store's compare-and-set on the old state.
NEXT_STATES: dict[RequestState, frozenset[RequestState]] = {
    RequestState.SUBMITTED: frozenset({RequestState.QUEUED, RequestState.APPROVED, RequestState.DONE}),
    RequestState.QUEUED: frozenset({RequestState.APPROVED, RequestState.DENIED}),
    RequestState.APPROVED: frozenset({RequestState.DONE}),
    RequestState.DENIED: frozenset(),
    RequestState.DONE: frozenset(),
}

# Audit actions (the entries name the request id and the record id only)
SUBMITTED = "request_submitted"
QUEUED = "request_queued"
APPROVED = "request_approved"
DENIED = "request_denied"
DELIVERY = "request_delivery"  # the offer for the new credential was made
DONE = "request_done"
LOST_SUSPEND = "lost_phone_suspend"
RECOVERY_FAILED = "recovery_failed"
RECOVERY_THROTTLED = "recovery_throttled"
CODE_SENT = "one_time_code_sent"
CODE_FAILED = "one_time_code_failed"
RULES = "rules"  # the audit's officer when the bureau's rules decided
ONE_TIME_CODE = "one_time_code"  # the decider of a lost phone's re-delivery confirmed by the SMS code
RESIDENT = "resident"  # the audit's officer for what the resident did


@dataclass(frozen=True)
class ResidentRequest:
    id: str
    kind: RequestKind
    state: RequestState
    record_id: str
    district: str  # the queue: for an address change, the new district's
    holder: str  # holder_hash
    created_at: int
    updated_at: int
    address: str | None = None  # an address change's new address
    new_district: str | None = None
    queued_because: str | None = None  # the rule that sent it to the queue (a stable code)
    decided_by: str | None = None  # officer id, or RULES
    reason: str | None = None  # a denial's reason
    record_ids: tuple[str, ...] = ()  # a lost phone: every record suspended
    retire: tuple[tuple[int, int], ...] = ()  # (list_no, idx) of the old credentials, retired on confirmation
    new_record_id: str | None = None  # an address change into another district
    offer_refs: tuple[str, ...] = ()  # the offers the delivery made (Offer.ref)
    token_hash: str = ""  # keyed hash of the request's bearer token (the lost-phone wallet has no credential)
    extra: dict[str, Any] = field(default_factory=dict)

    def stored(self) -> StoredRequest:
        data = {"address": self.address, "new_district": self.new_district, "queued_because": self.queued_because,
                "decided_by": self.decided_by, "reason": self.reason, "record_ids": list(self.record_ids),
                "retire": [list(pair) for pair in self.retire], "new_record_id": self.new_record_id,
                "offer_refs": list(self.offer_refs), "token_hash": self.token_hash, "extra": self.extra}
        return StoredRequest(self.id, self.kind.value, self.state.value, self.record_id, self.district, self.holder,
                             self.created_at, self.updated_at, json.dumps(data, ensure_ascii=False))

    @classmethod
    def from_stored(cls, stored: StoredRequest) -> ResidentRequest:
        data: dict[str, Any] = json.loads(stored.data)
        return cls(
            stored.id, RequestKind(stored.kind), RequestState(stored.state), stored.record_id, stored.district,
            stored.holder, stored.created_at, stored.updated_at, data.get("address"), data.get("new_district"),
            data.get("queued_because"), data.get("decided_by"), data.get("reason"), tuple(data.get("record_ids", ())),
            tuple((int(a), int(b)) for a, b in data.get("retire", ())), data.get("new_record_id"),
            tuple(data.get("offer_refs", ())), data.get("token_hash", ""), dict(data.get("extra") or {}),
        )

    def public(self) -> dict[str, Any]:
        """What the resident's wallet and the officer see of it (no token hash, no status indices)."""
        return {"id": self.id, "kind": self.kind.value, "state": self.state.value, "record_id": self.record_id,
                "district": self.district, "created_at": self.created_at, "updated_at": self.updated_at,
                "address": self.address, "new_district": self.new_district, "queued_because": self.queued_because,
                "decided_by": self.decided_by, "reason": self.reason, "new_record_id": self.new_record_id}
