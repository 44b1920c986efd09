"""`epermit verify` cold start: one QR text verified by a fresh process, as a landlord's script would run it.

Wall time is what the person waits for, so this row is wall time (median of interleaved runs), reported beside
the interpreter's own start (`python -c pass`, the part no Python implementation avoids) and the process's CPU.
The cache folder and the QR text are made once, as `epermit verify` finds them after a sync.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Row, print_table, rows_payload, write_result
from bench.offline_verify import STATUS_URI, prepared_cache
from credential import qrpass
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit_valid_at
from keys import KeyRing, KeySigner, Purpose

RUNS = int(os.environ.get("BENCH_COLD_RUNS", "15"))
EPERMIT = Path(sys.executable).with_name("epermit")


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run; a failing run is an error, not a number."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {done.returncode}: {done.stdout[-300:]!r} {done.stderr[-300:]!r}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run() -> list[Row]:
    now = int(time.time())
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 86400)
    cose_pass = qrpass.encode_pass(sample_permit_valid_at(now), signer=keyring.signer_for(Purpose.CREDENTIAL, now=now),
                                   holder_key=KeySigner.generate().public_key, status_uri=STATUS_URI,
                                   status_idx=4242, now=now)
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = Path(tmp) / "cache"
        prepared_cache(cache_dir, keyring, now)
        qr = Path(tmp) / "card.static.qr.txt"
        qr.write_text(qrpass.pass_to_qr_text(cose_pass) + "\n", encoding="ascii")
        commands = {"python -c pass (interpreter start)": [sys.executable, "-c", "pass"],
                    "epermit verify --cache DIR card.qr.txt": [str(EPERMIT), "verify", "--cache", str(cache_dir), str(qr)]}
        for command in commands.values():  # warm the page cache and the bytecode, as a second run finds them
            _timed(command)
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(RUNS):  # interleaved: a burst of load elsewhere hits both alike
            for name, command in commands.items():
                samples[name].append(_timed(command))
    wall = {name: statistics.median(w for w, _ in runs) for name, runs in samples.items()}
    cpu = {name: statistics.median(c for _, c in runs) for name, runs in samples.items()}
    print_table(f"Cold start (median of {RUNS} interleaved runs)", ("command", "wall ms", "CPU ms"),
                [(name, f"{wall[name] * 1000:.0f}", f"{cpu[name] * 1000:.0f}") for name in commands])
    verify_name = "epermit verify --cache DIR card.qr.txt"
    rows = [
        Row("verify_cold_start_wall", round(wall[verify_name] * 1000, 1), "ms", "<= 120", wall[verify_name] <= 0.120,
            against=f"python -c pass: {wall['python -c pass (interpreter start)'] * 1000:.0f} ms wall on the same "
                    "machine in the same run"),
        Row("verify_cold_start_cpu", round(cpu[verify_name] * 1000, 1), "ms", "(reported)", True,
            against=f"python -c pass: {cpu['python -c pass (interpreter start)'] * 1000:.0f} ms CPU"),
    ]
    write_result("cold_start", {"wall_ms": {k: v * 1000 for k, v in wall.items()},
                                "cpu_ms": {k: v * 1000 for k, v in cpu.items()}, "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
