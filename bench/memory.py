"""Peak RSS: the verifier CLI for one verify, and an issuer process holding 10 million status entries."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Row, print_table, rows_payload, write_result

ISSUER_10M = """
import time
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from credential.statuslist import INVALID, StatusList, sign_status_list_token
from keys import KeyRing, Purpose
now = int(time.time())
ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now)
lists = [StatusList(1 << 20) for _ in range(10)]  # 10 lists of 2^20: 10.5 M entries, as the issuer publishes them
for n, lst in enumerate(lists):
    for idx in range(0, 1 << 20, 100):
        lst.set(idx, INVALID)
    sign_status_list_token(lst, uri=f"https://x/statuslists/{n}", signer=ring.signer_for(Purpose.STATUS, now=now),
                           now=now, ttl=300,
                           exp=now + 86400)
"""


def peak_rss_mb(argv: list[str]) -> float:
    """Peak RSS of one child process (ru_maxrss of RUSAGE_CHILDREN is the max over children: run each alone)."""
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code, *argv], check=True, capture_output=True, text=True)
    return int(out.stdout.strip()) / 1024  # Linux reports KiB


def run() -> list[Row]:
    from epermit.demo import run_demo

    with tempfile.TemporaryDirectory() as tmp:
        demo = run_demo(Path(tmp) / "demo")
        epermit = str(Path(sys.executable).with_name("epermit"))
        verify_mb = peak_rss_mb([epermit, "verify", "--cache", str(demo / "verifier-cache"),
                                 str(demo / "residence-card.static.png")])
    start = time.perf_counter()
    issuer_mb = peak_rss_mb([sys.executable, "-c", ISSUER_10M])
    took = time.perf_counter() - start
    baseline_mb = peak_rss_mb([sys.executable, "-c", "import credential.statuslist, keys.keyring"])
    print_table("Peak resident memory", ("process", "peak RSS MiB"), [
        ("python importing credential + keys (baseline)", f"{baseline_mb:.1f}"),
        ("epermit verify <PNG> (one offline verify)", f"{verify_mb:.1f}"),
        (f"issuer: 10 x 2^20 status entries, all signed ({took:.1f} s)", f"{issuer_mb:.1f}"),
    ])
    rows = [
        Row("verifier_cli_peak_rss_mib", round(verify_mb, 1), "MiB", "< 150 MiB", verify_mb < 150,
            against="the 150 MiB limit for a verifier laptop"),
        Row("issuer_10M_status_peak_rss_mib", round(issuer_mb, 1), "MiB", "< 500 MiB", issuer_mb < 500,
            against="the 500 MiB limit for an issuer process"),
    ]
    write_result("memory", {"baseline_mib": baseline_mb, "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
