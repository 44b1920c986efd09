"""SQLite: the wallet API's ephemeral values (nonces, access tokens; taken by exactly one caller), counters, and
the sequences of document numbers (kept for good).

The single-value methods and ``ephemeral_step`` (several of them in one transaction: one commit, one fsync of
the WAL, instead of one each) share the statements below, so a step does exactly what its parts would.
"""

from __future__ import annotations

import secrets
import sqlite3

from issuer.store import EphemeralResult, EphemeralStep, short_lived
from issuer.store.memory_ephemeral import MemoryEphemeral
from issuer.store.sqlite.db import SQLiteFile

_PURGE_ONE_IN = 64  # expired ephemeral rows are swept now and then, not on every write


def put_value(c: sqlite3.Connection, kind: str, key: str, value: str, ttl: int, now: int) -> None:
    """Inside the caller's write transaction."""
    if secrets.randbelow(_PURGE_ONE_IN) == 0:
        c.execute("DELETE FROM ephemeral WHERE expires_at <= ?", (now,))
        c.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
    c.execute("INSERT OR REPLACE INTO ephemeral VALUES (?, ?, ?, ?)", (kind, key, value, now + ttl))


def count(c: sqlite3.Connection, kind: str, key: str, ttl: int, now: int) -> int:
    """Inside the caller's write transaction: Store.increment."""
    row = c.execute(
        "INSERT INTO counters VALUES (?, ?, 1, ?) ON CONFLICT (kind, key) DO UPDATE SET "
        "count = CASE WHEN expires_at <= ? THEN 1 ELSE count + 1 END, "
        "expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at ELSE expires_at END "
        "RETURNING count",
        (kind, key, now + ttl, now, now),
    ).fetchone()
    return int(row[0])


def live_value(c: sqlite3.Connection, kind: str, key: str, now: int) -> str | None:
    row = c.execute("SELECT value FROM ephemeral WHERE kind = ? AND key = ? AND expires_at > ?",
                    (kind, key, now)).fetchone()
    return None if row is None else str(row[0])


class SQLiteEphemeral:
    _db: SQLiteFile
    _memory: MemoryEphemeral | None  # the short-lived kinds, when a single-process office keeps them in memory

    def _in_memory(self, kind: str) -> MemoryEphemeral | None:
        return self._memory if self._memory is not None and short_lived(kind) else None

    def put_ephemeral(self, kind: str, key: str, value: str, ttl: int, now: int) -> None:
        if (memory := self._in_memory(kind)) is not None:
            return memory.put(kind, key, value, ttl, now)
        with self._db.write() as c:
            put_value(c, kind, key, value, ttl, now)

    def get_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        if (memory := self._in_memory(kind)) is not None:
            return memory.get(kind, key, now)
        row = self._db.row(
            "SELECT value FROM ephemeral WHERE kind = ? AND key = ? AND expires_at > ?", (kind, key, now)
        )
        return None if row is None else str(row[0])

    def take_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        if (memory := self._in_memory(kind)) is not None:
            return memory.take(kind, key, now)
        with self._db.write() as c:
            row = c.execute(
                "DELETE FROM ephemeral WHERE kind = ? AND key = ? RETURNING value, expires_at", (kind, key)
            ).fetchone()
        if row is None or row["expires_at"] <= now:
            return None
        return str(row["value"])

    def increment(self, kind: str, key: str, ttl: int, now: int) -> int:
        if (memory := self._in_memory(kind)) is not None:
            return memory.increment(kind, key, ttl, now)
        with self._db.write() as c:
            return count(c, kind, key, ttl, now)

    def ephemeral_step(self, step: EphemeralStep, now: int) -> EphemeralResult:
        if len(set(step.takes)) != len(step.takes):
            raise ValueError("a step takes each value once")
        sorts = {short_lived(kind) for kind in step.kinds()}
        if len(sorts) > 1:
            raise ValueError("one step's kinds are all short-lived or none (they may live apart)")
        if self._memory is not None and sorts == {True}:
            return self._memory.step(step, now)
        if not (step.counts or step.takes or step.puts or step.adds):  # reads only: no write transaction, no fsync
            return EphemeralResult((), False, (), tuple(self.get_ephemeral(kind, key, now) for kind, key in step.gets))
        with self._db.write() as c:
            counts = tuple(count(c, kind, key, ttl, now) for kind, key, ttl, _ in step.counts)
            if any(n > limit for n, (_, _, _, limit) in zip(counts, step.counts, strict=True)):
                return EphemeralResult(counts, True, None, ())
            taken = [live_value(c, kind, key, now) for kind, key in step.takes]
            if any(value is None for value in taken):  # all or none: nothing is deleted
                return EphemeralResult(counts, False, None, ())
            for kind, key in step.takes:
                c.execute("DELETE FROM ephemeral WHERE kind = ? AND key = ?", (kind, key))
            got = tuple(live_value(c, kind, key, now) for kind, key in step.gets)
            for kind, key, value, ttl in step.puts:
                put_value(c, kind, key, value, ttl, now)
            added = tuple(live_value(c, kind, key, now) is None for kind, key, _, _ in step.adds)
            for (kind, key, value, ttl), add in zip(step.adds, added, strict=True):
                if add:
                    put_value(c, kind, key, value, ttl, now)
        return EphemeralResult(counts, False, tuple(v for v in taken if v is not None), got, added)

    def allocate_number(self, sequence: str) -> int:
        with self._db.write() as c:  # one BEGIN IMMEDIATE: two writers never read the same ``last``
            row = c.execute(
                "INSERT INTO sequences VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET last = last + 1 RETURNING last",
                (sequence,),
            ).fetchone()
        return int(row[0])
