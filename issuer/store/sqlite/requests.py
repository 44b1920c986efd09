"""SQLite: residents' requests (issuer.requests), the notifications outbox, and retiring chosen indices."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from credential.statuslist import INVALID
from issuer.errors import StateConflictError
from issuer.store import StoredNotification, StoredRequest
from issuer.store.sqlite.db import SQLiteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS resident_requests (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, record_id TEXT NOT NULL,
    district TEXT NOT NULL, holder TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS resident_requests_holder ON resident_requests (holder);
CREATE INDEX IF NOT EXISTS resident_requests_queue ON resident_requests (district, state, created_at);
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY, holder TEXT NOT NULL, record_id TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL,
    created_at INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS notifications_holder ON notifications (holder, created_at);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
"""


def _request(row: sqlite3.Row | None) -> StoredRequest | None:
    if row is None:
        return None
    return StoredRequest(row["id"], row["kind"], row["state"], row["record_id"], row["district"], row["holder"],
                         row["created_at"], row["updated_at"], row["data"])


def _notification(row: sqlite3.Row) -> StoredNotification:
    return StoredNotification(row["id"], row["holder"], row["record_id"], row["kind"], row["data"],
                              row["created_at"], row["state"], row["attempts"], row["next_attempt_at"])


def _marks(items: Sequence[str]) -> str:
    return ", ".join("?" for _ in items)


class SQLiteRequests:
    _db: SQLiteFile

    def retire_indices(self, record_id: str, indices: Sequence[tuple[int, int]], *, now: int) -> list[tuple[int, int]]:
        retired: list[tuple[int, int]] = []
        with self._db.write() as c:
            for list_no, idx in sorted(set(indices)):
                delivered = c.execute("SELECT 1 FROM delivered WHERE record_id = ? AND list_no = ? AND idx = ?",
                                      (record_id, list_no, idx)).fetchone()
                if delivered is None or c.execute("SELECT 1 FROM retired WHERE list_no = ? AND idx = ?",
                                                  (list_no, idx)).fetchone() is not None:
                    continue
                c.execute("UPDATE status_entries SET value = ? WHERE list_no = ? AND idx = ?", (INVALID, list_no, idx))
                c.execute("INSERT INTO retired VALUES (?, ?, ?, ?)", (list_no, idx, record_id, now))
                retired.append((list_no, idx))
            for list_no in sorted({list_no for list_no, _ in retired}):
                c.execute("UPDATE status_lists SET generation = generation + 1 WHERE list_no = ?", (list_no,))
        return retired

    def insert_request(self, request: StoredRequest) -> None:
        try:
            with self._db.write() as c:
                c.execute("INSERT INTO resident_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (request.id, request.kind, request.state, request.record_id, request.district,
                           request.holder, request.created_at, request.updated_at, request.data))
        except sqlite3.IntegrityError as exc:
            raise StateConflictError("request id already exists") from exc

    def get_request(self, request_id: str) -> StoredRequest | None:
        return _request(self._db.row("SELECT * FROM resident_requests WHERE id = ?", (request_id,)))

    def update_request(self, request: StoredRequest, *, expected: str) -> bool:
        with self._db.write() as c:
            return c.execute(
                "UPDATE resident_requests SET state = ?, updated_at = ?, data = ? WHERE id = ? AND state = ?",
                (request.state, request.updated_at, request.data, request.id, expected),
            ).rowcount == 1

    def requests_of_holder(self, holder: str) -> list[StoredRequest]:
        rows = self._db.rows("SELECT * FROM resident_requests WHERE holder = ? ORDER BY created_at, rowid", (holder,))
        return [r for r in map(_request, rows) if r is not None]

    def requests_in_districts(self, districts: Sequence[str], states: Sequence[str], *,
                              limit: int = 100) -> list[StoredRequest]:
        if not districts or not states:
            return []
        rows = self._db.rows(
            f"SELECT * FROM resident_requests WHERE district IN ({_marks(districts)}) AND state IN ({_marks(states)}) "  # noqa: S608
            "ORDER BY created_at, rowid LIMIT ?",
            (*districts, *states, limit),
        )
        return [r for r in map(_request, rows) if r is not None]

    def insert_notification(self, notification: StoredNotification) -> None:
        n = notification
        try:
            with self._db.write() as c:
                c.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (n.id, n.holder, n.record_id, n.kind, n.data, n.created_at, n.state, n.attempts,
                           n.next_attempt_at))
        except sqlite3.IntegrityError as exc:
            raise StateConflictError("notification id already exists") from exc

    def notifications_of_holder(self, holder: str, *, limit: int = 50) -> list[StoredNotification]:
        rows = self._db.rows("SELECT * FROM notifications WHERE holder = ? ORDER BY created_at DESC, rowid DESC "
                             "LIMIT ?", (holder, limit))
        return [_notification(row) for row in rows]

    def due_notifications(self, now: int, *, limit: int = 100) -> list[StoredNotification]:
        rows = self._db.rows("SELECT * FROM notifications WHERE state = 'pending' AND next_attempt_at <= ? "
                             "ORDER BY created_at, rowid LIMIT ?", (now, limit))
        return [_notification(row) for row in rows]

    def update_notification(self, notification_id: str, *, state: str, attempts: int,
                            next_attempt_at: int) -> None:
        with self._db.write() as c:
            c.execute("UPDATE notifications SET state = ?, attempts = ?, next_attempt_at = ? WHERE id = ?",
                      (state, attempts, next_attempt_at, notification_id))
