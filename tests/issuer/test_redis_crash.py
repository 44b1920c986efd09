"""kill -9 the redis-server while clients issue, suspend and revoke over HTTP: nothing acknowledged is lost.

Clients walk records through register -> offer + pick-up -> suspend -> revoke on the real officer and wallet
APIs. Only answers with a success status count as acknowledged. A failed step leaves its record ambiguous
between the last acknowledged state and the attempted one; the record is then left alone. After two
crashes and restarts on the same directory and port (the AOF replays), every acknowledged record, state and
delivered status index must be in the store, with its status bit, and no index may be bound twice; and the
audit chain must verify and explain every record's state (a change and its entry are one script).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from credential.statuslist import INVALID, SUSPENDED, VALID
from issuer.audit import all_entries, check_record_states, verify_chain
from keys.keyring import KeyRing

from .redis_office import Office, OfficeClient, pick_up, registration_card, seed_officers
from .redis_server import REDIS_SERVER, RedisServer

pytestmark = [pytest.mark.slow, pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")]

CLIENTS = 4
RUN_SECONDS = 8.0
CRASHES = (2.0, 5.0)  # seconds into the run
DOWN_SECONDS = 0.5
STATUS = {"active": VALID, "suspended": SUSPENDED, "revoked": INVALID}
STEPS = ("issue", "suspend", "revoke")


@dataclass
class Tally:
    acked_state: dict[str, str] = field(default_factory=dict)  # record -> last acknowledged state
    maybe_state: dict[str, str] = field(default_factory=dict)  # record -> the state a failed step attempted
    acked_indices: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    acked: int = 0
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_loop(client: OfficeClient, first_holder: int, stop: threading.Event, tally: Tally) -> None:
    holder = first_holder
    while not stop.is_set():
        holder += CLIENTS
        try:
            record_id = client.register(registration_card(holder))
        except Exception:  # 503 or a dropped connection: not acknowledged, nothing to check
            with tally.lock:
                tally.failed += 1
            continue
        with tally.lock:
            tally.acked_state[record_id], tally.acked_indices[record_id] = "active", []
            tally.acked += 1
        for step in STEPS:
            attempted = {"issue": "active", "suspend": "suspended", "revoke": "revoked"}[step]
            try:
                if step == "issue":
                    indices = pick_up(*client.offer(record_id))
                    with tally.lock:
                        tally.acked_indices[record_id].extend(indices)
                else:
                    assert client.change(record_id, step) == attempted
            except Exception:
                with tally.lock:
                    tally.maybe_state[record_id] = attempted
                    tally.failed += 1
                break
            with tally.lock:
                tally.acked_state[record_id] = attempted
                tally.acked += 1


def test_kill_9_loses_nothing_acknowledged(tmp_path: Path, keyring: KeyRing) -> None:
    from issuer.store.redis import RedisStore

    server = RedisServer(tmp_path / "redis").start()
    office = Office(RedisStore.from_url(server.url), keyring)
    tally, stop = Tally(), threading.Event()
    try:
        client = OfficeClient(office.officer_url, seed_officers(office.service.store, office.service.keyed), timeout=5)
        threads = [threading.Thread(target=client_loop, args=(client, n, stop, tally)) for n in range(CLIENTS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for crash_at in CRASHES:
            time.sleep(max(0.0, started + crash_at - time.monotonic()))
            server.kill9()  # no shutdown, no final fsync
            time.sleep(DOWN_SECONDS)
            server.start()  # same port, same directory: the AOF is replayed
        time.sleep(max(0.0, started + RUN_SECONDS - time.monotonic()))
        stop.set()
        for t in threads:
            t.join(timeout=60)
    finally:
        office.stop()
    server.kill9()  # once more, after the last answer: only the AOF remains
    server.start()
    try:
        store = RedisStore.from_url(server.url)
        lost: list[str] = []
        for record_id, state in tally.acked_state.items():
            record = store.get_record(record_id)
            allowed = {state, tally.maybe_state.get(record_id, state)}
            if record is None or record.state.value not in allowed:
                lost.append(f"{record_id}: acknowledged {state}, stored {record and record.state.value}")
                continue
            bound = set(store.delivered(record_id))
            for uri, idx in tally.acked_indices[record_id]:
                list_no = int(uri.rsplit("/", 1)[1])
                if (list_no, idx) not in bound:
                    lost.append(f"{record_id}: index {list_no}/{idx} acknowledged, not bound")
                elif store.status_bits(list_no).get(idx) != STATUS[record.state.value]:
                    lost.append(f"{record_id}: index {list_no}/{idx} has the wrong status")
        every_bound = [pair for r in tally.acked_state for pair in store.delivered(r)]
        acked_indices = [pair for pairs in tally.acked_indices.values() for pair in pairs]
        print(f"\ncrash test: {len(tally.acked_state)} records, {tally.acked} acknowledged steps, "
              f"{len(acked_indices)} acknowledged SD-JWT indices, {len(every_bound)} bound indices, "
              f"{tally.failed} failed requests, {len(CRASHES) + 1} kill -9; lost {len(lost)}")
        assert lost == []
        assert len(every_bound) == len(set(every_bound))  # no index bound twice
        assert len(acked_indices) == len(set(acked_indices))
        assert tally.failed > 0 and len(tally.acked_state) > 10  # the crashes did hit traffic
        # A crash never splits a change from its audit entry: the chain holds and explains every record.
        verify_chain(all_entries(store))
        assert check_record_states(store) == []
        store.close()
    finally:
        server.stop()
