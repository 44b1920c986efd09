"""The audit log as a hash chain: appends chain under concurrency, and every form of tampering is found
at the right entry (edit, delete, insert, reorder; a cut-off tail against a noted anchor); a state change
and its entry are one store step, and `audit verify` finds a record state the chain does not explain."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential.samples import sample_permit
from credential.statuslist import VALID
from epermit.cli import main
from issuer.audit import Anchor, AuditLog, all_entries, check_record_states, verify_chain
from issuer.errors import AuditChainError, StoreUnavailableError
from issuer.model import GENESIS, AuditEntry, Record, RecordState, entry_hash
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing
from tests.conftest import FakeClock

from .conftest import PUBLIC_URL

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


# --- a state change and its entry are one step; verify replays the chain against the records -------------

def suspend_entries(store: Store, record_id: str) -> list[str]:
    """The record's suspensions in its chain (its district's on a sharded store), through its index."""
    return [e.action for e in store.audit_of_record(record_id, limit=1000) if e.action == "suspend"]


def test_a_state_change_is_never_stored_without_its_audit_entry(
    service: IssuerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = service.register(sample_permit(), officer="seed")

    def crash(entry: AuditEntry) -> AuditEntry:  # the process dies (or the store fails) before the append
        raise StoreUnavailableError("store unavailable: killed")

    monkeypatch.setattr(service.store, "append_audit", crash)
    with contextlib.suppress(StoreUnavailableError):
        service.suspend(record.id, officer="sup", reason="lost card", reason_code="LOST")
    state = service.store.get_record(record.id).state  # type: ignore[union-attr]
    # Both or neither: the suspension with its entry, or no suspension and no entry.
    assert (state, suspend_entries(service.store, record.id)) in (
        (RecordState.ACTIVE, []), (RecordState.SUSPENDED, ["suspend"]))


def test_a_failing_audit_insert_rolls_the_state_change_back(tmp_path: Path, keyring: KeyRing, clock: FakeClock) -> None:
    store = SQLiteStore(tmp_path / "epermit.sqlite3")
    service = IssuerService(store, keyring, IssuerSettings(PUBLIC_URL, status_list_size=1024), clock)
    record = service.register(sample_permit(), officer="seed")
    list_no, idx = 1, store.allocate_status_index(1, 1024)
    assert store.add_delivered(record.id, list_no, idx, clock())
    generation = store.status_generation(list_no)
    tamper(tmp_path, "CREATE TRIGGER audit_full BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'full'); END")
    with pytest.raises(sqlite3.DatabaseError):
        service.suspend(record.id, officer="sup", reason="lost card", reason_code="LOST")
    assert store.get_record(record.id).state is RecordState.ACTIVE  # type: ignore[union-attr]
    assert store.status_bits(list_no).get(idx) == VALID and store.status_generation(list_no) == generation
    assert suspend_entries(store, record.id) == []


def office_with_history(data: Path, keyring: KeyRing, clock: FakeClock) -> tuple[IssuerService, list[str]]:
    service = IssuerService(SQLiteStore(data / "epermit.sqlite3"), keyring, IssuerSettings(PUBLIC_URL), clock)
    ids = [service.register(sample_permit(document_number=f"JZZ-110105-2026-{n:06d}"), officer="seed").id
           for n in range(1, 4)]
    service.suspend(ids[0], officer="sup", reason="lost card", reason_code="LOST")
    service.revoke(ids[1], officer="sup", reason="left the city")
    service.suspend(ids[2], officer="sup", reason="check")
    service.lift(ids[2], officer="sup", reason="checked")
    return service, ids


def test_verify_finds_a_state_changed_behind_the_chains_back(
    tmp_path: Path, keyring: KeyRing, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    service, (_, revoked, lifted) = office_with_history(tmp_path, keyring, clock)
    assert main(["audit", "verify", "--data", str(tmp_path)]) == 0
    assert "every record's state matches it" in capsys.readouterr().out
    # Un-revoke by hand: the chain is untouched, and still verifies on its own.
    tamper(tmp_path, f"UPDATE records SET state = 'active' WHERE id = '{revoked}'")
    assert verify_chain(all_entries(service.store)).entries == 7
    assert main(["audit", "verify", "--data", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "1 record(s) disagree" in out and f"record {revoked}: stored active, the chain says revoked" in out
    tamper(tmp_path, f"DELETE FROM record_holders WHERE record_id = '{lifted}'",
           f"DELETE FROM records WHERE id = '{lifted}'",
           f"UPDATE records SET state = 'revoked' WHERE id = '{revoked}'")
    assert main(["audit", "verify", "--data", str(tmp_path)]) == 1
    assert f"record {lifted}: stored missing from the store, the chain says active" in capsys.readouterr().out


def test_a_record_the_chain_never_registered_is_reported(tmp_path: Path, keyring: KeyRing, clock: FakeClock) -> None:
    service, _ = office_with_history(tmp_path, keyring, clock)
    service.store.insert_record(Record("slipped-in", sample_permit(resident=1), RecordState.ACTIVE, 0, 0))
    assert [(m.record_id, m.stored, m.replayed) for m in check_record_states(service.store)] == [
        ("slipped-in", RecordState.ACTIVE, None)]


class LiveOffice:
    """The store of an office that goes on working while it is checked: a record is suspended right after
    the records were read, before the chain is."""

    def __init__(self, service: IssuerService, record_id: str) -> None:
        self._service, self._record_id = service, record_id

    def __getattr__(self, name: str) -> object:
        return getattr(self._service.store, name)

    def record_states(self) -> Iterator[tuple[str, RecordState]]:
        states = list(self._service.store.record_states())
        self._service.suspend(self._record_id, officer="sup", reason="during the check")
        yield from states


def test_changes_made_while_verify_runs_are_not_reported(tmp_path: Path, keyring: KeyRing, clock: FakeClock) -> None:
    service, (_, _, lifted) = office_with_history(tmp_path, keyring, clock)
    live = LiveOffice(service, lifted)
    assert check_record_states(live) == []  # type: ignore[arg-type]
    assert service.store.get_record(lifted).state is RecordState.SUSPENDED  # type: ignore[union-attr]
