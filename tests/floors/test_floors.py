"""The pyproject floors are versions the code runs on: tests/floors/check_floors.sh, run as a slow test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("check_floors.sh")


@pytest.mark.slow
def test_the_verifier_tests_pass_with_every_runtime_dependency_at_its_floor() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    # The same interpreter as this run: the floors must hold for the Python the project is tested on.
    done = subprocess.run([bash, str(SCRIPT)], env={**os.environ, "PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert " passed" in done.stdout.splitlines()[-1]
