"""Status list size against the Shannon bound, the JWT and CWT token sizes, and the time from a revocation to the
new signed list. ``python -m bench.status_lists sizes`` prints the token sizes only (writes no result file)."""

from __future__ import annotations

import gzip
import json
import math
import random
import sys
import tempfile
import time
import zlib
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from bench.harness import Row, print_table, rows_payload, write_result
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from credential.statuslist import INVALID, StatusList, cwt_from_token, sign_status_list_token
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import Purpose
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


def token_sizes(entries: int = 1 << 20, share: float = 0.01, seed: int = 20261128) -> dict[str, int]:
    """Bytes on the wire for one list as the issuer publishes it: the JWT (with its x5c chain and
    aggregation_uri, as issuer.publication signs it), that JWT gzipped, and its CWT form (issuer.statuscwt)."""
    now = int(time.time())
    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 86400)
    signer = ring.signer_for(Purpose.STATUS, now=now)
    chain = (ring.certificates[signer.kid].public_bytes(Encoding.DER), ring.root_certificate.public_bytes(Encoding.DER))
    lst = sized_list(entries, share, random.Random(seed))
    base = "https://permits.example.gov.cn"
    jwt = sign_status_list_token(lst, uri=f"{base}/statuslists/1", signer=signer, now=now, ttl=300,
                                 exp=now + 7 * 86400, aggregation_uri=f"{base}/statuslists", x5c=chain)
    cwt = cwt_from_token(jwt, signer_for=lambda kid: signer)
    return {"zlib_list": len(zlib.compress(lst.data, 9)), "jwt": len(jwt),
            "jwt_gzip": len(gzip.compress(jwt.encode("ascii"), compresslevel=6, mtime=0)), "cwt": len(cwt)}


def revocation_latency(runs: int = 20, share: float = 0.01) -> float:
    """Median seconds from service.revoke() returning to the re-signed list being the published one, on a
    realistic list: 2^20 entries (the issuer's list size) of which ``share`` are already revoked. (A list of a
    few revoked entries compresses to almost nothing and signs in about a millisecond: it measures nothing.)"""
    now = int(time.time())
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 86400)
    with tempfile.TemporaryDirectory() as tmp:
        settings = IssuerSettings("http://127.0.0.1:1")
        store = SQLiteStore(Path(tmp) / "bench.sqlite3")
        # Revocations a few seconds apart, as an office makes them: within one second every publication after
        # the first MAX_IAT_LEAD would wait for the clock (issuer.publication) and the bench would time no signing.
        clock = [now]
        service = IssuerService(store, keyring, settings, clock=lambda: clock[0])
        timings = []
        for run in range(runs):
            clock[0] += 5
            record = service.register(sample_permit(), officer="bench")
            offer = service.create_offer(record.id, officer="bench")
            token = service.redeem(offer.pre_authorized_code, offer.tx_code)
            (cred,) = service.deliver(token, [KeySigner.generate().public_key], offer.configuration_ids[0])
            if run == 0:  # fill the list the credentials are on: ``share`` of its entries revoked
                list_no = store.status_list_numbers()[0]
                size = settings.status_list_size
                for _ in range(int(size * share)):
                    store.set_status(list_no, store.allocate_status_index(list_no, size), INVALID)
                service.published_status_list(cred.status_uri)
            start = time.perf_counter()
            service.revoke(record.id, officer="bench", reason="benchmark")
            published = service.published_status_list(cred.status_uri)  # what the wallet API serves next
            timings.append(time.perf_counter() - start)
            assert published.iat >= clock[0], "the revocation was not re-signed: the bench timed nothing"
        bits = store.status_bits(store.status_list_numbers()[0])
        revoked = sum(1 for idx in range(bits.size) if bits.get(idx) == INVALID)
        assert revoked >= int(settings.status_list_size * share), revoked
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
    tokens = token_sizes()
    print_table("One 2^20-entry list at 1 % revoked, as published", ("form", "bytes"),
                [(name, f"{size:,}") for name, size in tokens.items()])
    latency = revocation_latency()
    print(f"\nrevocation → new signed list (SQLite, 2^20 entries, 1 % revoked): {latency * 1000:.1f} ms (median)")
    ten_m = sizes["10000000@0.01"]["compressed_bytes"]
    rows = [
        Row("status_list_10M_1pct_bytes", ten_m, "bytes", "<= 1.5 x Shannon bound",
            ten_m <= 1.5 * sizes["10000000@0.01"]["shannon_bytes"],
            against="Shannon bound for 10 M entries at 1 % revoked"),
        Row("revocation_to_signed_list_ms", round(latency * 1000, 1), "ms", "< 1000 ms", latency < 1.0,
            against="the 1 s limit; a 2^20 list with 1 % revoked, SQLite, revoke + re-sign + publish"),
    ]
    write_result("status_lists", {"sizes": sizes, "token_sizes_2p20_1pct": tokens,
                                  "revocation_latency_ms": latency * 1000, "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    if sys.argv[1:] == ["sizes"]:
        print(json.dumps(token_sizes(), indent=2))
    else:
        print(json.dumps(rows_payload(run()), indent=2))
