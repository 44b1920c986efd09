"""The audit trail: every state change and every denial, who did it, why, when — as a hash chain.

Each entry carries ``prev_hash`` (the hash of the entry before it; GENESIS for the first) and ``hash``,
the SHA-256 over a canonical encoding of all its fields including ``prev_hash`` (see ``entry_hash``).
Editing, deleting, inserting or reordering entries breaks the chain at that point (issuer.audit_chain
finds where); cutting off the tail is caught by comparing with a head noted earlier (the anchor).
The store appends in one transaction: read the last hash, chain, insert (Store.append_audit).

Entries name the officer and the record id only: never a name, citizen ID or document number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from issuer.store import Store

MAX_REASON = 200  # an officer's free text (issuer.service.check_reason)
MAX_ENTRY_REASON = 2000  # what one entry keeps: the reason plus e.g. the status indices it touched
GENESIS = "0" * 64
FORMAT = "epermit-audit-v1"

OK = "ok"  # the action happened
DENIED = "denied"  # role or district did not allow it (nothing changed)
REFUSED = "refused"  # allowed, but the record's state or the bureau's rules did not (nothing changed)
OUTCOMES = (OK, DENIED, REFUSED)


@dataclass(frozen=True)
class AuditEntry:
    seq: int  # 0 until the store appends it
    time: int
    officer: str  # officer id, or "wallet" / "cli" for the resident- and console-side actions
    action: str  # e.g. "register", "revoke", "deliver", "offer_burned"
    record_id: str | None
    reason: str  # reason code and free text, or what was delivered (status indices): no personal data
    outcome: str = OK
    prev_hash: str = ""  # set by the store
    hash: str = ""  # set by the store


def canonical(entry: AuditEntry) -> bytes:
    """The bytes the hash covers: a JSON array in a fixed field order, UTF-8, no whitespace."""
    fields = [FORMAT, entry.seq, entry.time, entry.officer, entry.action, entry.record_id, entry.reason,
              entry.outcome, entry.prev_hash]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def chained(entry: AuditEntry, *, seq: int, prev_hash: str) -> AuditEntry:
    """The entry as appended after one whose hash is ``prev_hash``: what a store writes."""
    linked = AuditEntry(seq, entry.time, entry.officer, entry.action, entry.record_id, entry.reason, entry.outcome,
                        prev_hash, "")  # not dataclasses.replace: this runs per entry in bulk issuance
    return AuditEntry(seq, entry.time, entry.officer, entry.action, entry.record_id, entry.reason, entry.outcome,
                      prev_hash, entry_hash(linked))


class AuditLog:
    def __init__(self, store: Store, clock: Callable[[], int]) -> None:
        self._store = store
        self._clock = clock

    def append(
        self, *, officer: str, action: str, record_id: str | None, reason: str = "", outcome: str = OK
    ) -> AuditEntry:
        return self._store.append_audit(self.entry(officer=officer, action=action, record_id=record_id,
                                                   reason=reason, outcome=outcome))

    def entry(
        self, *, officer: str, action: str, record_id: str | None, reason: str = "", outcome: str = OK
    ) -> AuditEntry:
        """The entry ``append`` would write, not yet chained (for a store step that appends several)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        return AuditEntry(0, self._clock(), officer[:64], action[:64], record_id, reason[:MAX_ENTRY_REASON], outcome)

    def list(self, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        return self._store.list_audit(after=after, limit=max(1, min(limit, 1000)))
