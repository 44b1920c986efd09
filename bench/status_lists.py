"""Status list size against the Shannon bound, and the time from a revocation to the new signed list."""

from __future__ import annotations

import json
import math
import random
import tempfile
import time
import zlib
from pathlib import Path

from bench.harness import Row, print_table, rows_payload, write_result
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from credential.statuslist import INVALID, StatusList
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys.keyring import KeyRing
from keys.signers import KeySigner


def entropy_bits(p: float) -> float:
    """Bits per entry when a fraction p of entries is INVALID and the rest VALID."""
    return 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def sized_list(entries: int, share: float, rng: random.Random) -> StatusList:
    lst = StatusList(entries, bits=2)
    for idx in rng.sample(range(entries), int(entries * share)):
        lst.set(idx, INVALID)
    return lst


def revocation_latency(runs: int = 20) -> float:
    """Median seconds from service.revoke() returning to the re-signed list being the published one."""
    now = int(time.time())
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 86400)
    with tempfile.TemporaryDirectory() as tmp:
        service = IssuerService(SQLiteStore(Path(tmp) / "bench.sqlite3"), keyring, IssuerSettings("http://127.0.0.1:1"))
        timings = []
        for _ in range(runs):
            record = service.register(sample_permit(), officer="bench")
            offer = service.create_offer(record.id, officer="bench")
            token = service.redeem(offer.pre_authorized_code, offer.tx_code)
            (cred,) = service.deliver(token, [KeySigner.generate().public_key], offer.configuration_ids[0])
            start = time.perf_counter()
            service.revoke(record.id, officer="bench", reason="benchmark")
            service.published_status_list(cred.status_uri)  # what the wallet API serves next
            timings.append(time.perf_counter() - start)
        timings.sort()
        return timings[len(timings) // 2]


def run() -> list[Row]:
    rng = random.Random(20261128)
    lines, sizes = [], {}
    for entries in (1_000_000, 10_000_000):
        for share in (0.001, 0.01, 0.05):
            lst = sized_list(entries, share, rng)
            compressed = len(zlib.compress(lst.data, 9))
            bound = entries * entropy_bits(share) / 8
            sizes[f"{entries}@{share}"] = {"compressed_bytes": compressed, "shannon_bytes": round(bound)}
            lines.append((f"{entries:,}", f"{share:.1%}", f"{compressed:,}", f"{round(bound):,}", f"{compressed / bound:.2f}"))
    print_table("Status list size (2 bits per entry, zlib level 9) vs the Shannon bound",
                ("entries", "not valid", "compressed B", "bound B", "ratio"), lines)
    latency = revocation_latency()
    print(f"\nrevocation → new signed list (SQLite, 2^20 entries): {latency * 1000:.1f} ms (median)")
    ten_m = sizes["10000000@0.01"]["compressed_bytes"]
    rows = [
        Row("status_list_10M_1pct_bytes", ten_m, "bytes", "<= 1.5 x Shannon bound",
            ten_m <= 1.5 * sizes["10000000@0.01"]["shannon_bytes"]),
        Row("revocation_to_signed_list_ms", round(latency * 1000, 1), "ms", "< 1000 ms", latency < 1.0),
    ]
    write_result("status_lists", {"sizes": sizes, "revocation_latency_ms": latency * 1000, "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
