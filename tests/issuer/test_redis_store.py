"""The Redis store beyond the shared contract: the Protocol's newer methods on every back end, the bit order,
the audit chain under concurrency, durability refusal and Redis going away."""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential.encoding import b64url_decode, inflate
from credential.samples import DISTRICT, sample_permit
from credential.statuslist import INVALID, SUSPENDED, VALID, StatusList, msb_to_lsb
from issuer.audit import all_entries, verify_chain
from issuer.errors import StoreUnavailableError
from issuer.model import AuditEntry, Officer, RecordState, Role
from issuer.store import Store, StoredOffer
from tests.conftest import T0
from tests.vectors_path import STATUS_LIST_VECTORS

from .redis_server import REDIS_SERVER, RedisServer
from .test_store_contract import THREADS, a_record, entry, race

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


def redis_store(url: str, **options: object) -> object:
    from issuer.store.redis import RedisStore

    return RedisStore.from_url(url, prefix="{t-extra}", **options)  # type: ignore[arg-type]


@pytest.fixture
def raw_redis(redis_url: str) -> Iterator[object]:
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


# --- the Protocol's newer methods, on every back end (the `store` fixture) -----------------------------

def test_records_of_holder_oldest_first(store: Store) -> None:
    first, second = a_record("r1"), dataclasses.replace(a_record("r2"), created_at=T0 + 5)
    other = dataclasses.replace(a_record("r3"), permit=sample_permit(resident=1))
    for record in (second, first, other):
        store.insert_record(record)
    assert [r.id for r in store.records_of_holder(first.permit.holder.citizen_id)] == ["r1", "r2"]
    assert store.records_of_holder("110101199001011234") == []


def test_update_record_permit_only_from_the_expected_state(store: Store) -> None:
    store.insert_record(a_record())
    renewed = sample_permit(valid_until=datetime.date(2028, 1, 4))
    assert store.update_record_permit("rec-1", expected=RecordState.SUSPENDED, permit=renewed, now=T0) is None
    updated = store.update_record_permit("rec-1", expected=RecordState.ACTIVE, permit=renewed, now=T0 + 3)
    assert updated is not None and updated.permit == renewed and updated.updated_at == T0 + 3
    assert store.get_record("rec-1") == updated
    with pytest.raises(ValueError):
        store.update_record_permit("rec-1", expected=RecordState.ACTIVE, permit=sample_permit(resident=1), now=T0)
    assert store.update_record_permit("nope", expected=RecordState.ACTIVE, permit=renewed, now=T0) is None


def test_retired_indices_stay_invalid_and_offers_are_cancelled(store: Store) -> None:
    store.insert_record(a_record())
    store.open_status_list(1, 64, shard=DISTRICT)
    old = store.allocate_status_index(1, 64)
    assert store.add_delivered("rec-1", 1, old, T0)
    store.insert_offer(StoredOffer("o1", "rec-1", "c" * 64, "t" * 64, T0 + 100, ("x",), "open", T0))
    generation = store.status_generation(1)
    assert store.retire_delivered("rec-1", now=T0) == [(1, old)]
    assert store.status_bits(1).get(old) == INVALID and store.status_generation(1) > generation
    offer = store.get_offer("o1")
    assert offer is not None and offer.state == "cancelled"
    new = store.allocate_status_index(1, 64)
    assert store.add_delivered("rec-1", 1, new, T0)
    assert store.retire_delivered("rec-1", now=T0) == [(1, new)]  # the old one is not retired twice
    newest = store.allocate_status_index(1, 64)
    assert store.add_delivered("rec-1", 1, newest, T0)
    store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                              status_value=SUSPENDED, now=T0, audit=entry("suspend"))
    bits = store.status_bits(1)
    assert (bits.get(old), bits.get(new), bits.get(newest)) == (INVALID, INVALID, SUSPENDED)
    assert store.retire_delivered("rec-1", now=T0) is None  # not active
    assert sorted(store.delivered("rec-1")) == sorted([(1, old), (1, new), (1, newest)])


def test_revoke_one_officer_token(store: Store) -> None:
    store.put_officer(Officer("alice", "李娜", Role.CLERK, ("110105",)))
    store.add_officer_token("h1", "alice", expires_at=T0 + 100, now=T0)
    store.add_officer_token("h2", "alice", expires_at=T0 + 100, now=T0)
    assert store.revoke_officer_token("h1") == "alice"
    assert store.revoke_officer_token("h1") is None and store.revoke_officer_token("nope") is None
    assert store.officer_for_token("h1", T0) is None and store.officer_for_token("h2", T0) == "alice"
    assert store.revoke_officer_tokens("alice") == 1


def test_concurrent_audit_appends_form_one_chain(store: Store) -> None:
    per_thread = 5
    race(THREADS, lambda i: [store.append_audit(AuditEntry(0, T0, f"o{i}", "revoke", f"r{k}", "why 理由"))
                             for k in range(per_thread)])
    entries = list(all_entries(store))
    report = verify_chain(entries)
    assert report.entries == THREADS * per_thread and [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert store.list_audit(after=3, limit=2) == entries[3:5]


# --- bit order: Redis bitmaps are MSB-first, the Token Status List is LSB-first ------------------------------

def _vectors() -> list[dict[str, object]]:
    lists: list[dict[str, object]] = json.loads(STATUS_LIST_VECTORS.read_text())["lists"]
    return [v for v in lists if v["bits"] in (1, 2) and int(v["size"]) <= 64]  # type: ignore[call-overload]


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: str(v["name"]))
def test_redis_bitmaps_converted_match_the_draft_vectors(vector: dict[str, object], raw_redis: object) -> None:
    from issuer.store.redis import status_list_from_redis

    bits, size = int(vector["bits"]), int(vector["size"])  # type: ignore[call-overload]
    statuses = {int(k): v for k, v in vector["statuses"].items()}  # type: ignore[attr-defined]
    key = f"{{t-vec}}:{bits}"
    raw_redis.delete(key)  # type: ignore[attr-defined]
    for idx, value in statuses.items():  # written the way the store writes: BITFIELD u<bits> #idx
        raw_redis.bitfield(key).set(f"u{bits}", f"#{idx}", value).execute()  # type: ignore[attr-defined]
    raw = raw_redis.get(key)  # type: ignore[attr-defined]
    expected = inflate(b64url_decode(str(vector["lst"])), max_size=1 << 20)
    assert msb_to_lsb(raw, bits) == expected
    assert raw != expected  # the conversion is not a no-op for these vectors
    if bits == 2:
        assert status_list_from_redis(raw, size).data == expected


def test_store_status_bits_follow_every_set(store: Store) -> None:
    reference = StatusList(256, 2)
    indices = [store.allocate_status_index(1, 256) for _ in range(60)]
    for n, idx in enumerate(indices):
        value = (INVALID, SUSPENDED, VALID)[n % 3]
        store.set_status(1, idx, value)
        reference.set(idx, value)
    assert store.status_bits(1).data == reference.data


# --- durability and failure --------------------------------------------------------------------------------

@pytest.mark.parametrize("extra", [("--appendonly", "no"), ("--appendfsync", "everysec")])
def test_refuses_a_server_that_may_lose_writes(tmp_path: Path, extra: tuple[str, ...]) -> None:
    from issuer.store.redis.durability import UnsafeDurabilityError

    server = RedisServer(tmp_path, extra=extra).start()
    try:
        with pytest.raises(UnsafeDurabilityError) as caught:
            redis_store(server.url)
        assert caught.value.problems and "docs/redis.md" in str(caught.value)
        records: list[logging.LogRecord] = []
        handler = logging.Handler()
        handler.emit = records.append  # type: ignore[method-assign]
        logger = logging.getLogger("issuer.store.redis.durability")
        logger.addHandler(handler)
        try:
            store = redis_store(server.url, allow_unsafe_durability=True)
        finally:
            logger.removeHandler(handler)
        assert any("UNSAFE" in r.getMessage() for r in records)
        store.close()  # type: ignore[attr-defined]
    finally:
        server.stop()


def test_refuses_when_config_is_disabled_and_fsync_cannot_be_checked(tmp_path: Path) -> None:
    from issuer.store.redis.durability import UnsafeDurabilityError

    server = RedisServer(tmp_path, extra=("--rename-command", "CONFIG", "")).start()
    try:
        with pytest.raises(UnsafeDurabilityError, match="cannot be verified"):
            redis_store(server.url)
    finally:
        server.stop()


def test_every_call_fails_closed_when_redis_is_gone(tmp_path: Path) -> None:
    server = RedisServer(tmp_path).start()
    store = redis_store(server.url)
    store.insert_record(a_record())  # type: ignore[attr-defined]
    server.kill9()
    calls = [
        lambda: store.get_record("rec-1"),  # type: ignore[attr-defined]
        lambda: store.allocate_status_index(1, 64),  # type: ignore[attr-defined]
        lambda: store.update_record_state("rec-1", expected=RecordState.ACTIVE,  # type: ignore[attr-defined]
                                          new=RecordState.REVOKED, status_value=INVALID, now=T0,
                                          audit=entry("revoke")),
        lambda: store.append_audit(AuditEntry(0, T0, "a", "revoke", None, "")),  # type: ignore[attr-defined]
        lambda: store.take_ephemeral("c_nonce", "n", T0),  # type: ignore[attr-defined]
    ]
    for call in calls:
        with pytest.raises(StoreUnavailableError):
            call()
    server.start()  # the same directory: the AOF brings the record back, the client reconnects
    assert store.get_record("rec-1") == a_record()  # type: ignore[attr-defined]
    server.stop()
    with pytest.raises(StoreUnavailableError):
        redis_store(server.url)  # start-up against a dead server: 503, not a crash


def test_prefix_must_be_one_hash_tag(redis_url: str) -> None:
    from issuer.store.redis import RedisStore

    for bad in ("ep", "{}", "{a}{b}", "{a b}"):
        with pytest.raises(ValueError):
            RedisStore.from_url(redis_url, prefix=bad)


def test_deliveries_are_tracked_by_signing_key(store: Store) -> None:
    store.insert_record(a_record())
    store.insert_record(a_record("rec-2"))
    store.open_status_list(1, 64, shard=DISTRICT)
    first, second, third = (store.allocate_status_index(1, 64) for _ in range(3))
    assert store.add_delivered("rec-1", 1, first, T0, kid="k1")
    assert store.add_delivered("rec-2", 1, second, T0, kid="k1")
    assert store.add_delivered("rec-2", 1, third, T0)  # no kid: not tracked
    assert store.deliveries_signed_by("k1") == sorted([("rec-1", 1, first), ("rec-2", 1, second)])
    store.retire_delivered("rec-1", now=T0)
    assert store.deliveries_signed_by("k1") == [("rec-2", 1, second)]
    assert store.deliveries_signed_by("k2") == []


def test_a_failing_audit_append_leaves_the_state_change_unwritten(redis_url: str, raw_redis: object) -> None:
    # Redis does not undo a script's writes when it fails half way: the script checks the audit keys first.
    from issuer.store.redis import RedisStore

    store = RedisStore.from_url(redis_url, prefix="{t-audit-type}")
    shard = "{t-audit-type/" + DISTRICT + "}"  # the district's shard: its records and its audit chain
    raw_redis.delete(f"{shard}:record:rec-1", f"{shard}:audit", f"{shard}:audit:head")  # type: ignore[attr-defined]
    store.insert_record(a_record())
    store.open_status_list(1, 64, shard=DISTRICT)
    idx = store.allocate_status_index(1, 64)
    assert store.add_delivered("rec-1", 1, idx, T0)
    raw_redis.set(f"{shard}:audit", "not a log")  # type: ignore[attr-defined]
    with pytest.raises(StoreUnavailableError):
        store.update_record_state("rec-1", expected=RecordState.ACTIVE, new=RecordState.REVOKED,
                                  status_value=INVALID, now=T0, audit=entry("revoke"))
    assert store.get_record("rec-1") == a_record() and store.status_bits(1).get(idx) == VALID
    store.close()


def test_a_key_space_written_before_the_record_index_is_indexed_once_when_opened(
    redis_url: str, raw_redis: object
) -> None:
    """Entries appended before the per-record index existed (its keys and marker absent) are indexed when a
    store opens the key space; the next opening reads nothing."""
    from issuer.store.redis import RedisStore

    prefix = "{t-index}"
    first = RedisStore.from_url(redis_url, prefix=prefix)
    first.insert_record(a_record(), audit=entry("register"))
    for i in range(3):
        first.append_audit(entry("search_holder", None if i % 2 else "rec-1"))
    expected = first.audit_of_record("rec-1")
    assert [e.action for e in expected] == ["search_holder", "search_holder", "register"]
    shard = "{t-index/" + DISTRICT + "}"
    raw_redis.delete(f"{shard}:audit_of:rec-1", f"{shard}:audit:indexed")  # type: ignore[attr-defined]
    assert first.audit_of_record("rec-1") == []  # as an older key space: no index
    again = RedisStore.from_url(redis_url, prefix=prefix)
    assert again.audit_of_record("rec-1") == expected
    assert again.index_audit() == 0
    for key in raw_redis.scan_iter(match="{t-index*"):  # type: ignore[attr-defined]
        raw_redis.delete(key)  # type: ignore[attr-defined]
