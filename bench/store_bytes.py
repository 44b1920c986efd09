"""Bytes of store per credential: Redis ``used_memory`` and the SQLite file, at 100 k credentials, both stores.

A credential here is what the office keeps for a resident who registered and picked up: the record (the
permit JSON), its pickup offer (redeemed), the audit entries of registration, offer and delivery, one status
index bound to the record and to the signing key. Ephemeral values (nonces, tokens: TTL'd, gone in minutes)
are not counted. Written through the Store interface as the bulk path and a pickup write them, in batches.
Redis memory does not depend on fsync, so this Redis runs without it (the store is told it may).
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.bench_redis import BenchRedis
from bench.harness import Row, print_table, rows_payload, write_result
from credential.citizen_id import citizen_id_check_digit
from credential.model import CredentialType
from credential.samples import sample_permit
from issuer.model import AuditEntry, Record, RecordState
from issuer.store import Registration, Store, StoredOffer

COUNT = int(os.environ.get("BENCH_STORE_CREDENTIALS", "100000"))
TARGET = 1024  # bytes per credential, each store
CITY = 10_000_000
BATCH = 1000
DISTRICTS = ("110101", "110102", "110105", "110106", "110107", "110108", "110109", "110111")
KID = "cred-2026-01"
T0 = 1_780_000_000


def registrations(count: int, districts: tuple[str, ...] = DISTRICTS) -> Iterator[Registration]:
    """``count`` registration cards of distinct fictitious holders, spread over the districts."""
    for n in range(count):
        birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=n // 500)
        first17 = f"410102{birth:%Y%m%d}{2 * (n % 500) + 1:03d}"
        district = districts[n % len(districts)]
        permit = sample_permit(CredentialType.RESIDENCE_REGISTRATION, birth_date=birth,
                               citizen_id=first17 + citizen_id_check_digit(first17),
                               document_number=f"DJK-{district}-2026-{n + 1:06d}")
        permit = type(permit).from_dict({**permit.to_dict(), "district": district})
        record = Record(secrets.token_urlsafe(16), permit, RecordState.ACTIVE, T0, T0)
        offer = StoredOffer(secrets.token_hex(32), record.id, secrets.token_hex(32), secrets.token_hex(32),
                            T0 + 7 * 86400, ("residence_registration_sd_jwt", "residence_registration_qr"),
                            "open", T0)
        audit = (AuditEntry(0, T0, "bench-clerk", "register", record.id, "residence_registration"),
                 AuditEntry(0, T0, "bench-issuer", "create_offer", record.id, f"offer {offer.offer_id[:22]}"))
        yield Registration(record, offer, audit)


def fill(store: Store, count: int, districts: tuple[str, ...] = DISTRICTS) -> None:
    """Register, redeem and deliver ``count`` credentials."""
    batch: list[Registration] = []
    for registration in registrations(count, districts):
        batch.append(registration)
        if len(batch) == BATCH:
            _write(store, batch)
            batch = []
    if batch:
        _write(store, batch)


def _write(store: Store, batch: list[Registration]) -> None:
    store.insert_registrations(batch)
    size = 1 << 20
    for r in batch:
        store.finish_offer(r.offer.code_hash, state="redeemed", now=T0 + 1)
        district = r.record.permit.district
        list_no = _list_of(store, district, size)
        idx = store.allocate_status_index(list_no, size)
        store.add_delivered(r.record.id, list_no, idx, T0 + 1, kid=KID)
        store.append_audit(AuditEntry(0, T0 + 1, "wallet", "deliver", r.record.id, f"{list_no}/{idx} {KID}"))


def _list_of(store: Store, district: str, size: int) -> int:
    """The newest list of the district's shard (Store.shard_of), opened on first use: a record's indices
    come from its own shard's lists (one list on a one-shard store)."""
    shard = store.shard_of(district)
    own = store.status_list_numbers(shard=shard)
    if own:
        return own[-1]
    every = store.status_list_numbers()
    list_no = every[-1] + 1 if every else 1
    while not store.open_status_list(list_no, size, shard=shard):
        list_no += 1  # another shard took that number
    return list_no


def measure_redis(tmp: Path, count: int) -> dict[str, Any]:
    from issuer.store.redis import RedisStore

    with BenchRedis(tmp / "redis", fsync=False) as server:
        store = RedisStore.from_url(server.url, prefix="{b" + uuid.uuid4().hex[:12] + "}",
                                    allow_unsafe_durability=True)
        try:
            before = int(store._r.info("memory")["used_memory"])
            start = time.perf_counter()
            fill(store, count)
            seconds = time.perf_counter() - start
            after = int(store._r.info("memory")["used_memory"])
            keys = int(store._r.dbsize())
        finally:
            store.close()
    return {"bytes": after - before, "per_credential": (after - before) / count, "keys": keys, "seconds": seconds}


def measure_sqlite(tmp: Path, count: int) -> dict[str, Any]:
    from issuer.store.sqlite import SQLiteStore

    path = tmp / "bytes.sqlite3"
    store = SQLiteStore(path)
    try:
        empty = _file_bytes(path)
        start = time.perf_counter()
        fill(store, count)
        seconds = time.perf_counter() - start
        store.checkpoint() if hasattr(store, "checkpoint") else None
    finally:
        store.close()
    size = _file_bytes(path)
    return {"bytes": size - empty, "per_credential": (size - empty) / count, "seconds": seconds}


def _file_bytes(path: Path) -> int:
    """The database with its write-ahead log (what a backup copies once the log is checkpointed)."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        found = {"Redis": measure_redis(Path(tmp), COUNT), "SQLite": measure_sqlite(Path(tmp), COUNT)}
    print_table(f"Store bytes per credential ({COUNT:,} registered and picked up, {len(DISTRICTS)} districts)",
                ("store", "bytes", "bytes per credential", f"{CITY // 1_000_000} M extrapolated", "seconds"),
                [(name, f"{m['bytes']:,}", f"{m['per_credential']:,.0f}",
                  f"{m['per_credential'] * CITY / 1e9:.1f} GB", f"{m['seconds']:.0f}") for name, m in found.items()])
    rows = [Row(f"store_{name.lower()}_bytes_per_credential", round(m["per_credential"]), "bytes",
                f"<= {TARGET}", m["per_credential"] <= TARGET,
                against=f"{'used_memory' if name == 'Redis' else 'file size'} delta over {COUNT:,} credentials")
            for name, m in found.items()]
    write_result("store_bytes", {"credentials": COUNT, "districts": list(DISTRICTS), "stores": found,
                                 "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
