"""Writers of one SQLite file queue for their turn instead of polling SQLite's lock.

``BEGIN IMMEDIATE`` alone makes a second writer wait in SQLite's busy handler, which sleeps 1, 2, 5, ... up to
100 ms between tries: under a steady stream of short transactions (gunicorn workers, each with threads) a
waiting writer keeps missing the moments the lock is free and can starve for seconds. So a writer first takes
its turn here: the threads of a process in a lock, the processes in an ``flock`` on the database's folder,
retried every few milliseconds, never longer than the busy timeout; only then does it begin. A writer without
this queue (an older epermit) still only waits in SQLite's handler: the transaction itself stays what makes a
step atomic.

The folder, not the file: closing any descriptor of the database file would drop the POSIX locks SQLite holds
on it in this process (another store on the same file, a transaction in another thread), and a lock file
beside it would be one more file to back up and keep private. The stores of one folder share the queue.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from issuer.errors import StoreUnavailableError

_FIRST_WAIT, _LONGEST_WAIT = 0.0005, 0.004  # seconds between tries for the file: a short, bounded poll


class WriterQueue:
    def __init__(self, path: str, *, timeout_ms: int) -> None:
        self._folder = os.path.dirname(os.path.abspath(path))
        self._timeout = timeout_ms / 1000
        self._lock = threading.RLock()
        self._depth = 0  # nested turns of the thread holding the lock (a step inside a step)
        self._fd: tuple[int, int] | None = None  # (pid, descriptor): a forked child opens its own

    def _descriptor(self) -> int:
        if self._fd is None or self._fd[0] != os.getpid():  # a forked child opens its own (same lock, its own fd)
            self._fd = (os.getpid(), os.open(self._folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        return self._fd[1]

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._fd[0] == os.getpid():
                os.close(self._fd[1])
            self._fd = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Exclusive among the writers of the file that use the queue, for the body of the with."""
        deadline = time.monotonic() + self._timeout
        if not self._lock.acquire(timeout=self._timeout):
            raise StoreUnavailableError("store unavailable: the database stayed locked")
        try:
            if self._depth == 0:
                self._take_file(deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def _take_file(self, deadline: float) -> None:
        fd, wait = self._descriptor(), _FIRST_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreUnavailableError("store unavailable: the database stayed locked") from None
                time.sleep(wait)
                wait = min(wait * 2, _LONGEST_WAIT)
