"""`make fuzz` (fuzz/fuzz_verify.py) seeds a corpus from real credentials and runs bounded; a short run here
keeps the harness itself from rotting. The long coverage-guided run is marked slow."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "fuzz" / "fuzz_verify.py"


def run(tmp_path: Path, seconds: int, engine: str | None) -> subprocess.CompletedProcess[str]:
    # The script's own folder comes first on its sys.path, not this tree: without PYTHONPATH it would fuzz
    # whichever checkout the environment has installed (another worktree's, after an editable install).
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "FUZZ_SECONDS": str(seconds), "FUZZ_CORPUS": str(tmp_path / "corpus")}
    if engine is not None:
        env["FUZZ_ENGINE"] = engine
    return subprocess.run([sys.executable, str(HARNESS)], env=env, capture_output=True, text=True,
                          timeout=seconds + 120, check=False)


def test_random_engine_short_run(tmp_path: Path) -> None:
    done = run(tmp_path, 2, "random")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "without a crash" in done.stdout
    seeds = sorted((tmp_path / "corpus").iterdir())
    assert len(seeds) >= 8 and all(seed.read_bytes() for seed in seeds)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")
def test_atheris_run(tmp_path: Path) -> None:
    done = run(tmp_path, 30, None)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Done" in done.stderr
