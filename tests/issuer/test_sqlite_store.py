"""SQLite specifics: several processes sharing one file, durability settings, the CLI over the store."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.cli.officers import add_officer_commands
from epermit.office import KEYS_DIR, STORE_FILE, OfficeData
from issuer.errors import StoreUnavailableError
from issuer.keyed import KeyedHash
from issuer.model import Role
from issuer.officers import OfficerRegistry
from issuer.store.sqlite import SQLiteStore
from keys import PASSPHRASE_ENV, init_keys
from tests.conftest import T0

PROCESSES = 8


def _take(path: str, barrier: Any, results: Any) -> None:
    store = SQLiteStore(path)
    barrier.wait()
    results.put(store.take_ephemeral("c_nonce", "n", T0))


def _allocate(path: str, barrier: Any, results: Any) -> None:
    store = SQLiteStore(path)
    barrier.wait()
    results.put([store.allocate_status_index(1, 4096) for _ in range(20)])


@pytest.mark.parametrize("step", [_take, _allocate])
def test_processes_sharing_one_file(tmp_path: Path, step: Any) -> None:
    path = str(tmp_path / "shared.sqlite3")
    SQLiteStore(path).put_ephemeral("c_nonce", "n", "v", 60, T0)
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=step, args=(path, barrier, results)) for _ in range(PROCESSES)]
    for w in workers:
        w.start()
    outcomes = [results.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(timeout=60)
        assert w.exitcode == 0
    if step is _take:
        assert [o for o in outcomes if o is not None] == ["v"]
    else:
        flat = [i for o in outcomes for i in o]
        assert len(set(flat)) == PROCESSES * 20


def test_the_file_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    with store._db.borrow() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    SQLiteStore(tmp_path / "s.sqlite3").initialize()  # a second start on the same file is harmless


def test_a_held_lock_is_a_503_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    store = SQLiteStore(path, busy_timeout_ms=100)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailableError) as unavailable:
            store.increment("k", "k", 60, T0)
        assert unavailable.value.http_status == 503
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert store.increment("k", "k", 60, T0) == 1  # and the store works again


def test_memory_databases_are_refused() -> None:
    with pytest.raises(ValueError):
        SQLiteStore(":memory:")


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="epermit")
    add_officer_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.handler(args))


def test_officer_cli_adds_officers_and_prints_a_working_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    assert run_cli("officers", "add", "--data", str(data), "--id", "li", "--name", "李娜",
                   "--role", "supervisor", "--district", "110105", "--district", "110108") == 0
    capsys.readouterr()
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    assert run_cli("officers", "token", "--data", str(data), "--id", "li", "--ttl-days", "1") == 2
    assert "no keys in" in capsys.readouterr().err  # a token is hashed with the keys' store secret
    ring = init_keys(data / KEYS_DIR, b"office passphrase", AUTHORITY_CODE, AUTHORITY_NAME, T0, scrypt_n=2**14)
    monkeypatch.setenv(PASSPHRASE_ENV, "office passphrase")
    assert run_cli("officers", "token", "--data", str(data), "--id", "li", "--ttl-days", "1") == 0
    token = capsys.readouterr().out.strip()
    registry = OfficerRegistry(SQLiteStore(data / STORE_FILE), keyed=KeyedHash(ring.store_secret))
    officer = registry.authenticate(token)
    assert (officer.id, officer.role, officer.districts) == ("li", Role.SUPERVISOR, ("110105", "110108"))
    assert run_cli("officers", "list", "--data", str(data)) == 0
    assert "li\tsupervisor" in capsys.readouterr().out
    assert run_cli("officers", "disable", "--data", str(data), "--id", "li") == 0
    assert registry.get("li") is not None and registry.get("li").disabled  # type: ignore[union-attr]


@pytest.mark.parametrize(("argv", "code"), [
    (("token", "--id", "nobody"), 1),  # refused by the registry
    (("add", "--id", "bad id!", "--name", "x", "--role", "clerk", "--district", "110105"), 1),
    (("add", "--id", "x", "--name", "x", "--role", "clerk", "--district", "abc"), 1),
    (("token", "--id", "nobody", "--ttl-days", "0"), 2),  # a usage error, before anything is asked
])
def test_officer_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         argv: tuple[str, ...], code: int) -> None:
    assert run_cli("officers", argv[0], "--data", str(tmp_path), *argv[1:]) == code
    err = capsys.readouterr().err
    assert err.startswith("epermit officers:") and err.count("\n") == 1


def modes(path: Path) -> dict[str, int]:
    return {suffix: stat.S_IMODE(Path(f"{path}{suffix}").stat().st_mode) for suffix in ("", "-wal", "-shm")}


def test_the_file_and_its_wal_and_shm_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    """The file holds every resident's personal data (and once held their pickups): 0600, -wal and -shm too."""
    path = tmp_path / "private.sqlite3"
    previous = os.umask(0o022)
    try:
        store = SQLiteStore(path)
        store.put_ephemeral("c_nonce", "n", "v", 60, T0)  # a write: the WAL and its index exist now
        assert modes(path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        for suffix in ("", "-wal", "-shm"):  # loose files (a copy restored, an older epermit) while in use
            Path(f"{path}{suffix}").chmod(0o644)
        reopened = SQLiteStore(path)  # another process starting on the file
        assert modes(path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        reopened.increment("k", "k", 60, T0)
        assert modes(path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        reopened.close()
        store.close()
    finally:
        os.umask(previous)


def test_the_office_data_folder_is_made_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "office"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    OfficeData(data).open_store(create=True).close()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / STORE_FILE).stat().st_mode) == 0o600
    data.chmod(0o755)
    OfficeData(data).open_store().close()  # an existing registry's folder is tightened when it is opened
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_threads_that_come_and_go_leave_no_connections_open(tmp_path: Path) -> None:
    # A thread-per-request server: each short-lived thread borrows a connection for its step, and at most
    # MAX_IDLE stay open for the next ones (each connection holds descriptors: the file, its WAL, its -shm).
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.get_record("warm-up")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(10):
        threads = [threading.Thread(target=store.get_record, args=("nope",)) for _ in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(os.listdir("/proc/self/fd")) - before <= 3 * 8  # MAX_IDLE connections, three descriptors each
    store.close()
    assert len(os.listdir("/proc/self/fd")) <= before


def test_a_step_nested_in_a_write_uses_the_same_connection(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    with store._db.write() as c:
        c.execute("INSERT INTO meta VALUES ('probe', 'seen')")
        # Not yet committed: only the same connection (the same transaction) sees the row.
        assert store._db.row("SELECT value FROM meta WHERE name = 'probe'") is not None


def test_a_file_locked_for_reads_is_a_503_too(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    store = SQLiteStore(path, busy_timeout_ms=100)
    store.close()  # no connection open: the next step opens one, and its set-up reads the locked file
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("PRAGMA locking_mode = EXCLUSIVE")
    blocker.execute("BEGIN EXCLUSIVE")
    blocker.execute("COMMIT")
    try:
        with pytest.raises(StoreUnavailableError):
            store.get_record("rec-1")
    finally:
        blocker.close()
    assert store.get_record("rec-1") is None
