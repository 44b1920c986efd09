"""One SQLite file shared by threads and processes: connections, transactions, error mapping.

One connection per thread (and per process after a fork), WAL so readers never wait for the writer,
``synchronous=FULL`` so a committed revocation survives a power cut, ``busy_timeout`` so writers queue
on the file lock, and every failure of the database itself surfaces as StoreUnavailableError (503).

The file holds every resident's personal data: it is created 0600 before SQLite opens it (SQLite gives its
``-wal`` and ``-shm`` files the database file's mode), and an existing file or side file that is readable
by others is made 0600 when the store opens.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from issuer.errors import StoreUnavailableError

T = TypeVar("T")

PRIVATE = 0o600
SIDE_FILES = ("", "-wal", "-shm", "-journal")


def make_private(path: str) -> None:
    """Create the database file 0600 if absent, and take every permission but the owner's off it and its
    side files (whatever the umask; an existing file may come from a copy or an older epermit)."""
    where = path
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE))
        for where in (path + suffix for suffix in SIDE_FILES):
            try:
                mode = os.stat(where).st_mode
            except FileNotFoundError:
                continue
            if mode & 0o777 & ~PRIVATE:
                os.chmod(where, mode & PRIVATE)
    except OSError as exc:
        raise StoreUnavailableError(f"store unavailable: cannot keep {where} private: {exc.strerror}") from exc


class SQLiteFile:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int) -> None:
        if str(path) in ("", ":memory:"):
            raise ValueError("SQLiteStore needs a file: every thread opens its own connection")
        self._path = str(path)
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        make_private(self._path)

    def initialize(self, schema: str) -> None:
        conn = self.connection()
        self.guard(lambda: conn.execute("PRAGMA journal_mode = WAL"))  # persistent: a property of the file
        # executescript commits any open transaction first, so the script carries its own BEGIN/COMMIT.
        self.guard(lambda: conn.executescript("BEGIN IMMEDIATE;" + schema + "COMMIT;"))

    def rebuild(self) -> None:
        """Rewrite the file from its live rows (VACUUM) and empty the WAL into it: nothing deleted stays on disk."""
        conn = self.connection()
        self.guard(lambda: conn.execute("VACUUM"))
        self.guard(lambda: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local.__dict__.clear()

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = self.guard(lambda: sqlite3.connect(
                self._path, timeout=self._busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
            ))
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn, self._local.pid = conn, os.getpid()
            with self._lock:
                self._connections.append(conn)
        return conn

    @staticmethod
    def guard(step: Callable[[], T]) -> T:
        try:
            return step()
        except sqlite3.IntegrityError:  # a constraint: the caller's business
            raise
        except sqlite3.DatabaseError as exc:  # locked past busy_timeout, disk I/O, full disk, corrupt file
            raise StoreUnavailableError(f"store unavailable: {exc}") from exc

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on any exception."""
        conn = self.connection()
        self.guard(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            yield conn
        except sqlite3.IntegrityError:
            self._rollback(conn)
            raise
        except sqlite3.DatabaseError as exc:
            self._rollback(conn)
            raise StoreUnavailableError(f"store unavailable: {exc}") from exc
        except BaseException:
            self._rollback(conn)
            raise
        self.guard(lambda: conn.execute("COMMIT"))

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        if conn.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
            conn.execute("ROLLBACK")

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        conn = self.connection()
        return self.guard(lambda: conn.execute(sql, params).fetchall())

    def row(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def snapshot(self, step: Callable[[sqlite3.Connection], T]) -> T:
        """Several reads from one consistent snapshot (a deferred read transaction)."""
        conn = self.connection()

        def run() -> T:
            conn.execute("BEGIN")
            try:
                return step(conn)
            finally:
                conn.execute("COMMIT")

        return self.guard(run)
