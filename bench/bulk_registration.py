"""Bulk registration from CSV end to end, per second per core, on SQLite and on a durable Redis.

End to end means what `epermit issue --csv` does: parse the file, validate every row (claim model, role and
district, the bureau's rules against the store, duplicates), then register each row and make its pickup offer
(code + PIN hashed, every step in the hash-chained audit trail). One process, one thread: rows per wall second
is rows per second per core on an idle machine; the summary row uses rows per CPU second (this process plus
redis-server), which is the same figure without the noise of other load on a shared machine.
The row-by-row path (one transaction per statement, as the HTTP API does it) runs in the same run for scale.
Target: >= 2,000 rows/s/core, so a city of 10 M is re-offered in under 90 minutes on one core.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.bench_redis import BenchRedis, cpu_seconds
from bench.harness import Row, print_table, rows_payload, write_result
from credential.citizen_id import citizen_id_check_digit
from credential.model import APPLICATION_FIELDS, CredentialType
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from issuer.audit import AuditScope
from issuer.audit_search import AuditFilter, search_newest
from issuer.bulk import IssuedRow, issue_batch, issue_rows, read_rows, validate_rows
from issuer.desk import OfficerDesk
from issuer.model import Officer, Role
from issuer.rules import beijing_day
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from keys.keyring import KeyRing

TARGET = 2000.0
ROWS = {"batch": 10_000, "row by row": 1_500}
DISTRICT = "110105"
CLERK = Officer("bench-clerk", "柜员", Role.CLERK, (DISTRICT,))
ISSUER = Officer("bench-issuer", "民警", Role.ISSUING_OFFICER, (DISTRICT,))
Issue = Callable[..., Iterator[IssuedRow]]


def applications_csv(count: int, today: datetime.date) -> bytes:
    """``count`` registration cards of distinct fictitious holders (valid GB 11643 check digits), as a CSV."""
    base = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=today,
                         valid_until=today + datetime.timedelta(days=364)).to_dict()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*APPLICATION_FIELDS, "phone"])
    for n in range(count):
        birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=n // 500)
        first17 = f"410102{birth:%Y%m%d}{2 * (n % 500) + 1:03d}"  # odd sequence: male, like the sample holder
        fields = {**base, "birth_date": birth.isoformat(), "citizen_id": first17 + citizen_id_check_digit(first17),
                  "document_number": f"DJK-{DISTRICT}-2026-{n + 1:06d}", "phone": f"138{n:08d}"}
        writer.writerow(["" if fields[c] is None else str(fields[c]) for c in [*APPLICATION_FIELDS, "phone"]])
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class Measured:
    backend: str
    path: str
    rows: int
    seconds: float
    cpu_self: float
    cpu_redis: float

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds

    @property
    def per_cpu_second(self) -> float:
        return self.rows / (self.cpu_self + self.cpu_redis)


def measure(store: Store, backend: str, path: str, issue: Issue, data: bytes, keyring: KeyRing,
            redis_pid: int | None) -> Measured:
    service = IssuerService(store, keyring, IssuerSettings("https://jzz.example.gov.cn"))
    desk = OfficerDesk(service)
    for officer in (CLERK, ISSUER):
        desk.officers.put(officer)
    redis_cpu = cpu_seconds(redis_pid) if redis_pid else 0.0
    cpu = time.process_time()
    start = time.perf_counter()
    good, bad = validate_rows(read_rows(data), desk, clerk=CLERK, now=service.clock())
    issued = list(issue(desk, good, clerk=CLERK, officer=ISSUER))
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    redis_cpu = (cpu_seconds(redis_pid) - redis_cpu) if redis_pid else 0.0
    if bad or len(issued) != len(good):
        raise AssertionError(f"{backend} {path}: {len(bad)} bad rows, {len(issued)} of {len(good)} issued")
    newest = search_newest(store, AuditScope("bench", None), AuditFilter(), limit=1).entries
    if [e.action for e in newest] != ["create_offer"]:  # register + create_offer per row, the offer last
        raise AssertionError(f"{backend} {path}: the audit trail does not end with the last offer")
    return Measured(backend, path, len(issued), seconds, cpu, redis_cpu)


def _paths() -> dict[str, Issue]:
    return {"batch": issue_batch, "row by row": issue_rows}


def run_all(tmp: Path, keyring: KeyRing, paths: Sequence[str]) -> list[Measured]:
    from issuer.store.redis import RedisStore
    from issuer.store.sqlite import SQLiteStore

    today = beijing_day(int(time.time()))
    data = {path: applications_csv(ROWS[path], today) for path in paths}
    found: list[Measured] = []
    for path in paths:
        sqlite = SQLiteStore(tmp / f"{path.replace(' ', '-')}.sqlite3")
        try:
            found.append(measure(sqlite, "SQLite", path, _paths()[path], data[path], keyring, None))
        finally:
            sqlite.close()
    with BenchRedis(tmp / "redis") as server:
        for path in paths:
            redis = RedisStore.from_url(server.url, prefix="{b" + uuid.uuid4().hex[:12] + "}")
            try:
                found.append(measure(redis, "Redis", path, _paths()[path], data[path], keyring, server.pid))
            finally:
                redis.close()
    return found


def run() -> list[Row]:
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=int(time.time()))
    with tempfile.TemporaryDirectory() as tmp:
        found = run_all(Path(tmp), keyring, list(ROWS))
    print_table("Bulk registration from CSV (validate, register, offer; audited), one process", (
        "store", "path", "rows", "seconds", "rows/s (wall, one core)", "rows per CPU s (incl. redis-server)"), [
        (m.backend, m.path, m.rows, f"{m.seconds:.2f}", f"{m.per_second:,.0f}", f"{m.per_cpu_second:,.0f}")
        for m in found])
    best = {m.backend: m for m in found if m.path == "batch"}
    # Per core = per CPU second of everything that worked (this process + redis-server): on an idle machine
    # the same as per wall second of the one process (it waits while Redis runs), but not shaken by the load
    # that other processes put on a shared machine. The wall rate is in the table and the JSON.
    rows = [Row(f"bulk_registration_{backend.lower()}_rows_per_s_per_core", round(m.per_cpu_second), "rows/CPU s",
                f">= {TARGET:,.0f}", m.per_cpu_second >= TARGET, against="the per-core target (CPU s incl. redis-server)")
            for backend, m in best.items()]
    minutes = {b: 10_000_000 / m.per_cpu_second / 60 for b, m in best.items()}
    print("\n10 M rows on one core: " + ", ".join(f"{b} {n:.0f} min" for b, n in minutes.items())
          + "; row by row was " + ", ".join(f"{m.backend} {m.per_cpu_second:,.0f}/CPU s"
                                             for m in found if m.path == "row by row"))
    write_result("bulk_registration", {
        "measurements": [{**m.__dict__, "rows_per_second": m.per_second, "rows_per_cpu_second": m.per_cpu_second}
                         for m in found],
        "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
