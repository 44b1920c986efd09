"""One SQLite file shared by threads and processes: connections, transactions, error mapping.

Connections come from a small pool: each store step borrows one and gives it back, so a server that starts
a thread per request (werkzeug's threaded server) keeps at most ``max_idle`` idle connections open, not one
per thread it ever ran (each holds descriptors for the file, its WAL and shared memory, and a page cache).
A step nested in another on the same thread gets the same connection (and transaction); after a fork the
child opens its own. WAL so readers never wait for the writer, ``synchronous=FULL`` so a committed
revocation survives a power cut, ``busy_timeout`` so writers queue on the file lock, and every failure of the
database itself surfaces as StoreUnavailableError (503).

``read_only`` opens the file without ever writing it (``mode=ro``), for the commands that only read (audit
verify, backup): when the file or its folder has no write permission at all, also ``immutable=1``, so that
SQLite creates no -wal or -shm beside a copy nobody can be writing.

The file holds every resident's personal data: it is created 0600 before SQLite opens it (SQLite gives its
``-wal`` and ``-shm`` files the database file's mode), and an existing file or side file that is readable
by others is made 0600 when the store opens (not when it is opened ``read_only``: that writes nothing).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from issuer.errors import StoreUnavailableError
from issuer.store.sqlite.writers import WriterQueue

T = TypeVar("T")

MAX_IDLE = 8  # idle connections kept per process; more concurrent steps open (and then close) their own


def _writable(path: Path) -> bool:
    """Whether any write permission bit is set (chmod, not os.access: root may write anything)."""
    try:
        return bool(os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    except OSError:
        return True


def read_only_uri(path: Path) -> str:
    """The ``file:`` URI that opens ``path`` read-only; immutable when nobody can be writing it."""
    query = "mode=ro"
    wal = path.with_name(path.name + "-wal")
    # With a WAL beside it the newest commits may be only there: read it (the -shm is needed then). Without
    # one and with no write permission on the file or its folder, no writer exists: immutable creates nothing.
    if not wal.exists() and not (_writable(path) and _writable(path.parent)):
        query += "&immutable=1"
    return f"file:{urllib.parse.quote(str(path.absolute()))}?{query}"


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
    def __init__(self, path: str | Path, *, busy_timeout_ms: int, read_only: bool = False,
                 max_idle: int = MAX_IDLE) -> None:
        if str(path) in ("", ":memory:"):
            raise ValueError("SQLiteStore needs a file: every thread opens its own connection")
        self._path = str(path)
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._read_only = read_only
        self._max_idle = max(0, max_idle)
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._local = threading.local()  # the connection this thread has borrowed: (conn, pid)
        self._pid = os.getpid()
        self._epoch = 0  # bumped by close(): a connection borrowed before it is closed when given back
        self._inherited: list[sqlite3.Connection] = []  # a parent's connections, never used nor closed here
        if not read_only:
            make_private(self._path)
        self._writers = WriterQueue(self._path, timeout_ms=self._busy_timeout_ms)

    @property
    def read_only(self) -> bool:
        return self._read_only

    def initialize(self, schema: str) -> None:
        with self.borrow() as conn:
            self.guard(lambda: conn.execute("PRAGMA journal_mode = WAL"))  # persistent: a property of the file
            # executescript commits any open transaction first, so the script carries its own BEGIN/COMMIT.
            self.guard(lambda: conn.executescript("BEGIN IMMEDIATE;" + schema + "COMMIT;"))

    def rebuild(self) -> None:
        """Rewrite the file from its live rows (VACUUM) and empty the WAL into it: nothing deleted stays on disk."""
        with self.borrow() as conn:
            self.guard(lambda: conn.execute("VACUUM"))
            self.guard(lambda: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)"))

    def close(self) -> None:
        """Close the idle connections; those borrowed now are closed when given back."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._epoch += 1
        for conn in idle:
            conn.close()
        self._writers.close()  # a later write opens it again

    def _open(self) -> sqlite3.Connection:
        timeout = self._busy_timeout_ms / 1000
        if self._read_only:
            uri = read_only_uri(Path(self._path))
            conn = self.guard(lambda: sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None,
                                                      check_same_thread=False))
        else:
            conn = self.guard(lambda: sqlite3.connect(self._path, timeout=timeout, isolation_level=None,
                                                      check_same_thread=False))
        conn.row_factory = sqlite3.Row

        def configure() -> None:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            conn.execute("PRAGMA foreign_keys = ON")
            if not self._read_only:
                conn.execute("PRAGMA synchronous = FULL")  # may read the file: locked, it fails like any step

        try:
            self.guard(configure)
        except BaseException:
            conn.close()
            raise
        return conn

    def _take(self) -> tuple[sqlite3.Connection, int]:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connections stay untouched in the child
                self._inherited.extend(self._idle)
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop(), self._epoch
            epoch = self._epoch
        return self._open(), epoch

    def _give_back(self, conn: sqlite3.Connection, epoch: int) -> None:
        if conn.in_transaction:  # a step that failed half way: never hand on an open transaction
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                conn.close()
                return
        with self._lock:
            if self._pid == os.getpid() and epoch == self._epoch and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def borrow(self) -> Iterator[sqlite3.Connection]:
        """A connection for one store step, given back (or closed) at its end."""
        held = getattr(self._local, "held", None)
        if held is not None and held[1] == os.getpid():  # nested in a step of this thread: the same one
            yield held[0]
            return
        conn, epoch = self._take()
        self._local.held = (conn, os.getpid())
        try:
            yield conn
        finally:
            self._local.held = None
            self._give_back(conn, epoch)

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the whole database at one moment, through SQLite's online backup API (one
        read snapshot: writers go on meanwhile; what is still in the WAL is copied too). ``target`` is
        created 0600 and must not exist; it is left a self-contained rollback-journal file, fsynced."""
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        copy = sqlite3.connect(target, isolation_level=None)
        try:
            with self.borrow() as conn:
                self.guard(lambda: conn.backup(copy))
            self.guard(lambda: copy.execute("PRAGMA journal_mode = DELETE"))  # no -wal needed beside it
        finally:
            copy.close()
        fd = os.open(target, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

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
        """A ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on any exception; begun once
        it is this writer's turn (issuer.store.sqlite.writers)."""
        with self._writers.turn(), self.borrow() as conn:
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
        with self.borrow() as conn:
            return self.guard(lambda: conn.execute(sql, params).fetchall())

    def row(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def snapshot(self, step: Callable[[sqlite3.Connection], T]) -> T:
        """Several reads from one consistent snapshot (a deferred read transaction)."""
        with self.borrow() as conn:

            def run() -> T:
                conn.execute("BEGIN")
                try:
                    return step(conn)
                finally:
                    conn.execute("COMMIT")

            return self.guard(run)
