"""The SQLite writers' queue (issuer.store.sqlite.writers): one writer at a time across threads and processes,
re-entrant within a thread, and bounded by the busy timeout."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from issuer.errors import StoreUnavailableError
from issuer.store.sqlite import SQLiteStore
from issuer.store.sqlite.writers import WriterQueue


def _hold(folder: str, held: multiprocessing.synchronize.Event, release: multiprocessing.synchronize.Event) -> None:
    with WriterQueue(str(Path(folder) / "s.sqlite3"), timeout_ms=5000).turn():
        held.set()
        release.wait(30)


def test_a_writer_of_another_process_waits_for_the_turn_and_then_gets_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    held, release = context.Event(), context.Event()
    child = context.Process(target=_hold, args=(str(tmp_path), held, release))
    child.start()
    try:
        assert held.wait(30)
        with pytest.raises(StoreUnavailableError, match="stayed locked"):
            with WriterQueue(str(tmp_path / "s.sqlite3"), timeout_ms=50).turn():
                pass
        release.set()
        child.join(30)
        with WriterQueue(str(tmp_path / "s.sqlite3"), timeout_ms=5000).turn():
            pass
    finally:
        release.set()
        child.join(30)


def test_threads_take_turns_and_a_thread_may_nest(tmp_path: Path) -> None:
    queue = WriterQueue(str(tmp_path / "s.sqlite3"), timeout_ms=50)
    held, release, refused = threading.Event(), threading.Event(), []

    def other() -> None:
        held.wait(30)
        try:
            with queue.turn():
                pass
        except StoreUnavailableError as exc:
            refused.append(exc)
        release.set()

    thread = threading.Thread(target=other)
    thread.start()
    with queue.turn(), queue.turn():  # nested: the same thread keeps its turn
        held.set()
        release.wait(30)
    thread.join(30)
    assert len(refused) == 1
    with queue.turn():
        pass
    queue.close()


def test_store_writes_still_commit_through_the_queue(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.put_ephemeral("c_nonce", "n", "1", 60, 0)
    store.close()
    store.put_ephemeral("c_nonce", "m", "1", 60, 0)  # a write after close opens the queue again
    assert store.take_ephemeral("c_nonce", "n", 1) == "1" and store.take_ephemeral("c_nonce", "m", 1) == "1"
