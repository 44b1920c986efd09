"""The audit log as a hash chain: appends chain under concurrency, and every form of tampering is found
at the right entry (edit, delete, insert, reorder; a cut-off tail against a noted anchor)."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path

import pytest

from epermit.cli import main
from issuer.audit import Anchor, AuditLog, all_entries, verify_chain
from issuer.errors import AuditChainError
from issuer.model import GENESIS, entry_hash
from issuer.store import Store
from issuer.store.sqlite import SQLiteStore
from tests.conftest import FakeClock

COLUMNS = "time, officer, action, record_id, reason, outcome, prev_hash, hash"


def fill(store: Store, clock: FakeClock, n: int = 8) -> AuditLog:
    log = AuditLog(store, clock)
    for i in range(n):
        clock.advance(1)
        log.append(officer=f"o{i % 3}", action="suspend" if i % 2 else "lift", record_id=f"r{i}",
                   reason=f"LOST: 第{i}次")
    return log


def test_entries_link_and_verify(store: Store, clock: FakeClock) -> None:
    fill(store, clock)
    entries = list(all_entries(store))
    assert [e.seq for e in entries] == list(range(1, 9))
    assert entries[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash and after.hash == entry_hash(after)
    report = verify_chain(entries, expect=Anchor(4, entries[3].hash))
    assert report.entries == 8 and report.head == Anchor(8, entries[-1].hash)


def test_concurrent_appends_chain_correctly(store: Store, clock: FakeClock) -> None:
    log = AuditLog(store, clock)

    def work(n: int) -> None:
        for i in range(15):
            log.append(officer=f"t{n}", action="register", record_id=f"r{n}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert verify_chain(all_entries(store)).entries == 60


@pytest.fixture
def db(tmp_path: Path, clock: FakeClock) -> Path:
    store = SQLiteStore(tmp_path / "epermit.sqlite3")
    fill(store, clock)
    store.close()
    return tmp_path


def tamper(data: Path, *statements: str) -> None:
    conn = sqlite3.connect(data / "epermit.sqlite3")
    with conn:
        for sql in statements:
            conn.execute(sql)
    conn.close()


def broken_at(data: Path, expect: Anchor | None = None) -> int:
    store = SQLiteStore(data / "epermit.sqlite3")
    with pytest.raises(AuditChainError) as broken:
        verify_chain(all_entries(store), expect=expect)
    return broken.value.seq


def test_an_edited_entry_is_found(db: Path) -> None:
    tamper(db, "UPDATE audit_log SET reason = 'ADMIN_ERROR' WHERE seq = 5")
    assert broken_at(db) == 5


def test_an_edited_entry_with_its_own_hash_recomputed_breaks_the_next_link(db: Path) -> None:
    store = SQLiteStore(db / "epermit.sqlite3")
    entry = store.list_audit(after=4, limit=1)[0]
    forged = entry.__class__(**{**entry.__dict__, "officer": "someone-else", "hash": ""})
    tamper(db, f"UPDATE audit_log SET officer = 'someone-else', hash = '{entry_hash(forged)}' WHERE seq = 5")
    assert broken_at(db) == 6


def test_a_deleted_entry_is_found(db: Path) -> None:
    tamper(db, "DELETE FROM audit_log WHERE seq = 3")
    assert broken_at(db) == 3


def test_an_inserted_entry_is_found(db: Path) -> None:
    # Make room after entry 4 and put in a well-formed entry that claims to follow entry 4.
    tamper(db, "UPDATE audit_log SET seq = seq + 100 WHERE seq > 4",
           "UPDATE audit_log SET seq = seq - 99 WHERE seq > 100")
    store = SQLiteStore(db / "epermit.sqlite3")
    four = store.list_audit(after=3, limit=1)[0]
    fake = four.__class__(5, four.time, "o9", "lift", "r4", "RESOLVED", "ok", four.hash, "")
    fake = fake.__class__(**{**fake.__dict__, "hash": entry_hash(fake)})
    tamper(db, f"INSERT INTO audit_log (seq, {COLUMNS}) VALUES (5, {fake.time}, 'o9', 'lift', 'r4', "
               f"'RESOLVED', 'ok', '{fake.prev_hash}', '{fake.hash}')")
    assert broken_at(db) == 6  # the inserted entry fits; the original entry 5, now 6, no longer does


def test_reordered_entries_are_found(db: Path) -> None:
    tamper(db, "UPDATE audit_log SET seq = 100 WHERE seq = 6", "UPDATE audit_log SET seq = 6 WHERE seq = 7",
           "UPDATE audit_log SET seq = 7 WHERE seq = 100")
    assert broken_at(db) == 6


def test_a_cut_off_tail_is_found_with_the_anchor(db: Path) -> None:
    store = SQLiteStore(db / "epermit.sqlite3")
    head = verify_chain(all_entries(store)).head
    assert head is not None and head.seq == 8
    tamper(db, "DELETE FROM audit_log WHERE seq > 6")
    assert verify_chain(all_entries(SQLiteStore(db / "epermit.sqlite3"))).entries == 6  # consistent alone
    assert broken_at(db, expect=head) == 8


def test_the_cli(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--data", str(db)]) == 0
    assert "OK: 8 entries" in capsys.readouterr().out
    assert main(["audit", "head", "--data", str(db)]) == 0
    anchor = capsys.readouterr().out.strip()
    assert Anchor.parse(anchor).seq == 8
    assert main(["audit", "list", "--data", str(db), "--after", "6"]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == ["7", "8"]
    tamper(db, "UPDATE audit_log SET time = time + 1 WHERE seq = 2")
    assert main(["audit", "verify", "--data", str(db)]) == 1
    assert "BROKEN at entry 2" in capsys.readouterr().out
    assert main(["audit", "verify", "--data", str(db), "--expect", "nonsense"]) == 2  # usage
    assert main(["audit", "verify", "--data", str(db / "nowhere")]) == 2  # no such data folder
