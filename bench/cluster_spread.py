"""How a city's keys spread over a real 3-master Redis Cluster: the largest master's share of the keys.

The key space is sharded by district (issuer.store.redis.client: one hash tag per district), so the masters
share a city's districts; the global shard (officers, lookups, the district set) lands on one of them. Three
cluster-enabled redis-servers on loopback ports are joined with ``redis-cli --cluster create`` and
credentials are registered, redeemed and delivered in twelve districts (bench.store_bytes.fill); then every
master's DBSIZE is read. The target is the issue's: no master holds more than 60 % of the keys.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from bench.bench_redis import BenchRedis, free_cluster_port
from bench.harness import Row, print_table, rows_payload, write_result
from bench.store_bytes import fill

COUNT = int(os.environ.get("BENCH_CLUSTER_CREDENTIALS", "6000"))
DISTRICTS = ("110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111", "110112",
             "110113", "110114", "110115")
MASTERS = 3
TARGET = 0.60
READY_TIMEOUT = 30.0


def _cli(port: int, *args: str) -> str:
    cli = shutil.which("redis-cli")
    if cli is None:
        raise RuntimeError("redis-cli is not installed (apt-get install redis-tools)")
    return subprocess.run([cli, "-p", str(port), *args], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def start_cluster(stack: ExitStack, tmp: Path) -> list[BenchRedis]:
    nodes = [stack.enter_context(BenchRedis(tmp / f"node{n}", fsync=False, port=free_cluster_port(), extra=(
        "--cluster-enabled", "yes", "--cluster-config-file", str(tmp / f"node{n}" / "nodes.conf"))))
        for n in range(MASTERS)]
    _cli(nodes[0].port, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in nodes), "--cluster-yes")
    deadline = time.monotonic() + READY_TIMEOUT
    while any("cluster_state:ok" not in _cli(n.port, "cluster", "info") for n in nodes):
        if time.monotonic() > deadline:
            raise RuntimeError("the Redis cluster did not reach cluster_state:ok")
        time.sleep(0.1)
    return nodes


def run() -> list[Row]:
    from issuer.store.redis import RedisStore

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        nodes = start_cluster(stack, Path(tmp))
        store = RedisStore.from_url(nodes[0].url, cluster=True, prefix="{c" + uuid.uuid4().hex[:8] + "}",
                                    allow_unsafe_durability=True)
        try:
            fill(store, COUNT, DISTRICTS)
        finally:
            store.close()
        keys = [int(_cli(n.port, "dbsize").strip()) for n in nodes]
    share = max(keys) / sum(keys)
    print_table(f"Keys per master ({COUNT:,} credentials in {len(DISTRICTS)} districts, {MASTERS} masters)",
                ("master", "keys", "share"), [(n + 1, f"{k:,}", f"{k / sum(keys):.0%}") for n, k in enumerate(keys)])
    rows = [Row("cluster_key_spread_largest_master", round(100 * share, 1), "% of keys", f"<= {TARGET:.0%}",
                share <= TARGET, against=f"{MASTERS} masters, {len(DISTRICTS)} districts, {COUNT:,} credentials")]
    write_result("cluster_spread", {"credentials": COUNT, "districts": list(DISTRICTS), "keys_per_master": keys,
                                    "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
