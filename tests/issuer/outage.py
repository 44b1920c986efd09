"""A real store that goes down on demand, on either back end: a locked SQLite file (SQLITE_BUSY past a short
busy timeout) or a redis-server killed with SIGKILL. Both make every store call raise StoreUnavailableError.
``sample`` reads one value out of a Prometheus text exposition."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from issuer.store import Store
from issuer.store.sqlite import SQLiteStore

from .redis_server import REDIS_SERVER, RedisServer

OUTAGE_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "redis"])


@contextmanager
def store_with_outage(backend: str, tmp_path: Path) -> Iterator[tuple[Store, Callable[[], None]]]:
    """``(store, go_down)``: the store works until ``go_down()``, then every call fails."""
    if backend == "sqlite":
        path = tmp_path / "epermit.sqlite3"
        store = SQLiteStore(path, busy_timeout_ms=100)
        blockers: list[sqlite3.Connection] = []

        def lock() -> None:
            store.close()  # its idle connections share the WAL index; new ones meet the lock below
            blocker = sqlite3.connect(path, isolation_level=None, timeout=5)
            blocker.execute("PRAGMA locking_mode = EXCLUSIVE")
            blocker.execute("BEGIN EXCLUSIVE")
            blocker.execute("INSERT OR REPLACE INTO meta VALUES ('blocked', '1')")
            blocker.execute("COMMIT")
            blockers.append(blocker)

        try:
            yield store, lock
        finally:
            for blocker in blockers:
                blocker.close()
            store.close()
        return
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    from issuer.store.redis import RedisStore

    server = RedisServer(tmp_path / "redis").start()
    redis_store = RedisStore.from_url(server.url, prefix="{o" + uuid.uuid4().hex + "}")
    try:
        yield redis_store, server.kill9
    finally:
        redis_store.close()
        server.stop()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with exactly ``labels`` in the exposition ``text`` (0 when absent)."""
    for line in text.splitlines():
        found = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if found is None or found.group(1) != name:
            continue
        given = dict(re.findall(r'([a-z_]+)="([^"]*)"', found.group(2) or ""))
        if given == labels:
            return float(found.group(3))
    return 0.0
