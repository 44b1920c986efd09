"""The journal of a streamed bulk run: a SQLite file beside the CSV (0600), kept until the run is done.

It holds what a run must remember across an interruption, and what a file of a million rows cannot keep in
memory: the verdict of the check pass (which data rows are bad, how many rows there are), the document
numbers and the holders of the rows judged good so far (``JournalEarlier``: "repeats an earlier row" and
the bureau's rules across the whole file, in bounded memory), and per batch the sizes the output files had
once the batch's PINs were written, so that a resumed run cuts them back to the last stored batch.
Which batches are stored is the store's to say (Store.bulk_progress, counted in the batch's own atomic
step), never the journal's: the journal is written before the batch is stored, so it may be one batch
ahead, never behind. Holders are kept as truncated holder hashes and numbers as truncated SHA-256 digests,
with the type and validity dates the rules read; no name, no citizen ID. An exclusive lock on the file
keeps a second run of the same CSV out while one is going.
"""

from __future__ import annotations

import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from credential.model import CredentialType, Permit
from issuer.bulk.validation import MemoryEarlier
from issuer.errors import IssuerError
from issuer.model import Record, RecordState, holder_hash

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS numbers (digest BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS holders (
    holder BLOB NOT NULL, line INTEGER NOT NULL, type TEXT NOT NULL, valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL, PRIMARY KEY (holder, line)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bad (idx INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS batches (batch INTEGER PRIMARY KEY, sizes TEXT NOT NULL);
"""


class JournalBusyError(IssuerError):
    """Another run holds the journal of this CSV."""


def journal_path(csv_path: Path) -> Path:
    return csv_path.with_name(f"{csv_path.name}.journal")


def _number(number: str) -> bytes:
    return hashlib.sha256(number.encode("utf-8")).digest()[:16]


def _holder(permit: Permit) -> bytes:
    return bytes.fromhex(holder_hash(permit.holder.citizen_id))[:16]


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalBusyError(f"{path} is locked: another `epermit issue` runs on this file") from None
        self._lock = fd
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")  # a batch's sizes are durable before the batch is stored
        self._db.executescript(_SCHEMA)
        for side in ("-wal", "-shm"):
            if os.path.exists(f"{path}{side}"):
                os.chmod(f"{path}{side}", 0o600)

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT name, value FROM meta").fetchall())

    def start(self, meta: Mapping[str, str]) -> None:
        """Begin a new run: everything of an earlier one dropped."""
        with self._db:
            self._db.execute("BEGIN")
            for table in ("meta", "numbers", "holders", "bad", "batches"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 (the names above)
            self._db.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))

    def set_meta(self, values: Mapping[str, str]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    def add_bad(self, indices: Sequence[int]) -> None:
        if indices:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR IGNORE INTO bad VALUES (?)", [(i,) for i in indices])

    def bad_between(self, first: int, last: int) -> set[int]:
        return {i for (i,) in self._db.execute("SELECT idx FROM bad WHERE idx BETWEEN ? AND ?", (first, last))}

    def record_batch(self, batch: int, sizes: Mapping[str, int]) -> None:
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO batches VALUES (?, ?)", (batch, json.dumps(dict(sizes))))

    def sizes_after(self, batch: int) -> dict[str, int] | None:
        row = self._db.execute("SELECT sizes FROM batches WHERE batch = ?", (batch,)).fetchone()
        return None if row is None else {k: int(v) for k, v in json.loads(row[0]).items()}

    def remove(self) -> None:
        """The run is over: the journal goes (its lock with it)."""
        self.close()
        for side in ("", "-wal", "-shm"):
            try:
                os.unlink(f"{self.path}{side}")
            except FileNotFoundError:
                pass

    def close(self) -> None:
        if self._lock >= 0:
            self._db.close()
            os.close(self._lock)
            self._lock = -1

    def earlier(self) -> JournalEarlier:
        return JournalEarlier(self._db)


class JournalEarlier(MemoryEarlier):
    """EarlierRows kept in the journal: the current chunk's rows in memory (MemoryEarlier), written out
    when the next chunk loads; the chunk's numbers and holders looked up in the journal."""

    def __init__(self, db: sqlite3.Connection) -> None:
        super().__init__()
        self._db = db
        self._known: set[bytes] = set()
        self._found: dict[bytes, list[tuple[int, str, str, str]]] = {}
        self._new: list[Record] = []

    def load(self, permits: Sequence[Permit]) -> None:
        self.flush()
        numbers = [_number(p.document_number) for p in permits]
        holders = sorted({_holder(p) for p in permits})
        # Only "?" marks go into the text, one per value: the values are bound.
        self._known = {d for (d,) in self._db.execute(
            f"SELECT digest FROM numbers WHERE digest IN ({_marks(numbers)})", numbers)}  # noqa: S608
        self._found = {}
        for holder, line, kind, start, end in self._db.execute(
                f"SELECT holder, line, type, valid_from, valid_until FROM holders WHERE holder IN ({_marks(holders)})",  # noqa: S608
                holders):
            self._found.setdefault(holder, []).append((line, kind, start, end))

    def has_number(self, number: str) -> bool:
        return _number(number) in self._known or super().has_number(number)

    def records(self, permit: Permit) -> list[Record]:
        earlier = [
            # The row being checked with the earlier row's type and validity: the same holder, and what the
            # rules read of a record (issuer.rules.check_application).
            Record(f"line-{line}", dataclasses.replace(
                permit, type=CredentialType.from_slug(kind), valid_from=datetime.date.fromisoformat(start),
                valid_until=datetime.date.fromisoformat(end)), RecordState.ACTIVE, 0, 0)
            for line, kind, start, end in self._found.get(_holder(permit), ())]
        return [*earlier, *super().records(permit)]

    def add(self, record: Record) -> None:
        super().add(record)
        self._new.append(record)

    def flush(self) -> None:
        if not self._new:
            return
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO numbers VALUES (?)",
                                 [(_number(r.permit.document_number),) for r in self._new])
            self._db.executemany("INSERT OR IGNORE INTO holders VALUES (?, ?, ?, ?, ?)", [
                (_holder(r.permit), int(r.id.removeprefix("line-")), r.permit.type.slug,
                 r.permit.valid_from.isoformat(), r.permit.valid_until.isoformat()) for r in self._new])
        self._new = []
        MemoryEarlier.__init__(self)
