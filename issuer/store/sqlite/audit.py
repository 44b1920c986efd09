"""SQLite: the audit hash chain; an append reads the head and inserts in one BEGIN IMMEDIATE, so appends serialise.

``append_entry`` is that append inside a transaction the caller holds, so that a change and its audit entry
commit together (a record's state change, its status bits and the entry: one commit or none).
"""

from __future__ import annotations

import sqlite3

from issuer.model import GENESIS, AuditEntry, chained
from issuer.store.sqlite.db import SQLiteFile

_NO_END = 1 << 62  # above every seq (SQLite integers are 64-bit)


def entry_from_row(r: sqlite3.Row) -> AuditEntry:
    return AuditEntry(r["seq"], r["time"], r["officer"], r["action"], r["record_id"], r["reason"], r["outcome"],
                      r["prev_hash"], r["hash"])


def audit_row(e: AuditEntry) -> tuple[object, ...]:
    return (e.seq, e.time, e.officer, e.action, e.record_id, e.reason, e.outcome, e.prev_hash, e.hash)


def append_entry(c: sqlite3.Connection, entry: AuditEntry) -> AuditEntry:
    """Chain ``entry`` after the last one and insert it, in the caller's (BEGIN IMMEDIATE) transaction."""
    last = c.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    linked = chained(entry, seq=1 if last is None else last[0] + 1, prev_hash=GENESIS if last is None else last[1])
    c.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", audit_row(linked))
    return linked


class SQLiteAudit:
    _db: SQLiteFile

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        with self._db.write() as c:  # the last hash and the insert in one BEGIN IMMEDIATE: appends serialise
            return append_entry(c, entry)

    def audit_chains(self) -> list[str]:
        return [""]  # one file, one chain

    def list_audit(self, *, after: int = 0, limit: int = 100, chain: str = "") -> list[AuditEntry]:
        if chain:
            return []
        rows = self._db.rows("SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit))
        return [entry_from_row(r) for r in rows]

    def audit_of_record(self, record_id: str, *, before: int | None = None, limit: int = 100) -> list[AuditEntry]:
        # The index audit_log_record (record_id, seq) answers this without reading other records' entries.
        rows = self._db.rows("SELECT * FROM audit_log WHERE record_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                             (record_id, _NO_END if before is None else before, limit))
        return [entry_from_row(r) for r in rows]

    def audit_head(self, chain: str = "") -> tuple[int, str] | None:
        if chain:
            return None
        row = self._db.row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        return None if row is None else (int(row["seq"]), str(row["hash"]))
