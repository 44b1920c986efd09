"""The pickup's store steps (Store.ephemeral_step, redeem_offer, allocate_delivered, delivery_view) on every back
end, on Redis with the short-lived kinds on a second, non-persistent server (``redis-split``) and on SQLite with
them in the process's memory (``sqlite-memory``)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential.samples import sample_permit
from credential.statuslist import SUSPENDED
from issuer.audit import verify_chain
from issuer.model import Record, RecordState
from issuer.store import Deliverability, EphemeralStep, StatusListFullError, Store
from tests.conftest import T0
from tests.issuer.conftest import STORE_BACKENDS, make_store
from tests.issuer.test_store_contract import THREADS, a_record, an_offer, entry, race, records_chain

CODE, PIN = "c" * 64, "t" * 64  # an_offer's code hash and PIN hash
ANY = Deliverability("", "")


@pytest.fixture(scope="session")
def ephemeral_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.issuer.redis_server import REDIS_SERVER, RedisServer

    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("ephemeral"), durable=False).start()  # persists nothing
    yield server.url
    server.stop()


@pytest.fixture(params=[*STORE_BACKENDS, "redis-split", "sqlite-memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite-memory":
        from issuer.store.sqlite import SQLiteStore

        made: Store = SQLiteStore(tmp_path / "epermit.sqlite3", short_lived_in_memory=True)
    elif request.param == "redis-split":
        from issuer.store.redis import RedisStore

        made = RedisStore.from_url(request.getfixturevalue("redis_url"), prefix="{t" + uuid.uuid4().hex + "}",
                                          ephemeral_url=request.getfixturevalue("ephemeral_redis_url"))
    else:
        made = make_store(request.param, tmp_path, request)
    yield made
    getattr(made, "close", lambda: None)()


def offered(store: Store, state: RecordState = RecordState.ACTIVE) -> None:
    store.insert_record(a_record(state=state))
    store.insert_offer(an_offer())


def redeem(store: Store, pin: str = PIN, *, rule: Deliverability = ANY, max_attempts: int = 3,
           grants: tuple[tuple[str, str, str, int], ...] = ()) -> str:
    return store.redeem_offer(CODE, pin, now=T0 + 1, max_attempts=max_attempts, deliverable=rule,
                              redeemed=entry("offer_redeemed"), burned=entry("offer_burned"), grants=grants).outcome


# --- ephemeral_step ----------------------------------------------------------------------------------

def test_a_step_counts_then_stops_at_a_limit_without_writing(store: Store) -> None:
    step = EphemeralStep(counts=(("rate_nonce", "ip", 60, 2),), puts=(("c_nonce", "n", "1", 60),))
    assert store.ephemeral_step(step, T0).counts == (1,)
    assert store.ephemeral_step(step, T0).counts == (2,)
    limited = store.ephemeral_step(EphemeralStep(counts=step.counts, puts=(("c_nonce", "m", "1", 60),)), T0)
    assert limited.limited and limited.counts == (3,) and limited.taken is None
    assert store.get_ephemeral("c_nonce", "n", T0) == "1" and store.get_ephemeral("c_nonce", "m", T0) is None
    assert store.ephemeral_step(step, T0 + 60).counts == (1,)  # a new window


def test_takes_are_all_or_none_and_single_use_under_concurrency(store: Store) -> None:
    store.put_ephemeral("c_nonce", "n", "nonce", 60, T0)
    store.put_ephemeral("delivery", "d", "1", 60, T0)
    missing = store.ephemeral_step(EphemeralStep(takes=(("c_nonce", "n"), ("c_nonce", "gone"))), T0)
    assert missing.taken is None and store.get_ephemeral("c_nonce", "n", T0) == "nonce"  # nothing taken
    step = EphemeralStep(takes=(("c_nonce", "n"), ("delivery", "d")), puts=(("notification", "x", "v", 60),))
    results = race(THREADS, lambda _: store.ephemeral_step(step, T0 + 1).taken)
    assert [r for r in results if r is not None] == [("nonce", "1")]
    assert store.get_ephemeral("notification", "x", T0 + 1) == "v"
    store.put_ephemeral("c_nonce", "old", "1", 10, T0)
    assert store.ephemeral_step(EphemeralStep(takes=(("c_nonce", "old"),)), T0 + 10).taken is None  # expired
    with pytest.raises(ValueError):
        store.ephemeral_step(EphemeralStep(takes=(("c_nonce", "a"), ("c_nonce", "a"))), T0)


def test_gets_and_adds(store: Store) -> None:
    store.put_ephemeral("recovery_code", "holder", "first", 60, T0)
    step = EphemeralStep(adds=(("recovery_code", "holder", "second", 60), ("recovery_code", "new", "third", 60)))
    assert store.ephemeral_step(step, T0).added == (False, True)
    read = store.ephemeral_step(EphemeralStep(gets=(("recovery_code", "holder"), ("recovery_code", "none"))), T0)
    assert read.got == ("first", None)
    assert store.ephemeral_step(EphemeralStep(adds=step.adds[:1]), T0 + 60).added == (True,)  # the old one expired
    assert store.get_ephemeral("recovery_code", "holder", T0 + 60) == "second"
    results = race(THREADS, lambda i: store.ephemeral_step(
        EphemeralStep(adds=(("recovery_code", "raced", str(i), 60),)), T0).added[0])
    assert results.count(True) == 1


# --- redeem_offer ------------------------------------------------------------------------------------

def test_a_redemption_has_exactly_one_winner_and_writes_its_grants_and_entry(store: Store) -> None:
    offered(store)
    grants = (("access_token", "tok", json.dumps({"record_id": "rec-1"}), 300), ("delivery", "tok:sd", "1", 900))
    results = race(THREADS, lambda _: redeem(store, grants=grants, max_attempts=THREADS + 1))
    assert results.count("redeemed") == 1 and set(results) == {"redeemed", "invalid"}
    stored = store.get_offer("offer-1")
    assert stored is not None and stored.state == "redeemed"
    assert store.get_ephemeral("access_token", "tok", T0 + 1) == json.dumps({"record_id": "rec-1"})
    assert store.get_ephemeral("delivery", "tok:sd", T0 + 1) == "1"
    entries = store.list_audit(chain=records_chain(store))
    assert [(e.action, e.record_id) for e in entries] == [("offer_redeemed", "rec-1")]
    verify_chain(entries)


def test_wrong_pins_are_counted_before_the_comparison_and_the_last_one_burns(store: Store) -> None:
    offered(store)
    results = race(THREADS, lambda _: store.redeem_offer(
        CODE, "wrong", now=T0 + 1, max_attempts=3, deliverable=ANY, redeemed=entry("offer_redeemed"),
        burned=entry("offer_burned")))
    # Each attempt counted once, before its comparison; the third burns the offer, and then the code is unknown.
    assert sorted(r.attempts for r in results if r.outcome == "wrong_pin") == [1, 2, 3]
    assert [r.burned for r in results].count(True) == 1 and next(r for r in results if r.burned).attempts == 3
    assert {r.outcome for r in results} == {"wrong_pin", "invalid"}
    assert redeem(store) == "invalid"  # burned: the right PIN is refused now
    stored = store.get_offer("offer-1")
    assert stored is not None and stored.state == "burned"
    assert [e.action for e in store.list_audit(chain=records_chain(store))] == ["offer_burned"]


def test_a_right_pin_for_an_undeliverable_record_spends_nothing(store: Store) -> None:
    offered(store, RecordState.SUSPENDED)
    grants = (("access_token", "tok", "{}", 300),)
    result = store.redeem_offer(CODE, PIN, now=T0 + 1, max_attempts=3, deliverable=ANY, grants=grants,
                                redeemed=entry("offer_redeemed"), burned=entry("offer_burned"))
    assert result.outcome == "undeliverable" and result.record is not None and result.offer is not None
    assert result.record.state is RecordState.SUSPENDED
    stored = store.get_offer("offer-1")
    assert stored is not None and stored.state == "open" and store.list_audit(chain=records_chain(store)) == []
    assert store.get_ephemeral("access_token", "tok", T0 + 1) is None
    assert [redeem(store) for _ in range(3)] == ["undeliverable", "undeliverable", "exhausted"]  # each one counted


def test_the_deliverability_rule_is_checked_in_the_step(store: Store) -> None:
    offered(store)
    permit = a_record().permit
    assert redeem(store, rule=Deliverability("999999", "")) == "undeliverable"  # another authority
    late = (permit.valid_until.replace(year=permit.valid_until.year + 1)).isoformat()
    assert redeem(store, rule=Deliverability(permit.authority_code, late)) == "undeliverable"  # validity ended
    assert redeem(store, rule=Deliverability(permit.authority_code, permit.valid_until.isoformat())) == "redeemed"


def test_unknown_and_expired_codes_are_invalid(store: Store) -> None:
    assert redeem(store) == "invalid"
    offered(store)
    result = store.redeem_offer(CODE, PIN, now=T0 + 100, max_attempts=3, deliverable=ANY,
                                redeemed=entry("offer_redeemed"), burned=entry("offer_burned"))
    assert result.outcome == "invalid"


# --- allocate_delivered, delivery_view ---------------------------------------------------------------

def test_an_allocation_is_bound_and_remembered_in_one_step_only_while_active(store: Store) -> None:
    store.insert_record(a_record())
    store.insert_record(a_record("rec-2", RecordState.REVOKED))
    idx = store.allocate_delivered("rec-1", 1, 64, T0, kid="k1", remember=("holder_credential", "h", 600))
    assert idx is not None and store.delivered("rec-1") == [(1, idx)]
    assert store.deliveries_signed_by("k1") == [("rec-1", 1, idx)]
    # What a delivery remembers is read back by the credential request's view (on Redis: in the record's shard).
    (held,) = store.delivery_view("rec-1", "none", [("holder_credential", "h")], T0).values
    assert held is not None and json.loads(held) == {"list": 1, "idx": idx, "iat": T0, "kid": "k1"}
    assert store.delivery_view("rec-1", "none", [("holder_credential", "h")], T0 + 600).values == (None,)
    assert store.allocate_delivered("rec-2", 1, 64, T0, kid="k1") is None
    assert store.delivered("rec-2") == []
    found = race(THREADS, lambda _: store.allocate_delivered("rec-1", 1, 64, T0))
    assert len({idx, *found}) == THREADS + 1  # never one index twice
    with pytest.raises(StatusListFullError):
        for _ in range(64):
            store.allocate_delivered("rec-1", 1, 64, T0)


def test_an_allocation_takes_a_list_of_its_records_shard(store: Store) -> None:
    """A record's indices come from lists of its district's shard (its state changes set them in one step): a
    list of another shard is refused, one of no shard yet is opened in the record's."""
    away = Record("rec-away", dataclasses.replace(sample_permit(), district="310101"), RecordState.ACTIVE, T0, T0)
    store.insert_record(a_record())
    store.insert_record(away)
    home_shard, away_shard = store.shard_of(a_record().permit.district), store.shard_of(away.permit.district)
    store.open_status_list(1, 64, shard=home_shard)
    if home_shard != away_shard:
        with pytest.raises(ValueError, match="not in the shard"):
            store.allocate_delivered(away.id, 1, 64, T0)
        assert store.delivered(away.id) == [] and store.status_list_numbers(shard=away_shard) == []
    idx = store.allocate_delivered(away.id, 2, 64, T0, remember=("holder_credential", "h", 600))
    assert idx is not None and 2 in store.status_list_numbers(shard=away_shard) and store.delivered(away.id) == [(2, idx)]
    assert store.update_record_state(away.id, expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                                     status_value=SUSPENDED, now=T0 + 1, audit=entry("suspend", away.id))
    assert store.status_bits(2).get(idx) == SUSPENDED  # set by the state change's own step
    assert [e.action for e in store.list_audit(chain=away_shard)] == ["suspend"]
    (held,) = store.delivery_view(away.id, "none", [("holder_credential", "h")], T0).values
    assert held is not None and json.loads(held)["list"] == 2


def test_a_delivery_view_reads_the_record_the_offer_and_durable_values(store: Store) -> None:
    offered(store)
    store.put_ephemeral("approval", "rec-1", "pending", 60, T0)
    view = store.delivery_view("rec-1", "offer-1", [("approval", "rec-1"), ("holder_credential", "none")], T0)
    assert view.record == a_record() and view.offer == an_offer() and view.values == ("pending", None)
    empty = store.delivery_view("nope", "none", [], T0)
    assert (empty.record, empty.offer, empty.values) == (None, None, ())


# --- the second, ephemeral Redis ---------------------------------------------------------------------

def test_short_lived_values_live_on_the_ephemeral_server_and_the_rest_on_the_durable_one(
        redis_url: str, ephemeral_redis_url: str) -> None:
    from issuer.store.redis import RedisStore, connect

    prefix = "{t" + uuid.uuid4().hex + "}"
    store = RedisStore.from_url(redis_url, prefix=prefix, ephemeral_url=ephemeral_redis_url)
    durable, ephemeral = connect(redis_url), connect(ephemeral_redis_url)
    try:
        offered(store)
        store.put_ephemeral("approval", "rec-1", "pending", 60, T0)  # durable kinds stay durable
        assert redeem(store, grants=(("access_token", "tok", "{}", 300),)) == "redeemed"
        store.ephemeral_step(EphemeralStep(counts=(("rate_token_client", "ip", 60, 9),),
                                           puts=(("c_nonce", "n", "1", 60),)), T0)
        # Every shard's keys: the global {t...} and the districts' {t.../110105}.
        on = {name: {k.decode() for k in client.scan_iter(match=prefix[:-1] + "*")}
              for name, client in (("durable", durable), ("ephemeral", ephemeral))}
        short = {k for k in on["ephemeral"] if any(kind in k for kind in ("access_token", "c_nonce", "rate_token"))}
        assert len(short) == 3 and short == on["ephemeral"]
        assert not any(kind in k for k in on["durable"] for kind in ("access_token", "c_nonce", "rate_token"))
        assert any("approval" in k for k in on["durable"]) and any("pin_attempts" in k for k in on["durable"])
        with pytest.raises(ValueError, match="short-lived or none"):
            store.ephemeral_step(EphemeralStep(gets=(("c_nonce", "n"), ("approval", "rec-1"))), T0)
    finally:
        store.close()
        durable.close()
        ephemeral.close()


def test_an_ephemeral_server_that_could_come_back_older_is_refused(tmp_path: Path, redis_url: str) -> None:
    from issuer.store.redis import RedisStore
    from issuer.store.redis.durability import UnsafeDurabilityError
    from tests.issuer.redis_server import RedisServer

    snapshots = RedisServer(tmp_path / "snap", durable=False, extra=("--save", "60 1")).start()
    everysec = RedisServer(tmp_path / "everysec", extra=("--appendfsync", "everysec")).start()
    try:
        for server, problem in ((snapshots, "RDB snapshots"), (everysec, "everysec")):
            with pytest.raises(UnsafeDurabilityError, match=problem):
                RedisStore.from_url(redis_url, prefix="{t" + uuid.uuid4().hex + "}", ephemeral_url=server.url)
    finally:
        snapshots.stop()
        everysec.stop()


def test_in_memory_short_lived_values_never_reach_the_file(tmp_path: Path) -> None:
    import sqlite3

    from issuer.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "epermit.sqlite3", short_lived_in_memory=True)
    offered(store)
    assert redeem(store, grants=(("access_token", "tok", "{}", 300),)) == "redeemed"
    store.ephemeral_step(EphemeralStep(counts=(("rate_nonce_client", "ip", 60, 9),),
                                       puts=(("c_nonce", "n", "1", 60),)), T0)
    store.put_ephemeral("approval", "rec-1", "pending", 60, T0)
    assert store.get_ephemeral("access_token", "tok", T0 + 1) == "{}" and store.get_ephemeral("c_nonce", "n", T0)
    store.close()
    with sqlite3.connect(tmp_path / "epermit.sqlite3") as db:
        kinds = {row[0] for row in db.execute("SELECT kind FROM ephemeral UNION SELECT kind FROM counters")}
    assert kinds == {"approval", "pin_attempts"}  # the durable ones only
    reopened = SQLiteStore(tmp_path / "epermit.sqlite3", short_lived_in_memory=True)
    assert reopened.get_ephemeral("access_token", "tok", T0 + 1) is None  # a restart forgets: it only refuses
    assert reopened.get_ephemeral("approval", "rec-1", T0) == "pending"
