"""`make bench`: run every benchmark in two passes, write bench/results/summary.json and docs/benchmarks.md.

Each benchmark runs PASSES times, one whole pass after the other; a row reports every pass's value and is met
only if every pass meets its target (one lucky pass on a shared machine is not a result).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from bench.harness import RESULTS, Row, machine

BENCHES = (
    "bench.offline_verify",
    "bench.cold_start",
    "bench.sd_jwt",
    "bench.qr_size",
    "bench.status_lists",
    "bench.pickup_signing",
    "bench.bulk_registration",
    "bench.bulk_stream",
    "bench.wallet_pickup",
    "bench.pickup_store_calls",
    "bench.memory",
    "bench.store_bytes",
    "bench.cluster_spread",
)
PASSES = int(os.environ.get("BENCH_PASSES", "2"))
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
        passes: list[list[Row]] = []
        for number in range(1, PASSES + 1):
            print(f"\n### {name}, pass {number} of {PASSES}", flush=True)
            passes.append(module.run())
        rows.extend(merge_passes(passes))
    if names:  # a subset (`make bench BENCH=...`): the other rows stay as their last run left them
        rows = merge_with_summary(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "summary.json").write_text(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False) + "\n")
    write_doc(rows, time.time() - started, subset=bool(names))
    missed = [r.name for r in rows if not r.met]
    print(f"\n{len(rows) - len(missed)} of {len(rows)} targets met" + (f"; missed: {', '.join(missed)}" if missed else ""))
    return 0


def merge_passes(passes: list[list[Row]]) -> list[Row]:
    """One row per name: the first pass's value, every pass's value, met only if met in every pass."""
    by_name: dict[str, list[Row]] = {}
    for rows in passes:
        for row in rows:
            by_name.setdefault(row.name, []).append(row)
    return [replace(same[0], passes=tuple(r.value for r in same), met=all(r.met for r in same))
            for same in by_name.values()]


def merge_with_summary(rows: list[Row]) -> list[Row]:
    """The rows of the last summary.json, each replaced by the row of the same name just measured."""
    path = RESULTS / "summary.json"
    try:
        previous = [Row(**{**r, "passes": tuple(r.get("passes", ()))}) for r in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return rows
    fresh = {row.name: row for row in rows}
    merged = [fresh.pop(row.name, row) for row in previous]
    return merged + list(fresh.values())


def _passes_text(row: Row) -> str:
    return " / ".join(str(v) for v in row.passes) if row.passes else f"{row.value} (one pass, an earlier run)"


def write_doc(rows: list[Row], seconds: float, *, subset: bool = False) -> None:
    m = machine()
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make bench` (all of `bench/`), which writes `bench/results/*.json` and this file.",
        "Absolute times on a shared machine are noise, so each benchmark runs its contenders side by side in",
        "interleaved rounds and reports ratios against the raw cryptography underneath or against a peer.",
        f"Every benchmark ran {PASSES} times, one pass after the other; a target is met only if met in every pass.",
        "",
        f"Machine: {m['processor']}, {m['cpus']} CPUs, Python {m['python']}, {m['platform']}. "
        f"Run took {seconds:.0f} s on {time.strftime('%Y-%m-%d')}"
        + (" (a subset; the other rows are from an earlier run)." if subset else "."),
        "",
        "| benchmark | against (limit or peer) | value per pass | unit | target | met |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r.name} | {r.against or '—'} | {_passes_text(r)} | {r.unit} | {r.target} | "
              f"{'yes' if r.met else '**no**'} |" for r in rows]
    notes = DOC.with_name("benchmarks-notes.md")
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    DOC.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
