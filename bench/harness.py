"""Side-by-side timing: absolute times on a shared machine are noise, ratios measured in one run are not.

Each contender runs in short interleaved rounds, so that a burst of load elsewhere hits all of them alike;
the median round is kept. Everything runs on one thread and is timed in that thread's CPU time: "per core"
means exactly that.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Rate:
    name: str
    ops_per_second: float
    rounds: int

    @property
    def seconds_per_op(self) -> float:
        return 1.0 / self.ops_per_second


def _round(fn: Callable[[], object], seconds: float) -> float:
    """Operations per CPU second of this thread; the round lasts ``seconds`` of wall time.

    CPU time of the measuring thread is what "per core" means, and other processes' load barely moves it.
    """
    count = 0
    cpu_start = time.thread_time()
    deadline = time.perf_counter() + seconds
    while True:
        fn()
        count += 1
        if time.perf_counter() >= deadline:
            return count / max(time.thread_time() - cpu_start, 1e-9)


def compare(contenders: dict[str, Callable[[], object]], *, rounds: int = 5, seconds: float = 0.2) -> dict[str, Rate]:
    """ops/s of each contender, as the median of interleaved rounds."""
    for fn in contenders.values():  # warm up caches and lazy imports
        fn()
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(_round(fn, seconds))
    return {name: Rate(name, statistics.median(values), rounds) for name, values in samples.items()}


@dataclass(frozen=True)
class Row:
    """One line of bench/results/summary.json.

    ``against``: the limit or peer the value is measured against (a ratio means nothing without it).
    ``passes``: the value of every pass of ``make bench`` (bench.run_all runs each benchmark twice); ``met``
    then holds only if every pass met the target."""

    name: str
    value: float
    unit: str
    target: str
    met: bool
    against: str = ""
    passes: tuple[float, ...] = ()


def write_result(bench: str, payload: dict[str, object]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{bench}.json"
    path.write_text(json.dumps({"bench": bench, "machine": machine(), **payload}, indent=2, ensure_ascii=False) + "\n")
    return path


def rows_payload(rows: list[Row]) -> list[dict[str, object]]:
    return [asdict(row) for row in rows]


def machine() -> dict[str, object]:
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def print_table(title: str, header: tuple[str, ...], lines: Sequence[tuple[object, ...]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=False)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)))
