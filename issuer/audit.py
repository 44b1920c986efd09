"""The audit trail: every state change and every denial, who did it, why, when.

A plain append-only table for now; a later step chains the entries by hash (tamper evidence).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from issuer.store import Store

MAX_REASON = 200


@dataclass(frozen=True)
class AuditEntry:
    seq: int  # 0 until the store appends it
    time: int
    officer: str  # officer id, or "wallet" / "system" for the resident- and service-side actions
    action: str  # e.g. "register", "revoke", "authz_denied", "offer_burned"
    record_id: str | None
    reason: str


class AuditLog:
    def __init__(self, store: Store, clock: Callable[[], int]) -> None:
        self._store = store
        self._clock = clock

    def append(self, *, officer: str, action: str, record_id: str | None, reason: str = "") -> AuditEntry:
        entry = AuditEntry(0, self._clock(), officer, action, record_id, reason[:MAX_REASON])
        return self._store.append_audit(entry)

    def list(self, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        return self._store.list_audit(after=after, limit=max(1, min(limit, 1000)))
