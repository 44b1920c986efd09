"""The wallet API under a bounded loopback load: full pickups per second and their p50/p99, next to hello-world.

Both servers run under the production gunicorn command line (epermit.redis_serve.gunicorn_command: gthread,
WORKERS workers x THREADS threads) on a durable redis-server (appendonly yes, appendfsync always). The Redis
deployment keeps the short-lived values (nonces, access tokens, rate counters) on a second redis-server that
persists nothing (EPERMIT_EPHEMERAL_REDIS_URL, docs/redis.md), as a production office does. One pickup
is what a phone does after scanning: POST /token (pre-authorized code + PIN), POST /nonce, POST /credential
(a key proof: the issuer signs an SD-JWT VC and a QR pass, allocates a status index, audits). CLIENTS threads,
each on its own keep-alive connection, run pickups of pre-made offers for at most SECONDS; the hello-world app
(one POST, a JSON answer) is driven the same way before and after. The pickups run on Redis (the production
deployment: rows ``wallet_pickup_*``) and on SQLite (one file shared by the workers: rows ``*_sqlite``).
Targets: pickups/s >= 0.25 x hello requests/s, p99 < 100 ms. CPU seconds per operation of gunicorn, redis-server
and the client are reported, and the requests/s ratio (a pickup is three requests) next to the pickups/s one.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.bench_redis import BenchRedis, cpu_seconds, free_port
from bench.harness import Row, print_table, rows_payload, write_result
from credential.encoding import b64url_encode, json_dumps
from credential.jwk import public_jwk
from issuer.store import Store
from keys.signers import KeySigner

ROOT = Path(__file__).resolve().parent.parent
WORKERS, THREADS, CLIENTS = 2, 4, 8
SECONDS = 8.0  # per phase
OFFERS = 4000  # pre-made pickups: more than the phase can use
PASSPHRASE = "bench passphrase, not a secret"  # noqa: S105
PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"


class EphemeralRedis(BenchRedis):
    """The second redis-server of the short-lived values (docs/redis.md): it persists nothing."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        at = self.command.index("--appendonly")
        self.command[at:at + 4] = ["--appendonly", "no"]

    def __enter__(self) -> EphemeralRedis:
        super().__enter__()
        return self


@dataclass(frozen=True)
class Load:
    name: str
    operations: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    cpu: dict[str, float]  # CPU seconds during the load: "server" (gunicorn), "redis", "client" (this process)
    redis_commands: int = 0  # commands redis-server processed during the load

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


class Client:
    """One keep-alive connection; answers are read whole so the connection can be reused."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def post(self, path: str, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> dict[str, object]:
        self.conn.request("POST", path, body=body, headers={"Content-Type": content_type, **(headers or {})})
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status} {data[:200]!r}")
        answer: dict[str, object] = json.loads(data)
        return answer


def proof(device: KeySigner, issuer: str, nonce: str) -> str:
    header = {"typ": "openid4vci-proof+jwt", "alg": device.alg, "jwk": public_jwk(device.public_key)}
    payload = {"aud": issuer, "iat": int(time.time()), "nonce": nonce}
    signing_input = f"{b64url_encode(json_dumps(header))}.{b64url_encode(json_dumps(payload))}".encode("ascii")
    return signing_input.decode("ascii") + "." + b64url_encode(device.sign(signing_input))


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (gunicorn: the master and its workers)."""
    pids, total = [pid], 0.0
    while pids:
        current = pids.pop()
        try:
            total += cpu_seconds(current)
            pids += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def drive(name: str, port: int, step: Callable[[Client], int], budget: int | None,
          server_pid: int, redis_pids: Sequence[int]) -> Load:
    """CLIENTS threads call ``step`` (returns its request count) until SECONDS pass or ``budget`` steps ran."""
    latencies: list[float] = []
    counts = {"requests": 0, "errors": 0, "started": 0}
    lock = threading.Lock()
    deadline = time.perf_counter() + SECONDS

    def worker() -> None:
        client = Client(port)
        while time.perf_counter() < deadline:
            with lock:
                if budget is not None and counts["started"] >= budget:
                    return
                counts["started"] += 1
            start = time.perf_counter()
            try:
                requests = step(client)
            except (RuntimeError, OSError, http.client.HTTPException):
                with lock:
                    counts["errors"] += 1
                client = Client(port)
                continue
            took = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(took)
                counts["requests"] += requests

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    def redis_cpu() -> float:
        return sum(cpu_seconds(pid) for pid in redis_pids)

    cpu = {"server": tree_cpu(server_pid), "redis": redis_cpu(), "client": time.process_time()}
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    used = {"server": tree_cpu(server_pid) - cpu["server"], "redis": redis_cpu() - cpu["redis"],
            "client": time.process_time() - cpu["client"]}
    return Load(name, len(latencies), counts["requests"], seconds, latencies, counts["errors"], used)


def pickups(issuer: str, offers: Sequence[tuple[str, str, str]]) -> Callable[[Client], int]:
    queue = list(offers)
    lock = threading.Lock()
    devices = threading.local()

    def pickup(client: Client) -> int:
        with lock:
            code, pin, configuration_id = queue.pop()
        device = getattr(devices, "key", None) or KeySigner.generate()
        devices.key = device
        token = client.post("/token", urllib.parse.urlencode({
            "grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code, "tx_code": pin}).encode(),
            "application/x-www-form-urlencoded")
        nonce = client.post("/nonce", b"", "application/json")["c_nonce"]
        body = {"credential_configuration_id": configuration_id,
                "proofs": {"jwt": [proof(device, issuer, str(nonce))]}}
        answer = client.post("/credential", json.dumps(body).encode(), "application/json",
                             {"Authorization": f"Bearer {token['access_token']}"})
        if not answer.get("credentials"):
            raise RuntimeError("no credential in the answer")
        return 3

    return pickup


def hello(client: Client) -> int:
    client.post("/hello", b'{"hello": "?"}', "application/json")
    return 1


class Gunicorn:
    def __init__(self, app: str, env: dict[str, str], port: int | None = None) -> None:
        from epermit.redis_serve import gunicorn_command

        self.port = port or free_port()
        command = gunicorn_command(app, host="127.0.0.1", port=self.port, workers=WORKERS, threads=THREADS)
        self.process = subprocess.Popen(command, cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait(self, path: str) -> Gunicorn:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read()[-2000:] if self.process.stderr else ''!r}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
                conn.getresponse().read()
                conn.close()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not come up")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def redis_commands(url: str) -> int:
    """Commands the server has processed so far (this INFO call included)."""
    from issuer.store.redis import connect

    client = connect(url)
    try:
        return int(client.info("stats")["total_commands_processed"])
    finally:
        client.close()


def make_offers(store: Store, keys_dir: Path, public_url: str, count: int) -> list[tuple[str, str, str]]:
    """``count`` pickup offers through the bulk path (registration cards of distinct fictitious holders)."""
    from bench.bulk_registration import CLERK, ISSUER, applications_csv
    from issuer.bulk import issue_batch, read_rows, validate_rows
    from issuer.desk import OfficerDesk
    from issuer.rules import beijing_day
    from issuer.service import IssuerService
    from issuer.settings import IssuerSettings
    from keys import load_keyring

    service = IssuerService(store, load_keyring(keys_dir, PASSPHRASE.encode()), IssuerSettings(public_url))
    desk = OfficerDesk(service)
    for officer in (CLERK, ISSUER):
        desk.officers.put(officer)
    data = applications_csv(count, beijing_day(service.clock()))
    good, bad = validate_rows(read_rows(data), desk, clerk=CLERK, now=service.clock())
    if bad:
        raise RuntimeError(f"bench rows refused: {bad[:3]}")
    issued = list(issue_batch(desk, good, clerk=CLERK, officer=ISSUER))
    return [(r.offer.pre_authorized_code, r.offer.tx_code, r.offer.configuration_ids[0]) for r in issued]


def measure(tmp: Path) -> list[Load]:
    """hello-world, the pickups on Redis, the pickups on SQLite, hello-world again."""
    from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
    from issuer.store.redis import RedisStore
    from issuer.store.sqlite import SQLiteStore
    from keys import init_keys

    keys_dir = tmp / "keys"
    init_keys(keys_dir, PASSPHRASE.encode(), AUTHORITY_CODE, AUTHORITY_NAME, int(time.time()) - 60, scrypt_n=2**14)
    with BenchRedis(tmp / "redis") as redis, EphemeralRedis(tmp / "ephemeral") as ephemeral:
        ports = {"redis": free_port(), "sqlite": free_port()}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        redis_store, sqlite_store = RedisStore.from_url(redis.url), SQLiteStore(tmp / "epermit.sqlite3")
        offers = {"redis": make_offers(redis_store, keys_dir, urls["redis"], OFFERS),
                  "sqlite": make_offers(sqlite_store, keys_dir, urls["sqlite"], OFFERS)}
        redis_store.close()
        sqlite_store.close()
        env = {**os.environ, "EPERMIT_REDIS_URL": redis.url, "EPERMIT_KEYS_DIR": str(keys_dir),
               "EPERMIT_KEY_PASSPHRASE": PASSPHRASE, "EPERMIT_SQLITE_PATH": str(tmp / "epermit.sqlite3")}
        servers = {
            "hello": Gunicorn("bench.wallet_app:create_hello_app()", env),
            # The production deployment: the short-lived values on a second Redis, off the fsync'd path.
            "redis": Gunicorn("bench.wallet_app:create_wallet_app()",
                              {**env, "EPERMIT_PUBLIC_URL": urls["redis"], "EPERMIT_EPHEMERAL_REDIS_URL": ephemeral.url},
                              ports["redis"]),
            "sqlite": Gunicorn("bench.wallet_app:create_sqlite_wallet_app()",
                               {**env, "EPERMIT_PUBLIC_URL": urls["sqlite"]}, ports["sqlite"]),
        }
        redis_pids = (redis.pid, ephemeral.pid)
        try:
            servers["hello"].wait("/hello")
            servers["redis"].wait("/nonce")
            servers["sqlite"].wait("/nonce")
            loads = [drive("hello-world (before)", servers["hello"].port, hello, None,
                           servers["hello"].process.pid, redis_pids)]
            for name, label in (("redis", "Redis"), ("sqlite", "SQLite")):
                commands = redis_commands(redis.url) + redis_commands(ephemeral.url)
                load = drive(f"pickup on {label}: token + nonce + credential", ports[name],
                             pickups(urls[name], offers[name]), len(offers[name]), servers[name].process.pid,
                             redis_pids)
                after = redis_commands(redis.url) + redis_commands(ephemeral.url)
                loads.append(dataclasses.replace(load, redis_commands=after - commands - 2))
            loads.append(drive("hello-world (after)", servers["hello"].port, hello, None,
                               servers["hello"].process.pid, redis_pids))
        finally:
            for server in servers.values():
                server.stop()
    return loads


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        loads = measure(Path(tmp))
    before, on_redis, on_sqlite, after = loads
    hello_rate = statistics.mean([before.per_second, after.per_second])
    print_table(f"Wallet API under load: gunicorn gthread {WORKERS}x{THREADS}, {CLIENTS} keep-alive clients",
                ("load", "done", "per second", "requests/s", "p50 ms", "p99 ms", "errors",
                 "CPU ms each: server + redis + client"), [
                    (x.name, x.operations, f"{x.per_second:,.1f}", f"{x.requests / x.seconds:,.0f}",
                     f"{x.percentile(50):.1f}", f"{x.percentile(99):.1f}", x.errors,
                     " + ".join(f"{x.cpu[k] / max(1, x.operations) * 1000:.2f}" for k in ("server", "redis", "client")))
                    for x in loads])
    rows = []
    for flow, store in ((on_redis, "redis"), (on_sqlite, "sqlite")):
        ratio, p99 = flow.per_second / hello_rate, flow.percentile(99)
        print(f"\n{store}: pickups/s vs hello-world requests/s {ratio:.3f} (requests/s vs requests/s "
              f"{flow.requests / flow.seconds / hello_rate:.3f}); pickup p99 {p99:.1f} ms"
              + (f"; {flow.redis_commands / max(1, flow.operations):.1f} Redis commands per pickup"
                 if store == "redis" else ""))
        suffix = "" if store == "redis" else f"_{store}"  # Redis: the production (gunicorn) deployment
        rows += [Row(f"wallet_pickup_vs_hello{suffix}", round(ratio, 3), "ratio", ">= 0.25",
                     ratio >= 0.25 and flow.errors == 0, against="a Flask hello under the same gunicorn, same run"),
                 Row(f"wallet_pickup_p99_ms{suffix}", round(p99, 1), "ms", "< 100", p99 < 100 and flow.errors == 0,
                     against="the 100 ms limit, 8 concurrent clients")]
    write_result("wallet_pickup", {
        "config": {"workers": WORKERS, "threads": THREADS, "clients": CLIENTS, "seconds": SECONDS},
        "loads": [{"name": x.name, "operations": x.operations, "requests": x.requests, "seconds": x.seconds,
                   "per_second": x.per_second, "p50_ms": x.percentile(50), "p99_ms": x.percentile(99),
                   "errors": x.errors, "cpu_seconds": x.cpu, "redis_commands": x.redis_commands} for x in loads],
        "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
    sys.exit(0)
