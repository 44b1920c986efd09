"""The APIs on Redis over real HTTP: Redis down answers 503 JSON and keeps the public documents served;
two app instances on one Redis never hand out an index twice and never lose an update."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential.statuslist import INVALID
from epermit.http_client import HttpError, request
from keys.keyring import KeyRing

from .redis_office import DISTRICT, Office, OfficeClient, pick_up, registration_card, seed_officers
from .redis_server import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


def store_for(url: str, prefix: str = "{http}") -> object:
    from issuer.store.redis import RedisStore

    return RedisStore.from_url(url, prefix=prefix)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    started = RedisServer(tmp_path / "redis").start()
    yield started
    started.stop()


def test_redis_down_answers_503_json_and_keeps_the_public_documents(server: RedisServer, keyring: KeyRing) -> None:
    store = store_for(server.url)
    office = Office(store, keyring)  # type: ignore[arg-type]
    try:
        client = OfficeClient(office.officer_url, seed_officers(store, office.service.keyed))  # type: ignore[arg-type]
        record_id = client.register(registration_card(1))
        offer_uri, tx_code = client.offer(record_id)
        status_uri, _ = pick_up(offer_uri, tx_code)[0]
        status_list = request(status_uri)
        trust_list = request(f"{office.public_url}/trustlist.jwt")
        aggregation = request(f"{office.public_url}/statuslists")

        server.kill9()
        for call in (
            lambda: client.change(record_id, "revoke"),
            lambda: client.register(registration_card(2)),
            lambda: client.get_state(record_id),
            lambda: request(f"{office.public_url}/token", method="POST", form={
                "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                "pre-authorized_code": "x" * 43, "tx_code": "123456"}),
            lambda: request(f"{office.public_url}/nonce", method="POST"),
        ):
            with pytest.raises(HttpError) as caught:
                call()
            assert caught.value.status == 503 and caught.value.error == "temporarily_unavailable"
        assert request(status_uri).body == status_list.body  # the last published copy
        assert request(f"{office.public_url}/trustlist.jwt").body == trust_list.body
        assert request(f"{office.public_url}/statuslists").body == aggregation.body
        with pytest.raises(HttpError) as caught:
            request(f"{office.public_url}/statuslists/7")  # never served before: nothing to fall back on
        assert caught.value.status == 503

        server.start()  # the AOF replays: the refused revoke did not happen, the record is active
        assert client.get_state(record_id) == "active"
        assert client.change(record_id, "revoke") == "revoked"
    finally:
        office.stop()


def test_two_instances_on_one_redis_no_double_index_no_lost_update(server: RedisServer, keyring: KeyRing) -> None:
    stores = [store_for(server.url), store_for(server.url)]  # two clients: two app instances
    first = Office(stores[0], keyring)  # type: ignore[arg-type]
    second = Office(stores[1], keyring, public_url=first.public_url)  # type: ignore[arg-type]
    try:
        tokens = seed_officers(stores[0], first.service.keyed)  # type: ignore[arg-type]
        clients = [OfficeClient(first.officer_url, tokens), OfficeClient(second.officer_url, tokens)]
        records = [clients[n % 2].register(registration_card(10 + n)) for n in range(6)]
        services = [first.service, second.service]
        size = first.service.settings.status_list_size
        # The records' indices come from lists of their district's shard: list 1, still empty, moves there
        # (as the first delivery's allocation would do: issuer.publication.Publisher.allocate).
        stores[0].open_status_list(1, size, shard=stores[0].shard_of(DISTRICT))
        assert stores[0].status_list_numbers(shard=stores[0].shard_of(DISTRICT)) == [1]
        delivered: list[tuple[int, int]] = []
        revokes: list[tuple[str, str]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def deliver(n: int) -> None:  # allocate and bind through both instances' stores at once
            store = services[n % 2].store
            barrier.wait()
            for k in range(10):
                idx = store.allocate_status_index(1, size)
                with lock:
                    delivered.append((1, idx))
                store.add_delivered(records[(n + k) % len(records)], 1, idx, services[n % 2].clock())

        def revoke(n: int) -> None:  # both instances revoke the same records at once
            barrier.wait()
            for record_id in records[:3]:
                try:
                    state = clients[n % 2].change(record_id, "revoke")
                except HttpError as exc:
                    state = str(exc.status)
                with lock:
                    revokes.append((record_id, state))

        threads = [threading.Thread(target=deliver, args=(n,)) for n in range(6)]
        threads += [threading.Thread(target=revoke, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(delivered) == len(set(delivered)) == 60  # no index handed out twice
        for record_id in records[:3]:  # each revoke has one winner; the loser hears 409
            assert sorted(state for r, state in revokes if r == record_id) == ["409", "revoked"]
        store = stores[0]
        bound = [pair for r in records for pair in store.delivered(r)]  # type: ignore[attr-defined]
        assert len(bound) == len(set(bound))
        bits = store.status_bits(1)  # type: ignore[attr-defined]
        for record_id in records[:3]:  # no delivery slipped past a revoke: every bound index is INVALID
            assert all(bits.get(idx) == INVALID for _, idx in store.delivered(record_id))  # type: ignore[attr-defined]
        published = json.loads(request(f"{first.public_url}/statuslists").body)
        assert published["status_lists"] == [f"{first.public_url}/statuslists/1"]
    finally:
        first.stop()
        second.stop()
