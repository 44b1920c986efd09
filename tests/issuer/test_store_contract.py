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
from issuer.store import (
    FILL_LIMIT,
    OfficerSecrets,
    Registration,
    StatusListFullError,
    Store,
    StoredNotification,
    StoredOffer,
    StoredRequest,
    StoredTrustList,
)
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


def open_list(store: Store, size: int = 64, list_no: int = 1) -> None:
    """Open the list in the shard of the sample records' district (a record's indices come from its shard)."""
    store.open_status_list(list_no, size, shard=store.shard_of(sample_permit().district))


def records_chain(store: Store) -> str:
    """The audit chain of the sample records' entries: their district's shard ("" on a single-shard store)."""
    return store.shard_of(sample_permit().district)


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
    open_list(store)
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
    assert store.list_audit(chain=records_chain(store)) == [first]  # refused: nothing appended
    assert store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                                     status_value=SUSPENDED, now=T0, audit=entry("suspend")) is not None
    last = store.append_audit(entry("create_offer", officer="bob"))
    entries = store.list_audit(chain=records_chain(store))
    assert [(e.seq, e.action) for e in entries] == [(1, "register"), (2, "suspend"), (3, "create_offer")]
    assert entries[1].prev_hash == first.hash and last.prev_hash == entries[1].hash
    assert verify_chain(entries).entries == 3


def test_racing_state_changes_and_appends_keep_their_chains(store: Store) -> None:
    store.insert_record(a_record())

    def step(i: int) -> object:
        if i % 2:
            return store.append_audit(entry("search_holder", None))
        return store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.REVOKED,
                                         status_value=INVALID, now=T0, audit=entry("revoke"))

    results = race(THREADS, step)
    assert sum(isinstance(r, Record) for r in results) == 1
    chains = [store.list_audit(limit=1000, chain=chain) for chain in store.audit_chains()]
    assert sum(verify_chain(entries).entries for entries in chains) == THREADS // 2 + 1
    assert [e.action for entries in chains for e in entries].count("revoke") == 1


def test_a_record_and_its_audit_entry_are_inserted_together(store: Store) -> None:
    store.insert_record(a_record(), audit=entry("register"))
    with pytest.raises(StateConflictError):
        store.insert_record(a_record(), audit=entry("register"))
    assert [(e.seq, e.action, e.record_id) for e in store.list_audit(chain=records_chain(store))] == [
        (1, "register", "rec-1")]
    store.insert_record(a_record("rec-2"))  # fixtures and imports may insert without an entry
    assert sum(len(store.list_audit(chain=chain)) for chain in store.audit_chains()) == 1


def test_record_states_lists_every_record(store: Store) -> None:
    assert list(store.record_states()) == []
    for n in range(5):
        store.insert_record(a_record(f"rec-{n}", RecordState.SUSPENDED if n == 3 else RecordState.ACTIVE))
    assert sorted(store.record_states()) == [(f"rec-{n}", RecordState.SUSPENDED if n == 3 else RecordState.ACTIVE)
                                             for n in range(5)]


def test_delivery_is_refused_unless_the_record_is_active(store: Store) -> None:
    store.insert_record(a_record(state=RecordState.SUSPENDED))
    open_list(store)
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

def test_sequences_hand_out_every_number_once_and_are_separate(store: Store) -> None:
    results = race(THREADS, lambda _: store.allocate_number("DJK-110105-2026"))
    assert sorted(results) == list(range(1, THREADS + 1))
    assert store.allocate_number("DJK-110105-2026") == THREADS + 1
    assert store.allocate_number("JZZ-110105-2026") == 1  # another type, district or year starts at one
    assert store.allocate_number("DJK-110105-2027") == 1
    store.increment("number", "DJK-110105-2026", 60, T0)  # the expiring counters are another thing
    assert store.allocate_number("DJK-110105-2026") == THREADS + 2


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



def test_officer_secrets_bump_the_generation_and_only_the_officers_current_sessions_live(store: Store) -> None:
    assert store.get_officer_secrets("alice") is None
    assert store.set_officer_password("alice", "scrypt$x") is None and store.set_officer_totp("alice", "v1.x") is None
    assert store.end_officer_sessions("alice") is None
    alice = Officer("alice", "李华", Role.CLERK, ("110105",))
    store.insert_officer(alice)
    assert store.get_officer_secrets("alice") == OfficerSecrets(None, None, 0, 0)
    store.add_officer_session("s0", "alice", generation=0, expires_at=T0 + 100, now=T0)
    assert store.officer_for_session("s0", T0 + 99) == "alice"
    assert store.officer_for_session("s0", T0 + 100) is None  # expired on the caller's clock
    assert store.set_officer_password("alice", "scrypt$1") == 1
    assert store.officer_for_session("s0", T0) is None  # a password change ends it
    store.add_officer_session("s1", "alice", generation=1, expires_at=T0 + 100, now=T0)
    assert store.set_officer_totp("alice", "v1.sealed", generation=0) is None  # a stale enrolment does not land
    assert store.officer_for_session("s1", T0) == "alice"
    assert store.set_officer_totp("alice", "v1.sealed", generation=1) == 2
    assert store.get_officer_secrets("alice") == OfficerSecrets("scrypt$1", "v1.sealed", 0, 2)
    assert store.officer_for_session("s1", T0) is None
    store.add_officer_session("s2", "alice", generation=2, expires_at=T0 + 100, now=T0)
    assert store.change_officer(dataclasses.replace(alice, role=Role.SUPERVISOR)) == 0
    assert store.officer_for_session("s2", T0) is None  # a change ends it
    store.add_officer_session("s3", "alice", generation=3, expires_at=T0 + 100, now=T0)
    store.add_officer_session("s3b", "alice", generation=3, expires_at=T0 + 100, now=T0)
    assert store.end_officer_session("s3") and not store.end_officer_session("s3")
    assert store.officer_for_session("s3", T0) is None and store.officer_for_session("s3b", T0) == "alice"
    assert store.end_officer_sessions("alice") == 4
    assert store.officer_for_session("s3b", T0) is None
    assert store.set_officer_totp("alice", None) == 5  # a reset forgets the secret, keeps the password
    assert store.get_officer_secrets("alice") == OfficerSecrets("scrypt$1", None, 0, 5)
    store.put_officer(dataclasses.replace(alice, disabled=True))  # put keeps the secrets
    assert store.get_officer_secrets("alice") == OfficerSecrets("scrypt$1", None, 0, 5)


def test_a_totp_step_is_used_once_only_later_ones_and_only_at_its_generation(store: Store) -> None:
    store.insert_officer(Officer("alice", "李华", Role.CLERK, ("110105",)))
    generation = store.set_officer_totp("alice", "v1.sealed")
    assert generation == 1
    assert not store.use_totp_step("alice", 100, generation=0)  # checked against an older secret
    assert store.use_totp_step("alice", 100, generation=1)
    assert not store.use_totp_step("alice", 100, generation=1)  # replay
    assert not store.use_totp_step("alice", 99, generation=1)  # an earlier step after a later one
    assert store.get_officer_secrets("alice") == OfficerSecrets(None, "v1.sealed", 100, 1)
    assert race(THREADS, lambda i: store.use_totp_step("alice", 101, generation=1)).count(True) == 1
    assert store.set_officer_totp("alice", "v1.other") == 2  # a new secret starts the steps over
    assert store.use_totp_step("alice", 50, generation=2)
    assert not store.use_totp_step("nobody", 200, generation=0)


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


# --- a record's history: its entries and offers through per-record indexes ------------------------------

def test_a_records_entries_are_read_newest_first_through_its_index(store: Store) -> None:
    """Every way an entry is appended (alone, with a record's insert, with a state change, in a bulk batch)
    lands in the record's index; other records' and record-less entries do not."""
    store.insert_record(a_record(), audit=entry("register"))
    store.append_audit(entry("search_holder", None))
    store.insert_record(a_record("rec-2"), audit=entry("register", "rec-2"))
    store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                              status_value=SUSPENDED, now=T0, audit=entry("suspend"))
    bulk = Registration(Record("rec-3", sample_permit(), RecordState.ACTIVE, T0, T0),
                        StoredOffer("offer-3", "rec-3", "e" * 64, "t" * 64, T0 + 100, ("x",), "open", T0),
                        (entry("register", "rec-3"), entry("create_offer", "rec-3"), entry("note")))
    store.insert_registrations([bulk])
    store.append_audit(entry("lift"))
    everything = store.list_audit(limit=1000, chain=records_chain(store))
    ours = [e for e in reversed(everything) if e.record_id == "rec-1"]
    assert [e.action for e in ours] == ["lift", "note", "suspend", "register"]
    assert store.audit_of_record("rec-1") == ours  # exactly as stored, hashes and all
    assert store.audit_of_record("rec-1", limit=2) == ours[:2]
    assert store.audit_of_record("rec-1", before=ours[1].seq) == ours[2:]
    assert store.audit_of_record("rec-1", before=1) == []
    assert [e.action for e in store.audit_of_record("rec-3")] == ["create_offer", "register"]
    assert store.audit_of_record("nope") == []


def test_the_audit_head_is_the_last_entry(store: Store) -> None:
    assert store.audit_head() is None
    store.append_audit(entry("register"))
    last = store.append_audit(entry("revoke"))
    assert store.audit_head() == (last.seq, last.hash) == (2, verify_chain(store.list_audit()).head.hash)  # type: ignore[union-attr]


def test_a_records_offers_oldest_first_in_every_state(store: Store) -> None:
    store.insert_record(a_record())
    store.insert_record(a_record("rec-2"))
    store.insert_offer(StoredOffer("offer-b", "rec-1", "d" * 64, "t" * 64, T0 + 100, ("x",), "open", T0 + 5))
    store.insert_offer(an_offer())
    store.insert_offer(StoredOffer("offer-3", "rec-2", "e" * 64, "t" * 64, T0 + 100, ("x",), "open", T0))
    assert store.finish_offer("c" * 64, state="redeemed", now=T0)
    found = store.offers_of_record("rec-1")
    assert [(o.offer_id, o.state) for o in found] == [("offer-1", "redeemed"), ("offer-b", "open")]
    assert found[1] == store.get_offer("offer-b")
    assert store.offers_of_record("nope") == []


# --- resident requests, the outbox, retiring chosen indices (issuer.requests) ----------------------------
def a_request(request_id: str, *, district: str = "110105", state: str = "queued", created_at: int = T0,
              holder: str = "h" * 64) -> StoredRequest:
    return StoredRequest(request_id, "endorse", state, "rec-1", district, holder, created_at, created_at, '{"a":1}')


def test_requests_round_trip_and_a_duplicate_id_is_a_conflict(store: Store) -> None:
    store.insert_request(a_request("q-1"))
    assert store.get_request("q-1") == a_request("q-1")
    assert store.get_request("q-2") is None
    with pytest.raises(StateConflictError):
        store.insert_request(a_request("q-1", district="110101"))
    assert store.get_request("q-1") == a_request("q-1")


def test_a_request_changes_only_from_the_expected_state_and_one_racer_wins(store: Store) -> None:
    store.insert_request(a_request("q-1"))
    decided = dataclasses.replace(a_request("q-1"), state="approved", updated_at=T0 + 5, data='{"b":2}')
    assert not store.update_request(decided, expected="submitted")
    assert store.get_request("q-1") == a_request("q-1")
    wins = race(THREADS, lambda i: store.update_request(dataclasses.replace(decided, data=f'{{"n":{i}}}'),
                                                          expected="queued"))
    assert wins.count(True) == 1
    got = store.get_request("q-1")
    assert got is not None and got.state == "approved" and got.updated_at == T0 + 5
    assert got.data == f'{{"n":{wins.index(True)}}}' and got.district == "110105" and got.created_at == T0


def test_the_queue_is_per_district_and_state_oldest_first(store: Store) -> None:
    store.insert_request(a_request("q-late", created_at=T0 + 20))
    store.insert_request(a_request("q-early", created_at=T0 + 10))
    store.insert_request(a_request("q-other", district="110101", created_at=T0))
    store.insert_request(a_request("q-done", state="done", created_at=T0 + 1))
    store.insert_request(a_request("q-mine", holder="m" * 64, created_at=T0 + 30))
    queued = [r.id for r in store.requests_in_districts(["110105"], ["queued"])]
    assert queued == ["q-early", "q-late", "q-mine"]
    both = [r.id for r in store.requests_in_districts(["110105", "110101"], ["queued", "done"], limit=3)]
    assert both == ["q-other", "q-done", "q-early"]
    assert store.requests_in_districts([], ["queued"]) == []
    assert [r.id for r in store.requests_of_holder("h" * 64)] == ["q-other", "q-done", "q-early", "q-late"]
    assert [r.id for r in store.requests_of_holder("m" * 64)] == ["q-mine"]
    assert store.requests_of_holder("x" * 64) == []


def a_notification(notification_id: str, *, created_at: int = T0, holder: str = "h" * 64) -> StoredNotification:
    return StoredNotification(notification_id, holder, "rec-1", "request_decided", '{"request":"q-1"}', created_at,
                              "pending", 0, created_at)


def test_the_outbox_lists_per_holder_and_hands_out_what_is_due(store: Store) -> None:
    store.insert_notification(a_notification("n-1"))
    store.insert_notification(a_notification("n-2", created_at=T0 + 10))
    store.insert_notification(a_notification("n-3", created_at=T0 + 5, holder="o" * 64))
    with pytest.raises(StateConflictError):
        store.insert_notification(a_notification("n-1"))
    assert [n.id for n in store.notifications_of_holder("h" * 64)] == ["n-2", "n-1"]
    assert [n.id for n in store.notifications_of_holder("h" * 64, limit=1)] == ["n-2"]
    assert [n.id for n in store.due_notifications(T0 + 5)] == ["n-1", "n-3"]
    store.update_notification("n-1", state="pending", attempts=1, next_attempt_at=T0 + 60)
    store.update_notification("n-3", state="sent", attempts=1, next_attempt_at=T0 + 5)
    assert [n.id for n in store.due_notifications(T0 + 30)] == ["n-2"]
    assert [(n.id, n.attempts) for n in store.due_notifications(T0 + 60)] == [("n-1", 1), ("n-2", 0)]
    assert store.notifications_of_holder("o" * 64)[0].state == "sent"


def test_retiring_chosen_indices_leaves_the_others_and_works_in_any_state(store: Store) -> None:
    store.insert_record(a_record())
    open_list(store, 1024)
    indices = [store.allocate_status_index(1, 1024) for _ in range(3)]
    for idx in indices:
        assert store.add_delivered("rec-1", 1, idx, T0)
    old, new = indices[:2], indices[2]
    gen = store.status_generation(1)
    assert store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                                     status_value=SUSPENDED, now=T0, audit=entry("suspend")) is not None
    assert store.retire_indices("rec-1", [(1, i) for i in old] + [(1, 999_999)], now=T0) == sorted((1, i) for i in old)
    assert store.retire_indices("rec-1", [(1, old[0])], now=T0) == []  # once only
    assert store.status_generation(1) > gen
    assert store.update_record_state("rec-1", expected=RecordState.SUSPENDED, new=RecordState.ACTIVE,
                                     status_value=VALID, now=T0, audit=entry("lift")) is not None
    bits = store.status_bits(1)
    assert [bits.get(i) for i in old] == [INVALID, INVALID] and bits.get(new) == VALID
    store.insert_record(a_record("rec-2"))
    assert store.retire_indices("rec-2", [(1, new)], now=T0) == []  # another record's index is not touched
    assert store.status_bits(1).get(new) == VALID


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
    assert [e.action for e in store.list_audit(chain=records_chain(store))] == ["set_portrait", "set_portrait"]
    verify_chain(store.list_audit(chain=records_chain(store)))


def test_a_portrait_is_kept_only_from_the_expected_state(store: Store) -> None:
    store.insert_record(a_record(state=RecordState.SUSPENDED))
    assert store.put_portrait("rec-1", b"sealed", expected=RecordState.ACTIVE, permit=with_portrait(b"\1" * 32).permit,
                              now=T0, audit=entry("set_portrait")) is None
    assert store.put_portrait("nobody", b"sealed", expected=RecordState.ACTIVE,
                              permit=with_portrait(b"\1" * 32).permit, now=T0, audit=entry("set_portrait")) is None
    assert store.get_portrait("rec-1") is None and store.list_audit(chain=records_chain(store)) == []
    record = store.get_record("rec-1")
    assert record is not None and record.permit.holder.portrait_sha256 is None


def test_a_portrait_keeps_the_holder_type_and_district(store: Store) -> None:
    store.insert_record(a_record())
    other = sample_permit(resident=1)
    with pytest.raises(ValueError):
        store.put_portrait("rec-1", b"sealed", expected=RecordState.ACTIVE, permit=other, now=T0,
                           audit=entry("set_portrait"))
    assert store.get_portrait("rec-1") is None and store.list_audit(chain=records_chain(store)) == []
