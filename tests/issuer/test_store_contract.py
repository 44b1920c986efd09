"""The Store contract: every back end must pass these (the ``store`` fixture is parametrised)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from credential.samples import sample_permit
from credential.statuslist import INVALID, SUSPENDED, VALID
from issuer.audit import verify_chain
from issuer.errors import StateConflictError
from issuer.model import AuditEntry, Officer, PublishedStatusList, Record, RecordState, Role
from issuer.store import FILL_LIMIT, StatusListFullError, Store, StoredOffer, StoredTrustList
from tests.conftest import T0

R = TypeVar("R")
THREADS = 20


def race(n: int, step: Callable[[int], R]) -> list[R]:
    """Run ``step`` in n threads released at once; results in thread order."""
    barrier = threading.Barrier(n)
    results: list[R | None] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = step(i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results  # type: ignore[return-value]


def a_record(record_id: str = "rec-1", state: RecordState = RecordState.ACTIVE) -> Record:
    return Record(record_id, sample_permit(), state, T0, T0)


def entry(action: str, record_id: str = "rec-1", officer: str = "alice") -> AuditEntry:
    """An entry as the service hands it to the store: not yet chained."""
    return AuditEntry(0, T0, officer, action, record_id, "why")


def an_offer(code_hash: str = "c" * 64, expires_at: int = T0 + 100) -> StoredOffer:
    return StoredOffer("offer-1", "rec-1", code_hash, "t" * 64, expires_at,
                       ("residence_permit_sd_jwt", "residence_permit_qr"), "open", T0)


# --- records -----------------------------------------------------------------------------------------

def test_record_round_trip(store: Store) -> None:
    record = a_record()
    store.insert_record(record)
    assert store.get_record("rec-1") == record
    assert store.get_record("nope") is None


def test_duplicate_record_id_is_a_conflict(store: Store) -> None:
    store.insert_record(a_record())
    with pytest.raises(StateConflictError):
        store.insert_record(a_record())


def test_record_districts_in_one_read(store: Store) -> None:
    store.insert_record(a_record("rec-1"))
    away = Record("rec-2", dataclasses.replace(sample_permit(), district="310101"), RecordState.ACTIVE, T0, T0)
    store.insert_record(away)
    assert store.record_districts(["rec-2", "nope", "rec-1", "rec-2"]) == {"rec-1": "110105", "rec-2": "310101"}
    assert store.record_districts([]) == {}


def test_state_update_applies_only_from_the_expected_state(store: Store) -> None:
    store.insert_record(a_record())
    assert store.update_record_state("rec-1", expected=RecordState.SUSPENDED, new=RecordState.ACTIVE,
                                     status_value=VALID, now=T0 + 1, audit=entry("lift")) is None
    updated = store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                                        status_value=SUSPENDED, now=T0 + 5, audit=entry("suspend"))
    assert updated is not None and updated.state is RecordState.SUSPENDED and updated.updated_at == T0 + 5
    assert store.get_record("rec-1") == updated
    assert store.update_record_state("missing", expected=RecordState.ACTIVE, new=RecordState.REVOKED,
                                     status_value=INVALID, now=T0, audit=entry("revoke", "missing")) is None


def test_concurrent_revokes_have_exactly_one_winner(store: Store) -> None:
    store.insert_record(a_record())
    results = race(THREADS, lambda _: store.update_record_state(
        "rec-1", expected=RecordState.ACTIVE, new=RecordState.REVOKED, status_value=INVALID, now=T0,
        audit=entry("revoke")))
    assert sum(r is not None for r in results) == 1


def test_state_update_sets_every_delivered_index(store: Store) -> None:
    store.insert_record(a_record())
    store.insert_record(a_record("rec-2"))
    mine = [(1, store.allocate_status_index(1, 64)) for _ in range(3)]
    other = (1, store.allocate_status_index(1, 64))
    for list_no, idx in mine:
        assert store.add_delivered("rec-1", list_no, idx, T0)
    assert store.add_delivered("rec-2", *other, T0)
    generation = store.status_generation(1)
    store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.REVOKED,
                              status_value=INVALID, now=T0, audit=entry("revoke"))
    bits = store.status_bits(1)
    assert [bits.get(idx) for _, idx in mine] == [INVALID] * 3
    assert bits.get(other[1]) == VALID
    assert store.status_generation(1) > generation
    assert sorted(store.delivered("rec-1")) == sorted(mine)


def test_a_state_change_appends_its_audit_entry_in_the_same_step(store: Store) -> None:
    store.insert_record(a_record())
    first = store.append_audit(entry("register"))
    assert store.update_record_state("rec-1", expected=RecordState.SUSPENDED, new=RecordState.ACTIVE,
                                     status_value=VALID, now=T0, audit=entry("lift")) is None
    assert store.list_audit() == [first]  # refused: nothing appended
    assert store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                                     status_value=SUSPENDED, now=T0, audit=entry("suspend")) is not None
    last = store.append_audit(entry("create_offer", officer="bob"))
    entries = store.list_audit()
    assert [(e.seq, e.action) for e in entries] == [(1, "register"), (2, "suspend"), (3, "create_offer")]
    assert entries[1].prev_hash == first.hash and last.prev_hash == entries[1].hash
    assert verify_chain(entries).entries == 3


def test_racing_state_changes_and_appends_keep_one_chain(store: Store) -> None:
    store.insert_record(a_record())

    def step(i: int) -> object:
        if i % 2:
            return store.append_audit(entry("search_holder", None))
        return store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.REVOKED,
                                         status_value=INVALID, now=T0, audit=entry("revoke"))

    results = race(THREADS, step)
    assert sum(isinstance(r, Record) for r in results) == 1
    entries = store.list_audit(limit=1000)
    assert verify_chain(entries).entries == THREADS // 2 + 1
    assert [e.action for e in entries].count("revoke") == 1


def test_a_record_and_its_audit_entry_are_inserted_together(store: Store) -> None:
    store.insert_record(a_record(), audit=entry("register"))
    with pytest.raises(StateConflictError):
        store.insert_record(a_record(), audit=entry("register"))
    assert [(e.seq, e.action, e.record_id) for e in store.list_audit()] == [(1, "register", "rec-1")]
    store.insert_record(a_record("rec-2"))  # fixtures and imports may insert without an entry
    assert len(store.list_audit()) == 1


def test_record_states_lists_every_record(store: Store) -> None:
    assert list(store.record_states()) == []
    for n in range(5):
        store.insert_record(a_record(f"rec-{n}", RecordState.SUSPENDED if n == 3 else RecordState.ACTIVE))
    assert sorted(store.record_states()) == [(f"rec-{n}", RecordState.SUSPENDED if n == 3 else RecordState.ACTIVE)
                                             for n in range(5)]


def test_delivery_is_refused_unless_the_record_is_active(store: Store) -> None:
    store.insert_record(a_record(state=RecordState.SUSPENDED))
    idx = store.allocate_status_index(1, 64)
    assert not store.add_delivered("rec-1", 1, idx, T0)
    assert not store.add_delivered("missing", 1, idx, T0)
    assert store.delivered("rec-1") == []


# --- status lists ------------------------------------------------------------------------------------

def test_indices_are_random_unique_and_stop_at_the_fill_limit(store: Store) -> None:
    size = 256
    limit = int(size * FILL_LIMIT)
    indices = [store.allocate_status_index(1, size) for _ in range(limit)]
    assert len(set(indices)) == limit and all(0 <= i < size for i in indices)
    assert indices != sorted(indices)  # random order, not a counter (false failure odds: 1/limit!)
    with pytest.raises(StatusListFullError):
        store.allocate_status_index(1, size)
    assert store.status_list_numbers() == [1]


def test_indices_are_never_reused_under_concurrency(store: Store) -> None:
    per_thread = 10
    results = race(THREADS, lambda _: [store.allocate_status_index(2, 1024) for _ in range(per_thread)])
    flat = [i for r in results for i in r]
    assert len(set(flat)) == THREADS * per_thread


def test_open_status_list_is_idempotent(store: Store) -> None:
    assert store.open_status_list(1, 64)
    assert not store.open_status_list(1, 64)
    assert store.open_status_list(3, 64)
    assert store.status_list_numbers() == [1, 3]
    assert store.status_bits(3).size == 64


def test_status_values_and_generation(store: Store) -> None:
    idx = store.allocate_status_index(1, 64)
    assert store.status_bits(1).get(idx) == VALID
    generation = store.status_generation(1)
    store.set_status(1, idx, SUSPENDED)
    assert store.status_bits(1).get(idx) == SUSPENDED
    assert store.status_generation(1) == generation + 1
    store.set_status(1, idx, VALID)
    assert store.status_bits(1).get(idx) == VALID
    with pytest.raises(LookupError):
        store.set_status(1, (idx + 1) % 64, INVALID)  # never allocated
    with pytest.raises(LookupError):
        store.status_bits(9)
    with pytest.raises(LookupError):
        store.status_generation(9)


# --- offers ------------------------------------------------------------------------------------------

def test_offer_round_trip_and_single_finish(store: Store) -> None:
    store.insert_record(a_record())
    offer = an_offer()
    store.insert_offer(offer)
    assert store.get_offer("offer-1") == offer
    assert store.get_offer_by_code_hash(offer.code_hash) == offer
    results = race(THREADS, lambda _: store.finish_offer(offer.code_hash, state="redeemed", now=T0))
    assert results.count(True) == 1
    finished = store.get_offer("offer-1")
    assert finished is not None and finished.state == "redeemed"
    assert not store.finish_offer(offer.code_hash, state="burned", now=T0)


def test_leaving_active_cancels_the_open_offers_in_the_same_step(store: Store) -> None:
    """A suspended or revoked record's pickup must not redeem: its open offers close with the state change
    (redeemed and burned ones keep their history; a lift reopens nothing; another record is untouched)."""
    store.insert_record(a_record())
    store.insert_record(a_record("rec-2"))
    store.insert_offer(an_offer())
    store.insert_offer(StoredOffer("offer-2", "rec-1", "d" * 64, "t" * 64, T0 + 100, ("x",), "open", T0))
    store.insert_offer(StoredOffer("offer-3", "rec-2", "e" * 64, "t" * 64, T0 + 100, ("x",), "open", T0))
    assert store.finish_offer("d" * 64, state="redeemed", now=T0)
    store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                              status_value=SUSPENDED, now=T0, audit=entry("suspend"))
    states = {o: store.get_offer(o).state for o in ("offer-1", "offer-2", "offer-3")}  # type: ignore[union-attr]
    assert states == {"offer-1": "cancelled", "offer-2": "redeemed", "offer-3": "open"}
    assert not store.finish_offer("c" * 64, state="redeemed", now=T0)
    store.update_record_state("rec-1", expected=RecordState.SUSPENDED, new=RecordState.ACTIVE,
                              status_value=VALID, now=T0, audit=entry("lift"))
    assert store.get_offer("offer-1").state == "cancelled"  # type: ignore[union-attr]
    store.update_record_state("rec-2", expected=RecordState.ACTIVE, new=RecordState.REVOKED,
                              status_value=INVALID, now=T0, audit=entry("revoke", "rec-2"))
    assert store.get_offer("offer-3").state == "cancelled"  # type: ignore[union-attr]


def test_an_expired_offer_cannot_be_finished(store: Store) -> None:
    store.insert_record(a_record())
    store.insert_offer(an_offer(expires_at=T0 + 10))
    assert not store.finish_offer("c" * 64, state="redeemed", now=T0 + 10)
    assert store.get_offer("missing") is None and store.get_offer_by_code_hash("x" * 64) is None


# --- ephemeral values and counters -------------------------------------------------------------------

def test_take_ephemeral_has_exactly_one_winner(store: Store) -> None:
    store.put_ephemeral("c_nonce", "n1", "value", 60, T0)
    results = race(THREADS, lambda _: store.take_ephemeral("c_nonce", "n1", T0 + 1))
    assert [r for r in results if r is not None] == ["value"]
    assert store.take_ephemeral("c_nonce", "n1", T0 + 1) is None


def test_ephemeral_values_expire_and_kinds_are_separate(store: Store) -> None:
    store.put_ephemeral("a", "k", "1", 60, T0)
    store.put_ephemeral("b", "k", "2", 60, T0)
    assert store.get_ephemeral("a", "k", T0 + 59) == "1"
    assert store.get_ephemeral("a", "k", T0 + 59) == "1"  # get does not consume
    assert store.get_ephemeral("a", "k", T0 + 60) is None
    assert store.take_ephemeral("a", "k", T0 + 60) is None
    assert store.take_ephemeral("b", "k", T0) == "2"


def test_counters_count_atomically_and_restart_after_ttl(store: Store) -> None:
    results = race(THREADS, lambda _: store.increment("pin", "code", 60, T0))
    assert sorted(results) == list(range(1, THREADS + 1))
    assert store.increment("pin", "code", 60, T0 + 59) == THREADS + 1
    assert store.increment("pin", "code", 60, T0 + 60) == 1
    assert store.increment("pin", "other", 60, T0) == 1


# --- officers, publication, audit ---------------------------------------------------------------------

def test_officers_and_tokens(store: Store) -> None:
    alice = Officer("alice", "李娜", Role.SUPERVISOR, ("110105", "110108"))
    store.put_officer(alice)
    store.put_officer(Officer("bob", "王军", Role.CLERK, ("110105",)))
    assert store.get_officer("alice") == alice
    assert [o.id for o in store.list_officers()] == ["alice", "bob"]
    store.add_officer_token("h1", "alice", expires_at=T0 + 100, now=T0)
    store.add_officer_token("h2", "alice", expires_at=T0 + 100, now=T0)
    assert store.officer_for_token("h1", T0 + 99) == "alice"
    assert store.officer_for_token("h1", T0 + 100) is None
    assert store.officer_for_token("nope", T0) is None
    assert store.revoke_officer_tokens("alice") == 2
    assert store.officer_for_token("h2", T0) is None
    disabled = Officer("alice", "李娜", Role.SUPERVISOR, ("110105",), disabled=True)
    store.put_officer(disabled)
    assert store.get_officer("alice") == disabled


def test_an_officer_is_inserted_once_and_a_change_revokes_its_tokens(store: Store) -> None:
    alice = Officer("alice", "李娜", Role.CLERK, ("110105",))
    assert store.insert_officer(alice)
    assert not store.insert_officer(Officer("alice", "x", Role.ADMIN, ("110105",)))
    assert store.get_officer("alice") == alice and [o.id for o in store.list_officers()] == ["alice"]
    store.add_officer_token("h1", "alice", expires_at=T0 + 100, now=T0)
    store.add_officer_token("h2", "alice", expires_at=T0 + 100, now=T0)
    store.revoke_officer_token("h2")
    supervisor = Officer("alice", "李娜", Role.SUPERVISOR, ("110105", "110108"))
    assert store.change_officer(supervisor) == 1
    assert store.get_officer("alice") == supervisor and store.officer_for_token("h1", T0) is None
    assert store.change_officer(Officer("bob", "王军", Role.CLERK, ("110105",))) is None
    assert store.get_officer("bob") is None


def test_published_status_list_keeps_the_latest_generation(store: Store) -> None:
    old = PublishedStatusList("u", "old", "e1", T0)
    new = PublishedStatusList("u", "new", "e2", T0 + 1)
    assert store.get_published_status_list(1) is None
    assert store.put_published_status_list(1, new, generation=5)
    assert not store.put_published_status_list(1, old, generation=4)
    stored = store.get_published_status_list(1)
    assert stored is not None and stored.published == new and stored.generation == 5
    assert store.put_published_status_list(1, old, generation=5)  # same generation: a refresh


def test_trust_list_never_goes_back_a_version(store: Store) -> None:
    assert store.get_trust_list() is None
    assert store.put_trust_list(StoredTrustList(2, "f2", "t2", T0))
    assert not store.put_trust_list(StoredTrustList(1, "f1", "t1", T0 + 1))
    assert store.get_trust_list() == StoredTrustList(2, "f2", "t2", T0)


def test_audit_is_append_only_and_paged(store: Store) -> None:
    appended = [store.append_audit(AuditEntry(0, T0 + i, "alice", "revoke", f"r{i}", "why")) for i in range(5)]
    seqs = [e.seq for e in appended]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert store.list_audit() == appended
    assert store.list_audit(after=seqs[1], limit=2) == appended[2:4]


# --- portraits (sealed bytes: the store never sees one in clear) -------------------------------------

def with_portrait(digest: bytes) -> Record:
    permit = sample_permit(portrait_sha256=digest)
    return Record("rec-1", permit, RecordState.ACTIVE, T0, T0)


def test_a_portrait_the_permit_and_the_audit_entry_change_in_one_step(store: Store) -> None:
    store.insert_record(a_record())
    assert store.get_portrait("rec-1") is None
    changed = with_portrait(b"\1" * 32).permit
    updated = store.put_portrait("rec-1", b"sealed-1\0\xff", expected=RecordState.ACTIVE, permit=changed,
                                 now=T0 + 5, audit=entry("set_portrait"))
    assert updated is not None and updated.permit == changed and updated.updated_at == T0 + 5
    assert store.get_record("rec-1") == updated
    assert store.get_portrait("rec-1") == b"sealed-1\0\xff"
    again = store.put_portrait("rec-1", b"sealed-2", expected=RecordState.ACTIVE,
                               permit=with_portrait(b"\2" * 32).permit, now=T0 + 6, audit=entry("set_portrait"))
    assert again is not None and store.get_portrait("rec-1") == b"sealed-2"  # replaced, not added
    assert [e.action for e in store.list_audit()] == ["set_portrait", "set_portrait"]
    verify_chain(store.list_audit())


def test_a_portrait_is_kept_only_from_the_expected_state(store: Store) -> None:
    store.insert_record(a_record(state=RecordState.SUSPENDED))
    assert store.put_portrait("rec-1", b"sealed", expected=RecordState.ACTIVE, permit=with_portrait(b"\1" * 32).permit,
                              now=T0, audit=entry("set_portrait")) is None
    assert store.put_portrait("nobody", b"sealed", expected=RecordState.ACTIVE,
                              permit=with_portrait(b"\1" * 32).permit, now=T0, audit=entry("set_portrait")) is None
    assert store.get_portrait("rec-1") is None and store.list_audit() == []
    record = store.get_record("rec-1")
    assert record is not None and record.permit.holder.portrait_sha256 is None


def test_a_portrait_keeps_the_holder_type_and_district(store: Store) -> None:
    store.insert_record(a_record())
    other = sample_permit(resident=1)
    with pytest.raises(ValueError):
        store.put_portrait("rec-1", b"sealed", expected=RecordState.ACTIVE, permit=other, now=T0,
                           audit=entry("set_portrait"))
    assert store.get_portrait("rec-1") is None and store.list_audit() == []
