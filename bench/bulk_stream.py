"""`epermit issue --csv` at city scale, streamed: rows per second and peak memory, on SQLite and on Redis.

The whole command as an office runs it, in its own process: the file hashed, checked in full (claim model,
role and district, the bureau's rules against the store, no document number twice, in the run's journal),
then issued in batches of 1,000 (record, pickup offer, two audit entries; each batch one transaction or
one Redis script, counted for resumption), the SMS file written as it goes. Peak RSS is that process's own
(wait4), so it shows whether memory stays flat as the file grows. The row count is BENCH_BULK_ROWS
(default 20,000, a couple of minutes on a shared machine; the 1,000,000-row figures in docs/benchmarks.md
come from ``BENCH_BULK_ROWS=1000000 python -m bench.bulk_stream``).
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.bench_redis import BenchRedis, cpu_seconds
from bench.harness import Row, print_table, rows_payload, write_result
from credential.citizen_id import citizen_id_check_digit
from credential.model import APPLICATION_FIELDS, CredentialType
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from issuer.rules import beijing_day
from keys import KeyRing, save_keyring

ROWS = int(os.environ.get("BENCH_BULK_ROWS", "20000"))
TARGET_RATE = 2000.0  # rows per CPU second end to end, as bench.bulk_registration: 1 M rows in 8 minutes a core
TARGET_RSS_MIB = 200.0  # flat: the same at 20 k rows as at 1 M
DISTRICT = "110105"
REPO = Path(__file__).resolve().parent.parent


def write_applications(path: Path, count: int, today: datetime.date) -> None:
    """``count`` registration cards of distinct fictitious holders (valid GB 11643 check digits), streamed."""
    base = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=today,
                         valid_until=today + datetime.timedelta(days=364)).to_dict()
    columns = [*APPLICATION_FIELDS, "phone"]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for n in range(count):
            birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=n // 500)
            first17 = f"410102{birth:%Y%m%d}{2 * (n % 500) + 1:03d}"
            fields = {**base, "birth_date": birth.isoformat(), "citizen_id": first17 + citizen_id_check_digit(first17),
                      "document_number": f"DJK-{DISTRICT}-2026-{n + 1:07d}", "phone": f"138{n % 10**8:08d}"}
            writer.writerow(["" if fields[c] is None else str(fields[c]) for c in columns])


@dataclass(frozen=True)
class Run:
    backend: str
    rows: int
    file_mib: float
    seconds: float
    cpu_self: float
    cpu_redis: float
    peak_rss_mib: float

    @property
    def per_second(self) -> float:
        return self.rows / self.seconds

    @property
    def per_cpu_second(self) -> float:
        return self.rows / (self.cpu_self + self.cpu_redis)


def epermit(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float, float]:
    """Run `epermit ARGS` to the end: (wall seconds, CPU seconds, peak RSS in MiB) of that process."""
    with log.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "epermit.cli", *args], cwd=REPO, env=env,
                                   stdout=err, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"epermit {args[0]} failed: {log.read_text()[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def office(tmp: Path, keyring: KeyRing, location: list[str], env: dict[str, str]) -> None:
    for officer_id, role in (("clerk", "clerk"), ("io", "issuing_officer")):
        epermit(["officers", "add", "--data", str(tmp), *location, "--id", officer_id, "--name", "民警", "--role", role,
                 "--district", DISTRICT], env, tmp / "officers.log")


def measure(tmp: Path, backend: str, applications: Path, keyring: KeyRing, redis: BenchRedis | None) -> Run:
    data = tmp / backend
    (data / "keys").mkdir(parents=True)
    passphrase = secrets.token_urlsafe(16)  # a throwaway key directory's
    save_keyring(keyring, data / "keys", passphrase.encode(), scrypt_n=2**14)
    env = {**os.environ, "EPERMIT_KEY_PASSPHRASE": passphrase, "PYTHONPATH": str(REPO)}
    location = [] if redis is None else ["--redis", redis.url]
    if redis is not None:
        env["EPERMIT_REDIS_PREFIX"] = "{b" + uuid.uuid4().hex[:12] + "}"
    office(data, keyring, location, env)
    redis_cpu = cpu_seconds(redis.pid) if redis else 0.0
    seconds, cpu, rss = epermit(
        ["issue", "--csv", str(applications), "--data", str(data), *location, "--officer", "io", "--clerk", "clerk",
         "--no-progress", "--public-url", "https://jzz.example.gov.cn", "--sms-csv", str(tmp / f"{backend}.sms.csv")],
        env, tmp / f"{backend}.log")
    redis_cpu = (cpu_seconds(redis.pid) - redis_cpu) if redis else 0.0
    with (tmp / f"{backend}.sms.csv").open(encoding="utf-8") as sms:
        texted = sum(1 for _ in sms) - 1
    if texted != ROWS:
        raise AssertionError(f"{backend}: {texted} SMS rows for {ROWS} applications")
    return Run(backend, ROWS, applications.stat().st_size / 2**20, seconds, cpu, redis_cpu, rss)


def run() -> list[Row]:
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=int(time.time()))
    found: list[Run] = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        applications = tmp / "applications.csv"
        write_applications(applications, ROWS, beijing_day(int(time.time())))
        found.append(measure(tmp, "SQLite", applications, keyring, None))
        with BenchRedis(tmp / "redis") as server:
            found.append(measure(tmp, "Redis", applications, keyring, server))
    return report(found)


def report(found: list[Run]) -> list[Row]:
    """The table, the summary rows and bench/results/bulk_stream.json of measured runs."""
    print_table(f"`epermit issue --csv` streamed, {found[0].rows:,} rows (check, issue, SMS file), own process", (
        "store", "rows", "file MiB", "seconds", "rows/s (wall)", "CPU s (epermit + redis)", "rows per CPU s",
        "peak RSS MiB"), [
        (r.backend, f"{r.rows:,}", f"{r.file_mib:.0f}", f"{r.seconds:.0f}", f"{r.per_second:,.0f}",
         f"{r.cpu_self:.0f} + {r.cpu_redis:.0f}", f"{r.per_cpu_second:,.0f}", f"{r.peak_rss_mib:.0f}")
        for r in found])
    rows: list[Row] = []
    for r in found:
        # Per CPU second of everything that worked (the command + redis-server), as bench.bulk_registration:
        # on an idle machine the wall rate of the one process, but not shaken by other load on a shared one
        # (the wall rate is in the table and the JSON).
        rows.append(Row(f"bulk_stream_{r.backend.lower()}_rows_per_s_per_core", round(r.per_cpu_second),
                        "rows/CPU s", f">= {TARGET_RATE:,.0f}", r.per_cpu_second >= TARGET_RATE,
                        against=f"{r.rows:,} rows, the whole command (CPU s incl. redis-server); wall "
                                f"{r.per_second:,.0f} rows/s on the shared machine"))
        rows.append(Row(f"bulk_stream_{r.backend.lower()}_peak_rss_mib", round(r.peak_rss_mib, 1), "MiB",
                        f"<= {TARGET_RSS_MIB:.0f}", r.peak_rss_mib <= TARGET_RSS_MIB,
                        against=f"{r.rows:,} rows ({r.file_mib:.0f} MiB file): memory stays flat"))
    write_result("bulk_stream", {"rows": found[0].rows,
                                 "runs": [{**asdict(r), "rows_per_second": r.per_second,
                                           "rows_per_cpu_second": r.per_cpu_second} for r in found],
                                 "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
