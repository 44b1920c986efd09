"""`make bench`: run every benchmark, write bench/results/summary.json and docs/benchmarks.md."""

from __future__ import annotations

import importlib
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.harness import RESULTS, Row, machine

BENCHES = (
    "bench.offline_verify",
    "bench.sd_jwt",
    "bench.qr_size",
    "bench.status_lists",
    "bench.pickup_signing",
    "bench.bulk_registration",
    "bench.wallet_pickup",
    "bench.memory",
)
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main(names: list[str]) -> int:
    selected = [b for b in BENCHES if not names or b.rsplit(".", 1)[1] in names]
    rows: list[Row] = []
    started = time.time()
    for name in selected:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"skipping {name}: {exc}", file=sys.stderr)
            continue
        print(f"\n### {name}", flush=True)
        rows.extend(module.run())
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.json").write_text(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False) + "\n")
    write_doc(rows, time.time() - started)
    missed = [r.name for r in rows if not r.met]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} targets met" + (f"; missed: {', '.join(missed)}" if missed else ""))
    return 0


def write_doc(rows: list[Row], seconds: float) -> None:
    m = machine()
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (all of `bench/`), which writes `bench/results/*.json` and this file.",
        "Absolute times on a shared machine are noise, so each benchmark runs its contenders side by side in",
        "interleaved rounds and reports ratios against the raw cryptography underneath or against a peer.",
        "",
        f"Machine: {m['processor']}, {m['cpus']} CPUs, Python {m['python']}, {m['platform']}. "
        f"Run took {seconds:.0f} s on {time.strftime('%Y-%m-%d')}.",
        "",
        "| benchmark | value | unit | target | met |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.name} | {r.value} | {r.unit} | {r.target} | {'yes' if r.met else '**no**'} |" for r in rows]
    notes = DOC.with_name("benchmarks-notes.md")
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    DOC.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
