"""Independent peers whose dependencies clash with ours, each in a virtual environment of its own.

python-cwt pins cbor2 < 6 and pyeudiw pins cryptography < 47, while we run on cbor2 6 and cryptography 50: they
cannot share our environment, so each is installed (by pip, from the package index, exactly pinned) into a venv
under the user's cache directory, keyed by the requirements and this Python's version, and built once. A peer
script runs there with a JSON request on stdin and answers one JSON object on stdout; it imports nothing of
ours, so what it accepts is what the peer accepts.

A peer that cannot be installed skips its tests on a developer's machine, and fails them under CI=true: CI
must never go green because the peer went missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

PEERS = Path(__file__).with_name("peers")  # the peer scripts


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "epermit-test-peers"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"independent peer unavailable in CI: {reason}")
    pytest.skip(f"independent peer unavailable: {reason}")


def peer_python(*requirements: str) -> Path:
    """The python of a venv holding exactly ``requirements`` (pinned), built on first use."""
    key = hashlib.sha256(json.dumps([sys.version, *requirements]).encode()).hexdigest()[:16]
    home = _cache_root() / key
    python = home / "bin" / "python"
    if (home / ".complete").exists():
        return python
    home.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=home.parent))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, capture_output=True, timeout=300)
        subprocess.run([str(building / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *requirements],
                       check=True, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(building, ignore_errors=True)
        detail = exc.stderr.decode(errors="replace")[-2000:] if isinstance(exc, subprocess.CalledProcessError) else ""
        _unavailable(f"cannot install {' '.join(requirements)}: {exc} {detail}")
    # Moved into place whole, so a half-built venv is never used; bin/python finds its packages through the
    # pyvenv.cfg beside it wherever the directory lies (only pip's own launcher scripts, unused here, would not).
    (building / ".complete").write_text(" ".join(requirements) + "\n")
    try:
        building.rename(home)
    except OSError:  # another run finished first: use its venv
        shutil.rmtree(building, ignore_errors=True)
        if not (home / ".complete").exists():
            _unavailable(f"cannot move the peer venv into {home}")
    return python


def run_peer(python: Path, script: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run ``peers/<script>`` under ``python`` with ``request``; its JSON answer (AssertionError if it crashed)."""
    done = subprocess.run([str(python), str(PEERS / script)], input=json.dumps(request).encode(),
                          capture_output=True, timeout=120, check=False, env={"PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
