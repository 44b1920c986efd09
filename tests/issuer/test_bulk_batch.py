"""Bulk issuance in batches (issuer.bulk_batch) on every store: the same records, offers and audit entries as
row by row, each chunk one atomic store step, a row that fails its re-check audited and raised as before."""

from __future__ import annotations

import dataclasses

import pytest

from credential.citizen_id import citizen_id_check_digit
from credential.model import Permit
from issuer.audit import verify_chains
from issuer.bulk import GoodRow, issue_batch, issue_rows, read_rows, validate_rows
from issuer.desk import OfficerDesk
from issuer.errors import StateConflictError
from issuer.model import AuditEntry, Officer, Record, RecordState, Role
from issuer.pickup import Pickup
from issuer.rules import BureauRuleError
from issuer.service import IssuerService
from issuer.store import BulkProgress, BulkStep, Registration, Store

from .office import CARD, HOME, officers
from .test_bulk import applications

pytestmark = pytest.mark.usefixtures("clock")


def card(n: int) -> Permit:
    first17 = f"{CARD.holder.citizen_id[:14]}{2 * n + 1:03d}"
    holder = dataclasses.replace(CARD.holder, citizen_id=first17 + citizen_id_check_digit(first17))
    return dataclasses.replace(CARD, holder=holder, document_number=f"DJK-{HOME}-2025-{n + 100:06d}")


@pytest.fixture
def desk(service: IssuerService) -> OfficerDesk:
    return OfficerDesk(service)


@pytest.fixture
def staff(desk: OfficerDesk) -> tuple[Officer, Officer]:
    office = officers(desk)
    return office[(Role.CLERK, HOME)], office[(Role.ISSUING_OFFICER, HOME)]


def registration(service: IssuerService, permit: Permit, record_id: str) -> Registration:
    now = service.clock()
    record = Record(record_id, permit, RecordState.ACTIVE, now, now)
    _, stored = Pickup(service.store, service.settings, service.clock, service.audit, service.keyed).new_offer(record)
    return Registration(record, stored, (service.audit.entry(officer="c", action="register", record_id=record_id),
                                         service.audit.entry(officer="o", action="create_offer", record_id=record_id)))


def test_insert_registrations_writes_records_offers_and_a_chained_audit_trail(service: IssuerService) -> None:
    store: Store = service.store
    service.audit.append(officer="x", action="before", record_id=None)  # the global chain
    chain = store.shard_of(HOME)  # the registrations' chain: their district's ("" on a one-shard store)
    before = len(store.list_audit(chain=chain, limit=1000))
    batch = [registration(service, card(n), f"r{n}") for n in range(3)]
    linked = store.insert_registrations(batch)
    assert [e.seq for e in linked] == list(range(before + 1, before + 7))
    assert store.list_audit(after=before, chain=chain) == linked
    assert verify_chains(store).entries == 7
    for item in batch:
        assert store.get_record(item.record.id) == item.record
        assert store.get_offer(item.offer.offer_id) == item.offer
        assert store.get_offer_by_code_hash(item.offer.code_hash) == item.offer
    assert store.records_of_holder(card(1).holder.citizen_id) == [batch[1].record]
    assert service.audit.append(officer="x", action="after", record_id=None).seq == (8 if chain == "" else 2)


def test_insert_registrations_is_all_or_nothing(service: IssuerService) -> None:
    store = service.store
    store.insert_registrations([registration(service, card(0), "taken")])
    before = store.list_audit(limit=1000)
    with pytest.raises(StateConflictError):
        store.insert_registrations([registration(service, card(1), "new"), registration(service, card(2), "taken")])
    assert store.get_record("new") is None and store.records_of_holder(card(1).holder.citizen_id) == []
    assert store.list_audit(limit=1000) == before
    assert store.insert_registrations([]) == []


def test_records_of_holders_matches_records_of_holder(service: IssuerService) -> None:
    store = service.store
    store.insert_registrations([registration(service, card(n), f"r{n}") for n in range(3)])
    store.insert_registrations([registration(service, dataclasses.replace(card(1), document_number="DJK-2"), "r1b")])
    ids = [card(n).holder.citizen_id for n in (1, 0, 7, 1)]
    found = store.records_of_holders(ids)
    assert set(found) == set(ids) and found[ids[2]] == []
    for citizen_id in ids:
        assert found[citizen_id] == store.records_of_holder(citizen_id)
    assert [r.id for r in found[ids[0]]] == ["r1", "r1b"]


@pytest.mark.parametrize("chunk", [1, 2, 250])
def test_batches_issue_what_row_by_row_issues(desk: OfficerDesk, staff: tuple[Officer, Officer], chunk: int) -> None:
    clerk, officer = staff
    good, bad = validate_rows(read_rows(applications()), desk, clerk=clerk, now=desk.service.clock())
    assert [g.line for g in good] == [2, 3, 4] and len(bad) == 4  # the permit (line 3) relies on line 2's card
    issued = list(issue_batch(desk, good, clerk=clerk, officer=officer, chunk=chunk))
    assert [r.line for r in issued] == [2, 3, 4]
    entries = [e for e in desk.service.audit.list(limit=100) if e.outcome == "ok"]
    assert [(e.officer, e.action, e.record_id) for e in entries] == [
        (who.id, action, r.record_id) for r in issued for who, action in ((clerk, "register"), (officer, "create_offer"))]
    assert [e.reason for e in entries[1::2]] == [f"offer {r.offer.ref}" for r in issued]
    verify_chains(desk.service.store)
    for row in issued:  # every offer works: its code and PIN redeem once
        assert desk.service.get_record(row.record_id).permit.holder.name == row.name
        assert desk.service.redeem(row.offer.pre_authorized_code, row.offer.tx_code)


def test_a_row_broken_since_validation_is_refused_after_the_rows_before_it(
    desk: OfficerDesk, staff: tuple[Officer, Officer]
) -> None:
    clerk, officer = staff
    rows = [GoodRow(n + 2, card(n), "") for n in range(4)]
    desk.service.register(card(2), officer="elsewhere")  # another desk registered holder 2 meanwhile
    issued: list[str] = []
    with pytest.raises(BureauRuleError):
        issued.extend(r.record_id for r in issue_batch(desk, rows, clerk=clerk, officer=officer, chunk=3))
    store = desk.service.store
    assert [len(store.records_of_holder(card(n).holder.citizen_id)) for n in range(4)] == [1, 1, 1, 0]
    refused = [e for e in desk.service.audit.list(limit=100) if e.outcome == "refused"]
    assert [(e.officer, e.action, e.reason) for e in refused] == [(clerk.id, "register", "residence_registration: "
                                                                   "already_registered")]
    assert verify_chains(store).entries == 1 + 2 * 2 + 1


def test_a_clerk_outside_the_district_is_denied_as_row_by_row(desk: OfficerDesk, service: IssuerService) -> None:
    office = officers(desk)
    rows = [GoodRow(2, card(0), "")]
    outsider = dataclasses.replace(office[(Role.CLERK, HOME)], districts=("310101",))
    for issue in (issue_batch, issue_rows):
        with pytest.raises(Exception) as raised:
            list(issue(desk, rows, clerk=outsider, officer=office[(Role.ISSUING_OFFICER, HOME)]))
        assert getattr(raised.value, "http_status", None) == 403
    denied: list[AuditEntry] = [e for e in service.audit.list(limit=100)]
    assert [(e.outcome, e.action) for e in denied] == [("denied", "register")] * 2


def second_handle(store: Store) -> Store:
    """Another handle on the same data, as a second process would have (its own head cache, connections)."""
    from issuer.store.redis import RedisStore
    from issuer.store.sqlite import SQLiteStore

    if isinstance(store, RedisStore):
        return RedisStore(store._r, prefix=store._p, check=False)
    assert isinstance(store, SQLiteStore)
    return SQLiteStore(store._db._path)


def test_two_writers_interleaving_keep_one_chain(service: IssuerService) -> None:
    """Each handle remembers the audit head it saw last; the other's appends make it stale, never wrong. The
    registration's two entries go to its district's chain: the global one on a one-shard store."""
    first, second = service.store, second_handle(service.store)
    entry = service.audit.entry(officer="x", action="a", record_id=None)
    seqs = [handle.append_audit(entry).seq for handle in (first, first, second, first, second, second, first)]
    second.insert_registrations([registration(service, card(0), "r0")])
    seqs.append(first.append_audit(entry).seq)
    assert seqs == [1, 2, 3, 4, 5, 6, 7, 10 if first.shard_of(HOME) == "" else 8]
    assert verify_chains(first).entries == 10


def test_insert_registrations_keeps_each_rows_sealed_portrait(service: IssuerService) -> None:
    store = service.store
    with_face = dataclasses.replace(registration(service, card(0), "r0"), portrait=b"sealed\0face")
    store.insert_registrations([with_face, registration(service, card(1), "r1")])
    assert store.get_portrait("r0") == b"sealed\0face"
    assert store.get_portrait("r1") is None


def test_a_streamed_runs_batch_is_stored_only_as_its_next_one(service: IssuerService) -> None:
    # Store.insert_registrations with a BulkStep: the count moves with the batch, in the same atomic step.
    store = service.store
    assert store.bulk_progress("file") == BulkProgress("", 0)
    store.insert_registrations([registration(service, card(0), "r0")], step=BulkStep("file", 0, "run-a"))
    assert store.bulk_progress("file") == BulkProgress("run-a", 1)
    before = store.list_audit(limit=1000)
    for step in (BulkStep("file", 0, "run-a"),  # stored already (a rerun that did not know)
                 BulkStep("file", 0, "run-b"),  # another copy of the file, started meanwhile
                 BulkStep("file", 1, "run-b"),  # ... that would take over run-a's count
                 BulkStep("file", 2, "run-a")):  # a batch skipped
        with pytest.raises(StateConflictError, match="not the run's next one"):
            store.insert_registrations([registration(service, card(1), "r1")], step=step)
        assert store.get_record("r1") is None and store.list_audit(limit=1000) == before
    store.insert_registrations([], step=BulkStep("file", 1, "run-a"))  # a batch of bad rows only counts too
    store.insert_registrations([registration(service, card(1), "r1")], step=BulkStep("file", 2, "run-a"))
    assert store.bulk_progress("file") == BulkProgress("run-a", 3) and store.get_record("r1") is not None
    assert store.bulk_progress("other file") == BulkProgress("", 0)
    store.end_bulk("file")
    assert store.bulk_progress("file") == BulkProgress("", 0)
    store.insert_registrations([registration(service, card(2), "r2")], step=BulkStep("file", 0, "run-c"))
    assert store.bulk_progress("file") == BulkProgress("run-c", 1)  # the same file again: a new run


def test_a_batch_cut_between_two_districts_is_refused_on_rerun_and_writes_nothing(service: IssuerService) -> None:
    # The sharded Redis store writes a batch district by district; a kill between two districts' scripts
    # leaves one district's count ahead of the file's. The rerun of that batch (with new PINs) is refused
    # before anything is written, in every district.
    from issuer.store.redis import RedisStore
    store = service.store
    if not isinstance(store, RedisStore):
        pytest.skip("one transaction for the whole batch on SQLite: a batch is never cut")
    other = "110108"
    here, there = card(0), dataclasses.replace(card(1), district=other)
    store.insert_registrations([registration(service, here, "r0")], step=BulkStep("file", 0, "run-a"))
    store._r.hset(store._d(HOME, "bulk_run", "file"), mapping={"run": "run-a", "batches": 2})  # district HOME: batch 1 stored
    before = {chain: store.list_audit(limit=1000, chain=chain) for chain in store.audit_chains()}
    with pytest.raises(StateConflictError, match=f"stored in district {HOME} before an interruption"):
        store.insert_registrations([registration(service, there, "r1"), registration(service, card(2), "r2")],
                                   step=BulkStep("file", 1, "run-a"))
    assert store.get_record("r1") is None and store.get_record("r2") is None
    assert {chain: store.list_audit(limit=1000, chain=chain) for chain in store.audit_chains()} == before
    assert store.bulk_progress("file") == BulkProgress("run-a", 1)
