"""A sharded city on a real Redis Cluster: three masters, one replica each (6 redis-server processes).

Credentials registered in several districts spread over the masters (none holds more than 60 % of the keys),
and ``kill -9`` of a master, once its replica is promoted, loses no acknowledged write: every write waited
(WAIT) for a replica before it was acknowledged.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from credential.citizen_id import citizen_id_check_digit
from credential.samples import sample_permit
from credential.statuslist import SUSPENDED, VALID
from issuer.audit import verify_chain
from issuer.errors import StoreUnavailableError
from issuer.model import AuditEntry, Record, RecordState
from tests.conftest import T0

from .redis_server import REDIS_SERVER, RedisClusterProcesses

pytestmark = pytest.mark.slow

DISTRICTS = ("110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111", "110112",
             "110113", "110114", "110115")
PER_DISTRICT = 20
PREFIX = "{city}"  # fixed: the cluster is this module's own, so the slots (and the spread) are the same each run


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterProcesses]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    nodes = RedisClusterProcesses(tmp_path_factory.mktemp("redis-shards"), replicas=1, node_timeout_ms=2000).start()
    yield nodes
    nodes.stop()


def a_store(cluster: RedisClusterProcesses, wait_replicas: int = 1):  # type: ignore[no-untyped-def]
    from issuer.store.redis import RedisStore

    live = next(s for s in cluster.servers if s.process is not None)
    return RedisStore.from_url(live.url, cluster=True, prefix=PREFIX, wait_replicas=wait_replicas)


def record_in(district: str, n: int) -> Record:
    birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=n)
    first17 = f"410102{birth:%Y%m%d}{n % 500 * 2 + 1:03d}"
    permit = sample_permit(citizen_id=first17 + citizen_id_check_digit(first17), birth_date=birth,
                           document_number=f"JZZ-{district}-2026-{n + 1:06d}")
    permit = type(permit).from_dict({**permit.to_dict(), "district": district, "authority_code": district})
    return Record(f"rec-{district}-{n}", permit, RecordState.ACTIVE, T0, T0)


def register_city(store: object, *, start: int = 0) -> dict[str, tuple[str, int, int]]:
    """PER_DISTRICT credentials in every district: record + entry, a list of the district's, one index bound.
    -> record id -> (district, list_no, idx), each acknowledged."""
    acknowledged = {}
    for d_no, district in enumerate(DISTRICTS):
        list_no = 1 + d_no
        store.open_status_list(list_no, 1024, shard=store.shard_of(district))  # type: ignore[attr-defined]
        for n in range(start, start + PER_DISTRICT):
            record = record_in(district, d_no * 1000 + n)
            store.insert_record(record, audit=AuditEntry(0, T0, "clerk", "register", record.id, "card"))  # type: ignore[attr-defined]
            idx = store.allocate_status_index(list_no, 1024)  # type: ignore[attr-defined]
            assert store.add_delivered(record.id, list_no, idx, T0, kid="k1")  # type: ignore[attr-defined]
            acknowledged[record.id] = (district, list_no, idx)
    return acknowledged


def keys_per_master(cluster: RedisClusterProcesses) -> list[int]:
    return [int(redis.Redis(port=m.port).dbsize()) for m in cluster.masters()]


def test_a_city_spreads_over_the_masters_and_survives_a_master_failover(cluster: RedisClusterProcesses) -> None:
    store = a_store(cluster)
    acknowledged = register_city(store)
    for record_id in list(acknowledged)[::7]:  # some state changes too: record, bits and entry in one script
        assert store.update_record_state(record_id, expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                                         status_value=SUSPENDED, now=T0 + 1,
                                         audit=AuditEntry(0, T0 + 1, "sup", "suspend", record_id, "why"))
    spread = keys_per_master(cluster)
    assert len(spread) == 3 and min(spread) > 0
    assert max(spread) / sum(spread) <= 0.6, spread

    # kill -9 the master holding the most keys; its replica takes over
    victim = max(cluster.masters(), key=lambda m: int(redis.Redis(port=m.port).dbsize()))
    victim.kill9()
    cluster.wait_failover(3)
    store.close()

    after = a_store(cluster, wait_replicas=0)  # reads (the promoted master has no replica to WAIT for yet)
    for record_id, (district, list_no, idx) in acknowledged.items():
        record = after.get_record(record_id)
        assert record is not None and record.permit.district == district, record_id
        assert after.delivered(record_id) == [(list_no, idx)]
        want = SUSPENDED if record.state is RecordState.SUSPENDED else VALID
        assert after.status_bits(list_no).get(idx) == want
    suspended = set(list(acknowledged)[::7])
    assert {r for r, s in after.record_states() if s is RecordState.SUSPENDED} == suspended
    total = 0
    for chain in after.audit_chains():
        entries = after.list_audit(limit=10_000, chain=chain)
        total += verify_chain(entries).entries
    assert total == len(acknowledged) + len(suspended)  # every acknowledged entry, every chain intact
    assert len(after.deliveries_signed_by("k1")) == len(acknowledged)
    after.close()
    # the dead node comes back as the new master's replica, and the city goes on, replicated again
    victim.start()
    cluster.wait_ok()
    again = a_store(cluster)
    try:
        more = register_city(again, start=PER_DISTRICT)
    except StoreUnavailableError:  # the first call to a moved slot refreshes the map: once more
        more = register_city(again, start=PER_DISTRICT)
    assert all(again.get_record(r) is not None for r in more)
    again.close()


def test_an_old_single_slot_key_space_is_refused(cluster: RedisClusterProcesses, tmp_path: Path) -> None:
    from issuer.store.redis import RedisStore, StoreFormatError

    live = next(s for s in cluster.masters())
    client = redis.RedisCluster(host="127.0.0.1", port=live.port)
    client.set("{old}:format", "3")
    with pytest.raises(StoreFormatError, match="one hash tag"):
        RedisStore.from_url(live.url, cluster=True, prefix="{old}")
    client.close()


def test_a_pickup_runs_in_its_districts_shard_on_the_cluster(cluster: RedisClusterProcesses) -> None:
    """The redemption (offer, PIN counter, record, the district's chain) and the allocation (a list of the
    district's, the binding, what it remembers) are each one script in the district's slot; the access token's
    grants, in the global shard's slot, follow as their own script. Every write waits for a replica."""
    from issuer.store import Deliverability, StoredOffer

    store = a_store(cluster)
    try:
        district, other = DISTRICTS[3], DISTRICTS[0]
        record = record_in(district, 9000)
        store.insert_record(record, audit=AuditEntry(0, T0, "clerk", "register", record.id, "card"))
        code, pin = "p" * 64, "q" * 64
        store.insert_offer(StoredOffer("offer-pickup", record.id, code, pin, T0 + 100, ("residence_permit_sd_jwt",),
                                       "open", T0))

        def redeem(tx_code_hash: str, grants: tuple[tuple[str, str, str, int], ...] = ()) -> tuple[str, int]:
            result = store.redeem_offer(
                code, tx_code_hash, now=T0 + 1, max_attempts=3, deliverable=Deliverability(district, ""),
                redeemed=AuditEntry(0, T0 + 1, "wallet", "offer_redeemed", record.id, "offer"),
                burned=AuditEntry(0, T0 + 1, "wallet", "offer_burned", record.id, "3 wrong PINs"), grants=grants)
            return result.outcome, result.attempts

        assert redeem("wrong") == ("wrong_pin", 1)
        grants = (("access_token", "tok-cluster", '{"record_id": "x"}', 300), ("delivery", "tok-cluster:sd", "1", 900))
        assert redeem(pin, grants) == ("redeemed", 2)
        assert redeem(pin, grants)[0] == "invalid"  # spent
        assert store.get_ephemeral("access_token", "tok-cluster", T0 + 1) == '{"record_id": "x"}'
        assert store.get_ephemeral("delivery", "tok-cluster:sd", T0 + 1) == "1"
        chain = store.list_audit(limit=10_000, chain=district)
        assert [(e.action, e.record_id) for e in chain[-2:]] == [("register", record.id), ("offer_redeemed", record.id)]
        verify_chain(chain)

        store.open_status_list(902, 1024, shard=store.shard_of(other))
        idx = store.allocate_delivered(record.id, 901, 1024, T0 + 2, kid="k2",
                                       remember=("holder_credential", "held-cluster", 600))
        assert idx is not None and 901 in store.status_list_numbers(shard=district)
        assert store.delivered(record.id) == [(901, idx)] and ((record.id, 901, idx) in store.deliveries_signed_by("k2"))
        view = store.delivery_view(record.id, "offer-pickup", [("holder_credential", "held-cluster")], T0 + 2)
        assert view.offer is not None and view.offer.state == "redeemed" and view.values[0] is not None
        assert '"idx":' + str(idx) in view.values[0].replace(" ", "")
        with pytest.raises(ValueError, match="not in the shard"):  # its bits could not follow the record's state
            store.allocate_delivered(record.id, 902, 1024, T0 + 2)
        assert store.update_record_state(record.id, expected=RecordState.ACTIVE, new=RecordState.SUSPENDED,
                                         status_value=SUSPENDED, now=T0 + 3,
                                         audit=AuditEntry(0, T0 + 3, "sup", "suspend", record.id, "why"))
        assert store.status_bits(901).get(idx) == SUSPENDED  # set by the state change's own script
        assert store.allocate_delivered(record.id, 901, 1024, T0 + 4) is None  # not active: nothing allocated
    finally:
        store.close()
