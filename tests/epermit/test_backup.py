"""`epermit backup` / `epermit restore`: a consistent copy of a running office, checked on the way back;
and the read-only audit commands on a copy nobody may write."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from epermit.cli import main
from issuer.model import AuditEntry, Record, RecordState
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, save_keyring

T0 = 1_780_000_000


@pytest.fixture(scope="module")
def keyring() -> KeyRing:
    return KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=T0)


def make_office(data: Path, keyring: KeyRing) -> None:
    data.mkdir(mode=0o700)
    save_keyring(keyring, data / "keys", b"test passphrase", scrypt_n=2**14)
    (data / "console.secret").write_bytes(os.urandom(32))  # a setting kept beside the store
    SQLiteStore(data / "epermit.sqlite3").close()


def insert(store: SQLiteStore, n: int) -> None:
    record = Record(f"rec-{n:05d}", sample_permit(), RecordState.ACTIVE, T0, T0)
    store.insert_record(record, audit=AuditEntry(0, T0, "clerk", "register", record.id, "residence_permit"))


def record_ids(store_file: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{store_file}?mode=ro&immutable=1", uri=True)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM records")}
    finally:
        conn.close()


def modes(root: Path) -> set[tuple[str, int]]:
    """(kind, permission bits) of everything under root, root included."""
    found = {("dir", stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found.add(("dir" if path.is_dir() else "file", stat.S_IMODE(path.stat().st_mode)))
    return found


class Writer:
    """A clerk registering records as fast as the store takes them; ``acked``: those whose insert returned."""

    def __init__(self, store_file: Path) -> None:
        self.store = SQLiteStore(store_file)
        # Keep every commit in the WAL (no automatic checkpoint), as the newest ones always are between two
        # checkpoints: a copy of the main file alone then visibly misses them.
        with self.store._db.borrow() as conn:
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        self.acked: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            insert(self.store, n)
            self.acked.append(f"rec-{n:05d}")
            n += 1

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.store.close()

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.acked) < count:
            assert time.monotonic() < deadline, "the writer is stuck"
            time.sleep(0.01)


def test_a_backup_under_write_load_restores_every_acknowledged_record(
    tmp_path: Path, keyring: KeyRing, capsys: pytest.CaptureFixture[str]
) -> None:
    data, backup, restored = tmp_path / "office", tmp_path / "backup", tmp_path / "restored"
    make_office(data, keyring)
    with Writer(data / "epermit.sqlite3") as writer:
        writer.wait_for(300)
        shutil.copyfile(data / "epermit.sqlite3", tmp_path / "naive.sqlite3")  # what a plain copy would keep
        acked_before = set(writer.acked)
        assert main(["backup", "--data", str(data), str(backup)]) == 0
        writer.wait_for(len(writer.acked) + 50)  # still writing after the backup
    out = capsys.readouterr().out
    assert "audit head " in out and "records" in out
    assert acked_before - record_ids(tmp_path / "naive.sqlite3")  # the WAL did hold acknowledged records
    assert modes(backup) == {("dir", 0o700), ("file", 0o600)}
    manifest = json.loads((backup / "manifest.json").read_text())
    assert {f["path"] for f in manifest["files"]} >= {"epermit.sqlite3", "console.secret", "keys/keyring.json"}

    assert main(["restore", str(backup), "--data", str(restored)]) == 0
    assert "restored" in capsys.readouterr().out
    ids = record_ids(restored / "epermit.sqlite3")
    assert acked_before <= ids <= set(writer.acked)
    assert manifest["records"] == len(ids)
    assert modes(restored) == {("dir", 0o700), ("file", 0o600)}
    for name in ("console.secret", *(p.relative_to(data).as_posix() for p in (data / "keys").iterdir())):
        assert (restored / name).read_bytes() == (data / name).read_bytes()
    assert main(["audit", "verify", "--data", str(restored)]) == 0
    assert f"{len(ids)} entries" in capsys.readouterr().out
    # The backup is itself a data folder for the read-only commands, and they leave it as it was.
    assert main(["audit", "verify", "--data", str(backup)]) == 0
    assert sorted(p.name for p in backup.iterdir()) == ["console.secret", "epermit.sqlite3", "keys", "manifest.json"]
    assert main(["restore", str(backup), "--data", str(tmp_path / "again")]) == 0


@pytest.fixture
def backup(tmp_path: Path, keyring: KeyRing) -> Path:
    data = tmp_path / "office"
    make_office(data, keyring)
    store = SQLiteStore(data / "epermit.sqlite3")
    for n in range(5):
        insert(store, n)
    store.close()
    assert main(["backup", "--data", str(data), str(tmp_path / "backup")]) == 0
    return tmp_path / "backup"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_restore_refuses_a_folder_that_is_not_empty(backup: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "epermit.sqlite3").write_bytes(b"today's registry")
    assert main(["restore", str(backup), "--data", str(target)]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert [p.name for p in target.iterdir()] == ["epermit.sqlite3"]
    assert (target / "epermit.sqlite3").read_bytes() == b"today's registry"
    (target / "epermit.sqlite3").unlink()  # an empty folder is fine
    assert main(["restore", str(backup), "--data", str(target)]) == 0


def _flip_a_key_byte(backup: Path) -> None:
    path = next(p for p in sorted((backup / "keys").iterdir()) if p.is_file())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def _add_a_file(backup: Path) -> None:
    (backup / "keys" / "extra.key").write_bytes(b"planted")


def _remove_the_settings(backup: Path) -> None:
    (backup / "console.secret").unlink()


def _garble_the_manifest(backup: Path) -> None:
    (backup / "manifest.json").write_text('{"format": "epermit-backup", "version": 1, "files": "all of them"}')


def _escape_the_folder(backup: Path) -> None:
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["files"][0]["path"] = "../outside"
    (backup / "manifest.json").write_text(json.dumps(manifest))


def _change_a_record(backup: Path) -> None:
    conn = sqlite3.connect(backup / "epermit.sqlite3")
    with conn:
        conn.execute("UPDATE records SET state = 'revoked' WHERE id = 'rec-00001'")
    conn.close()


@pytest.mark.parametrize("damage", [_flip_a_key_byte, _add_a_file, _remove_the_settings, _garble_the_manifest,
                                    _escape_the_folder, _change_a_record])
def test_restore_refuses_a_backup_that_does_not_match_its_manifest(
    backup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object
) -> None:
    damage(backup)  # type: ignore[operator]
    target = tmp_path / "restored"
    assert main(["restore", str(backup), "--data", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("epermit restore: ") and err.count("\n") == 1
    assert not target.exists() and leftovers(tmp_path) == []


def test_backup_refuses_an_existing_folder_and_a_link(tmp_path: Path, keyring: KeyRing) -> None:
    data = tmp_path / "office"
    make_office(data, keyring)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    assert main(["backup", "--data", str(data), str(tmp_path / "taken")]) == 2
    assert main(["backup", "--data", str(data), str(data / "inside")]) == 2
    (data / "settings.link").symlink_to(tmp_path / "taken" / "x")
    assert main(["backup", "--data", str(data), str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


@pytest.fixture
def read_only_office(tmp_path: Path, keyring: KeyRing) -> Iterator[Path]:
    data = tmp_path / "office"
    make_office(data, keyring)
    store = SQLiteStore(data / "epermit.sqlite3")
    for n in range(3):
        insert(store, n)
    store.close()  # the last connection checkpoints and removes the WAL: a copy as it would be taken
    (data / "epermit.sqlite3").chmod(0o400)
    data.chmod(0o500)
    yield data
    data.chmod(0o700)


def test_the_audit_commands_run_on_a_read_only_copy(read_only_office: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in read_only_office.iterdir())
    assert main(["audit", "verify", "--data", str(read_only_office)]) == 0
    assert "audit log OK: 3 entries" in capsys.readouterr().out
    assert main(["audit", "head", "--data", str(read_only_office)]) == 0
    assert main(["audit", "list", "--data", str(read_only_office)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4  # the head, then 3 entries
    # (Tests run as root, where chmod stops no write: what shows a write is a -wal or -shm appearing.)
    assert sorted(p.name for p in read_only_office.iterdir()) == before


def test_a_read_only_store_refuses_writes(read_only_office: Path) -> None:
    from issuer.errors import StoreUnavailableError

    store = SQLiteStore(read_only_office / "epermit.sqlite3", read_only=True)
    with pytest.raises(StoreUnavailableError):
        insert(store, 99)
    store.close()
    assert record_ids(read_only_office / "epermit.sqlite3") == {"rec-00000", "rec-00001", "rec-00002"}
