"""SQLite: the wallet API's ephemeral values (nonces, access tokens; taken by exactly one caller), counters, and
the sequences of document numbers (kept for good)."""

from __future__ import annotations

import secrets

from issuer.store.sqlite.db import SQLiteFile

_PURGE_ONE_IN = 64  # expired ephemeral rows are swept now and then, not on every write


class SQLiteEphemeral:
    _db: SQLiteFile

    def put_ephemeral(self, kind: str, key: str, value: str, ttl: int, now: int) -> None:
        with self._db.write() as c:
            if secrets.randbelow(_PURGE_ONE_IN) == 0:
                c.execute("DELETE FROM ephemeral WHERE expires_at <= ?", (now,))
                c.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            c.execute("INSERT OR REPLACE INTO ephemeral VALUES (?, ?, ?, ?)", (kind, key, value, now + ttl))

    def get_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        row = self._db.row(
            "SELECT value FROM ephemeral WHERE kind = ? AND key = ? AND expires_at > ?", (kind, key, now)
        )
        return None if row is None else str(row[0])

    def take_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        with self._db.write() as c:
            row = c.execute(
                "DELETE FROM ephemeral WHERE kind = ? AND key = ? RETURNING value, expires_at", (kind, key)
            ).fetchone()
        if row is None or row["expires_at"] <= now:
            return None
        return str(row["value"])

    def increment(self, kind: str, key: str, ttl: int, now: int) -> int:
        with self._db.write() as c:
            row = c.execute(
                "INSERT INTO counters VALUES (?, ?, 1, ?) ON CONFLICT (kind, key) DO UPDATE SET "
                "count = CASE WHEN expires_at <= ? THEN 1 ELSE count + 1 END, "
                "expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at ELSE expires_at END "
                "RETURNING count",
                (kind, key, now + ttl, now, now),
            ).fetchone()
        return int(row[0])

    def allocate_number(self, sequence: str) -> int:
        with self._db.write() as c:  # one BEGIN IMMEDIATE: two writers never read the same ``last``
            row = c.execute(
                "INSERT INTO sequences VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET last = last + 1 RETURNING last",
                (sequence,),
            ).fetchone()
        return int(row[0])
