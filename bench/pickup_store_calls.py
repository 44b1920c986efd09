"""What one pickup asks of the store: Redis commands, round trips and fsyncs, and SQLite write transactions.

One pickup is what a phone does after scanning (bench/wallet_pickup.py) and then reports: POST /token, POST
/nonce, POST /credential, POST /notification (credential_accepted). PICKUPS of them run one after the other
through the wallet API in this process (Flask's test client: the same views and store calls as under gunicorn,
without the HTTP server's noise), on the production Redis deployment (a durable redis-server, appendfsync
always, started under strace to count its fsyncs; with the ephemeral store on a second, non-AOF redis-server
when the deployment has one) and on SQLite. Counted per pickup:

- Redis commands (INFO commandstats: a script counts as its EVALSHA plus each command it runs), round trips
  (requests the client sent: a script or a pipeline is one), and fsyncs of the durable server (fdatasync and
  fsync calls of redis-server; the AOF is fsynced once per event-loop turn that wrote, so, one client at a
  time, once per writing round trip);
- SQLite write transactions (BEGIN IMMEDIATE ... COMMIT: with WAL and synchronous=FULL each commit is one
  fsync of the WAL).

Rows: ``pickup_redis_round_trips`` and ``pickup_redis_fsyncs`` (per pickup), ``pickup_redis_commands``,
``pickup_sqlite_transactions``; per request in bench/results/pickup_store_calls.json.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.bench_redis import BenchRedis
from bench.harness import Row, print_table, rows_payload, write_result
from bench.wallet_pickup import PASSPHRASE, PRE_AUTH_GRANT, EphemeralRedis, make_offers, proof
from keys.signers import KeySigner

PICKUPS = 40
STEPS = ("token", "nonce", "credential", "notification")
TARGET_FSYNCS = 4  # at most one durable write per request of the pickup


class StracedRedis(BenchRedis):
    """The bench's durable redis-server, run under strace so that its fsyncs can be counted (strace must be the
    server's parent to trace it); without strace it runs as BenchRedis does and fsyncs are not counted."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.trace = directory / "fsyncs.trace"
        strace = shutil.which("strace")
        self.traced = strace is not None
        if strace is not None:
            self.command = [strace, "-f", "-qq", "-e", "trace=fsync,fdatasync", "-o", str(self.trace),
                            *self.command]

    def __enter__(self) -> StracedRedis:
        super().__enter__()
        return self

    def fsyncs(self) -> int:
        if not self.traced or not self.trace.exists():
            return 0
        return sum(1 for line in self.trace.read_text().splitlines() if "sync(" in line)


def commandstats(client: Any) -> Counter[str]:
    """Calls per command so far, the INFO call that reads them not counted."""
    stats = client.info("commandstats")
    counts = Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})
    counts["info"] -= 1
    return counts


class RoundTrips:
    """Requests redis-py sends (one per command, script or pipeline), counted while installed."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def installed(self) -> Iterator[RoundTrips]:
        from redis.connection import AbstractConnection

        original: Any = AbstractConnection.send_packed_command
        counter = self

        def send(connection: Any, command: Any, check_health: bool = True) -> None:
            with counter._lock:
                counter.count += 1
            original(connection, command, check_health)

        AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
        try:
            yield self
        finally:
            AbstractConnection.send_packed_command = original  # type: ignore[method-assign]


class Transactions:
    """BEGIN IMMEDIATE transactions of every SQLite store in this process, counted while installed."""

    def __init__(self) -> None:
        self.count = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[Transactions]:
        from issuer.store.sqlite.db import SQLiteFile

        original = SQLiteFile.write
        counter = self

        @contextlib.contextmanager
        def write(db: SQLiteFile) -> Iterator[Any]:
            counter.count += 1
            with original(db) as conn:
                yield conn

        SQLiteFile.write = write  # type: ignore[method-assign, assignment]
        try:
            yield self
        finally:
            SQLiteFile.write = original  # type: ignore[method-assign]


class Phone:
    """One pickup's four requests through the test client; ``measure`` runs around each step."""

    def __init__(self, app: Any, issuer: str) -> None:
        self.client = app.test_client()
        self.issuer = issuer
        self.device = KeySigner.generate()

    def post(self, path: str, **kwargs: Any) -> Any:
        response = self.client.post(path, **kwargs)
        if response.status_code not in (200, 204):
            raise RuntimeError(f"{path}: HTTP {response.status_code} {response.data[:300]!r}")
        return response.get_json(silent=True)

    def pickup(self, offer: tuple[str, str, str], measure: Any) -> None:
        code, pin, configuration_id = offer
        with measure("token"):
            token = self.post("/token", data=urllib.parse.urlencode(
                {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code, "tx_code": pin}),
                content_type="application/x-www-form-urlencoded")["access_token"]
        with measure("nonce"):
            nonce = self.post("/nonce")["c_nonce"]
        auth = {"Authorization": f"Bearer {token}"}
        with measure("credential"):
            answer = self.post("/credential", json={"credential_configuration_id": configuration_id,
                                                    "proofs": {"jwt": [proof(self.device, self.issuer, nonce)]}},
                               headers=auth)
        with measure("notification"):
            self.post("/notification", json={"notification_id": answer["notification_id"],
                                             "event": "credential_accepted"}, headers=auth)


def wallet_app(store: Any, keys_dir: Path, public_url: str) -> Any:
    from bench.wallet_app import UNLIMITED
    from issuer.service import IssuerService
    from issuer.settings import IssuerSettings
    from keys import load_keyring
    from wallet_api import create_app
    from wallet_api.settings import WalletApiSettings

    service = IssuerService(store, load_keyring(keys_dir, PASSPHRASE.encode()), IssuerSettings(public_url))
    return create_app(WalletApiSettings(public_url=public_url, token_requests_per_client=UNLIMITED,
                                        nonce_requests_per_client=UNLIMITED), service)


def on_redis(tmp: Path, keys_dir: Path, *, split: bool) -> dict[str, dict[str, float]]:
    """``split``: the short-lived values on a second, non-persistent redis-server (the production choice)."""
    from issuer.store.redis import RedisStore, connect

    public_url = "https://wallet.example.test"
    where = tmp / ("split" if split else "together")
    with StracedRedis(where / "durable") as durable, contextlib.ExitStack() as stack:
        second = stack.enter_context(EphemeralRedis(where / "ephemeral")) if split else None
        store = RedisStore.from_url(durable.url, ephemeral_url=None if second is None else second.url)
        offers = make_offers(store, keys_dir, public_url, PICKUPS + 2)
        phone = Phone(wallet_app(store, keys_dir, public_url), public_url)
        phone.pickup(offers.pop(), contextlib.nullcontext)  # warm up: scripts loaded, lists opened
        totals: dict[str, Counter[str]] = {step: Counter() for step in STEPS}
        trips = RoundTrips()
        stats = [connect(durable.url), *([] if second is None else [connect(second.url)])]

        def commands() -> Counter[str]:
            return sum((commandstats(client) for client in stats), Counter())

        @contextlib.contextmanager
        def measure(step: str) -> Iterator[None]:
            before, fsyncs = commands(), durable.fsyncs()
            sent = trips.count
            yield
            totals[step]["round_trips"] += trips.count - sent
            time.sleep(0.002)  # the trace line of the last fsync
            totals[step]["commands"] += sum((commands() - before).values())
            totals[step]["fsyncs"] += durable.fsyncs() - fsyncs

        with trips.installed():
            for offer in offers[:PICKUPS]:
                phone.pickup(offer, measure)
        store.close()
        for client in stats:
            client.close()
    return {step: {k: v / PICKUPS for k, v in totals[step].items()} for step in STEPS}


def on_sqlite(tmp: Path, keys_dir: Path) -> dict[str, dict[str, float]]:
    from issuer.store.sqlite import SQLiteStore

    public_url = "https://wallet.example.test"
    store = SQLiteStore(tmp / "epermit.sqlite3")
    offers = make_offers(store, keys_dir, public_url, PICKUPS + 2)
    phone = Phone(wallet_app(store, keys_dir, public_url), public_url)
    phone.pickup(offers.pop(), contextlib.nullcontext)
    totals: Counter[str] = Counter()
    transactions = Transactions()

    @contextlib.contextmanager
    def measure(step: str) -> Iterator[None]:
        before = transactions.count
        yield
        totals[step] += transactions.count - before

    with transactions.installed():
        for offer in offers[:PICKUPS]:
            phone.pickup(offer, measure)
    store.close()
    return {step: {"transactions": totals[step] / PICKUPS} for step in STEPS}


def run() -> list[Row]:
    from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
    from keys import init_keys

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        keys_dir = tmp / "keys"
        init_keys(keys_dir, PASSPHRASE.encode(), AUTHORITY_CODE, AUTHORITY_NAME, int(time.time()) - 60,
                  scrypt_n=2**14)
        redis = on_redis(tmp, keys_dir, split=True)
        together = on_redis(tmp, keys_dir, split=False)
        sqlite = on_sqlite(tmp, keys_dir)
    print_table(f"Store calls per pickup request ({PICKUPS} pickups, one at a time)",
                ("request", "Redis commands", "round trips", "fsyncs (durable Redis)", "one Redis: round trips",
                 "one Redis: fsyncs", "SQLite write transactions"),
                [(step, f"{redis[step]['commands']:.1f}", f"{redis[step]['round_trips']:.1f}",
                  f"{redis[step]['fsyncs']:.1f}", f"{together[step]['round_trips']:.1f}",
                  f"{together[step]['fsyncs']:.1f}", f"{sqlite[step]['transactions']:.1f}") for step in STEPS])

    def total(results: dict[str, dict[str, float]], key: str) -> float:
        return round(sum(results[s][key] for s in STEPS), 1)

    per = f"per pickup ({', '.join(STEPS)})"
    rows = [
        Row("pickup_redis_round_trips", total(redis, "round_trips"), "round trips", "informational", True,
            against=f"store calls to both servers {per}; the short-lived values on a second Redis"),
        Row("pickup_redis_fsyncs", total(redis, "fsyncs"), "fsyncs", f"<= {TARGET_FSYNCS}",
            total(redis, "fsyncs") <= TARGET_FSYNCS,
            against=f"AOF fsyncs of the durable Redis {per}, the short-lived values on a second Redis"),
        Row("pickup_redis_commands", total(redis, "commands"), "commands", "informational", True,
            against=f"Redis commands {per}, scripts' inner commands included"),
        Row("pickup_one_redis_fsyncs", total(together, "fsyncs"), "fsyncs", "informational", True,
            against=f"AOF fsyncs {per} with everything on one durable Redis (the default)"),
        Row("pickup_sqlite_transactions", total(sqlite, "transactions"), "transactions", "informational", True,
            against=f"BEGIN IMMEDIATE commits (each one WAL fsync) {per}"),
    ]
    write_result("pickup_store_calls", {"pickups": PICKUPS, "redis": redis, "one_redis": together, "sqlite": sqlite,
                                        "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
    sys.exit(0)
