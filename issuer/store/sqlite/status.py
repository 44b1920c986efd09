"""SQLite: status lists (random allocation, entries, generations) and the credentials delivered on them."""

from __future__ import annotations

import json
import secrets
import sqlite3

from credential.statuslist import StatusList
from issuer.model import RecordState
from issuer.store import FILL_LIMIT, StatusListFullError
from issuer.store.sqlite.db import SQLiteFile
from issuer.store.sqlite.ephemeral import put_value

# Below FILL_LIMIT at least one try in ten finds a free index: 400 misses in a row is ~1e-18.
_ALLOCATION_TRIES = 400


def allocate_index(c: sqlite3.Connection, list_no: int, size: int) -> int:
    """Store.allocate_status_index inside the caller's write transaction."""
    c.execute("INSERT OR IGNORE INTO status_lists (list_no, size) VALUES (?, ?)", (list_no, size))
    row = c.execute("SELECT size, allocated FROM status_lists WHERE list_no = ?", (list_no,)).fetchone()
    list_size = row["size"]
    if row["allocated"] >= int(list_size * FILL_LIMIT):
        raise StatusListFullError(list_no)
    for _ in range(_ALLOCATION_TRIES):
        idx = secrets.randbelow(list_size)
        # The UNIQUE (list_no, idx) constraint is what makes an index never handed out twice.
        if c.execute(
            "INSERT OR IGNORE INTO status_entries (list_no, idx) VALUES (?, ?)", (list_no, idx)
        ).rowcount == 1:
            c.execute("UPDATE status_lists SET allocated = allocated + 1 WHERE list_no = ?", (list_no,))
            return idx
    raise StatusListFullError(list_no)


def bind_delivered(c: sqlite3.Connection, record_id: str, list_no: int, idx: int, now: int, kid: str | None) -> bool:
    """Store.add_delivered inside the caller's write transaction."""
    row = c.execute("SELECT state FROM records WHERE id = ?", (record_id,)).fetchone()
    if row is None or row["state"] != RecordState.ACTIVE.value:
        return False
    c.execute("INSERT INTO delivered VALUES (?, ?, ?, ?)", (record_id, list_no, idx, now))
    if kid is not None:
        c.execute("INSERT INTO delivered_keys VALUES (?, ?, ?, ?)", (list_no, idx, kid, record_id))
    return True


class SQLiteStatusLists:
    _db: SQLiteFile

    def shard_of(self, district: str) -> str:
        return ""  # one file: every district's credentials share the lists

    def open_status_list(self, list_no: int, size: int, *, shard: str = "") -> bool:
        with self._db.write() as c:
            return c.execute(
                "INSERT OR IGNORE INTO status_lists (list_no, size) VALUES (?, ?)", (list_no, size)
            ).rowcount == 1

    def status_list_numbers(self, *, shard: str | None = None) -> list[int]:
        return [row[0] for row in self._db.rows("SELECT list_no FROM status_lists ORDER BY list_no")]

    def allocate_status_index(self, list_no: int, size: int) -> int:
        with self._db.write() as c:
            return allocate_index(c, list_no, size)

    def set_status(self, list_no: int, idx: int, value: int) -> None:
        with self._db.write() as c:
            if c.execute(
                "UPDATE status_entries SET value = ? WHERE list_no = ? AND idx = ?", (value, list_no, idx)
            ).rowcount != 1:
                raise LookupError(f"status index {list_no}/{idx} was never allocated")
            c.execute("UPDATE status_lists SET generation = generation + 1 WHERE list_no = ?", (list_no,))

    def status_bits(self, list_no: int) -> StatusList:
        def read(c: sqlite3.Connection) -> tuple[sqlite3.Row | None, list[sqlite3.Row]]:
            head = c.execute("SELECT size FROM status_lists WHERE list_no = ?", (list_no,)).fetchone()
            rows = c.execute(
                "SELECT idx, value FROM status_entries WHERE list_no = ? AND value != 0", (list_no,)
            ).fetchall()
            return head, rows

        head, rows = self._db.snapshot(read)  # the size and the entries from one snapshot
        if head is None:
            raise LookupError(f"status list {list_no} was never opened")
        bits = StatusList(head["size"], 2)
        for row in rows:
            bits.set(row["idx"], row["value"])
        return bits

    def status_generation(self, list_no: int) -> int:
        row = self._db.row("SELECT generation FROM status_lists WHERE list_no = ?", (list_no,))
        if row is None:
            raise LookupError(f"status list {list_no} was never opened")
        return int(row[0])


class SQLiteDeliveries:
    _db: SQLiteFile

    def add_delivered(self, record_id: str, list_no: int, idx: int, now: int, *, kid: str | None = None) -> bool:
        with self._db.write() as c:
            return bind_delivered(c, record_id, list_no, idx, now, kid)

    def allocate_delivered(self, record_id: str, list_no: int, size: int, now: int, *, kid: str | None = None,
                           remember: tuple[str, str, int] | None = None) -> int | None:
        with self._db.write() as c:  # one commit: the allocation, the binding and what is remembered, or none
            row = c.execute("SELECT state FROM records WHERE id = ?", (record_id,)).fetchone()
            if row is None or row["state"] != RecordState.ACTIVE.value:
                return None
            idx = allocate_index(c, list_no, size)
            bind_delivered(c, record_id, list_no, idx, now, kid)
            if remember is not None:
                kind, key, ttl = remember
                put_value(c, kind, key, json.dumps({"list": list_no, "idx": idx, "iat": now, "kid": kid}), ttl, now)
            return idx

    def delivered(self, record_id: str) -> list[tuple[int, int]]:
        rows = self._db.rows(
            "SELECT list_no, idx FROM delivered WHERE record_id = ? ORDER BY created_at, list_no, idx", (record_id,)
        )
        return [(row[0], row[1]) for row in rows]

    def deliveries_signed_by(self, kid: str) -> list[tuple[str, int, int]]:
        rows = self._db.rows(
            "SELECT k.record_id, k.list_no, k.idx FROM delivered_keys k WHERE k.kid = ? AND NOT EXISTS "
            "(SELECT 1 FROM retired x WHERE x.list_no = k.list_no AND x.idx = k.idx) ORDER BY k.record_id, k.list_no, k.idx",
            (kid,),
        )
        return [(str(row[0]), int(row[1]), int(row[2])) for row in rows]
