"""The cache folder changed behind the verifier's back: old lists copied back, symlinks, FIFOs.

An older, validly signed list put back over the cache file can only report bad news: the high-water marks
in state.json say what was accepted before. A cache file that is not a regular file is refused, not read.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from credential.errors import RollbackError
from credential.statuslist import INVALID
from tests.conftest import T0
from tests.verifier.conftest import HOUR, STATUS_URI, World
from verifier.cache import VerifierCache, status_file_name
from verifier.cachefiles import read_capped
from verifier.errors import UnusableCacheFileError
from verifier.policy import Policy
from verifier.result import Result, VerificationResult
from verifier.verify import verify

ROOT = Path(__file__).resolve().parents[2]
STATUS_FILE = f"status/{status_file_name(STATUS_URI)}"
FILES = ["root.pem", "trustlist.jwt", STATUS_FILE, "state.json"]
# What each refused file leaves the verifier unable to say: who signed it, or whether it is still good.
REFUSED_RESULT = {"root.pem": Result.UNTRUSTED_ISSUER, "trustlist.jwt": Result.UNTRUSTED_ISSUER,
                  STATUS_FILE: Result.STATUS_UNKNOWN, "state.json": Result.STATUS_UNKNOWN}


def scan(world: World, cache: VerifierCache, *, idx: int = 7) -> VerificationResult:
    return verify(world.live_qr(idx=idx), VerifierCache(cache.directory), policy=Policy(), now=T0)


# --- rollback by file copy ---------------------------------------------------------------------------------


def test_status_list_copied_back_can_only_report_bad_news(world: World, cache: VerifierCache) -> None:
    world.statuses.set(9, INVALID)
    world.fill(cache, status_at=T0 - 2 * HOUR)
    path = cache.directory / STATUS_FILE
    kept = shutil.copy(path, cache.directory.parent / "kept.jwt")  # 7 valid, 9 revoked
    world.statuses.set(7, INVALID)
    cache.accept_status_list(STATUS_URI, world.status_token(now=T0 - HOUR), T0)
    assert scan(world, cache).result is Result.REVOKED

    shutil.copyfile(kept, path)  # the copy a tamperer kept

    outcome = scan(world, cache)
    assert outcome.result is Result.STATUS_UNKNOWN, outcome  # the old code said VALID
    assert "older than revocation data this verifier accepted" in outcome.reason
    assert scan(world, cache, idx=9).result is Result.REVOKED  # old news that is bad is still news
    between = world.status_token(now=T0 - HOUR - 60)  # newer than the file, older than the mark
    with pytest.raises(RollbackError):
        cache.accept_status_list(STATUS_URI, between, T0)
    cache.accept_status_list(STATUS_URI, world.status_token(now=T0 - HOUR), T0)  # the newest repairs it
    assert scan(world, cache).result is Result.REVOKED


def test_trust_list_copied_back_cannot_prove_a_key_good(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    path = cache.directory / "trustlist.jwt"
    old = path.read_bytes()  # version 1: the credential key is active
    kid = world.credential_signer.kid
    cache.accept_trust_list(world.edited_trust_token(
        lambda k: dataclasses.replace(k, state="revoked") if k.kid == kid else k, version=2), T0)
    assert scan(world, cache).result is Result.UNTRUSTED_ISSUER

    path.write_bytes(old)

    outcome = scan(world, cache)
    assert outcome.result is Result.STATUS_UNKNOWN, outcome  # the old code said VALID
    assert "trust list in the verifier cache (version 1) is older than version 2" in outcome.reason
    with pytest.raises(RollbackError):  # `verify import` of the same old list is refused as well
        cache.accept_token(old.decode(), T0)


def test_lost_state_allows_only_bad_news(world: World, cache: VerifierCache) -> None:
    world.statuses.set(9, INVALID)
    world.fill(cache)
    (cache.directory / "state.json").unlink()
    outcome = scan(world, cache)
    assert outcome.result is Result.STATUS_UNKNOWN and "state" in outcome.reason
    assert scan(world, cache, idx=9).result is Result.REVOKED
    cache.accept_trust_list(world.trust_token(), T0)  # a sync rebuilds it
    cache.accept_status_list(STATUS_URI, world.status_token(), T0)
    assert scan(world, cache).result is Result.VALID


# --- files that are not regular files ----------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_a_symlinked_cache_file_is_refused(world: World, cache: VerifierCache, name: str) -> None:
    world.fill(cache)
    path = cache.directory / name
    copy = cache.directory.parent / "elsewhere"
    shutil.copyfile(path, copy)
    path.unlink()
    path.symlink_to(copy)  # the very same bytes, through a link
    outcome = scan(world, cache)
    assert outcome.result is REFUSED_RESULT[name], outcome  # the old code followed it: VALID
    if name != "state.json":
        assert f"{path.name} in the verifier cache is a symbolic link: refused" in outcome.reason
    with pytest.raises(UnusableCacheFileError, match="symbolic link"):
        read_capped(path, 1 << 22)
    if name == "root.pem":  # not silently replaced either
        with pytest.raises(UnusableCacheFileError):
            cache.pin_root(world.root_pem)


def test_a_symlinked_status_folder_is_refused(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    folder = cache.directory / "status"
    moved = folder.rename(cache.directory.parent / "status-elsewhere")
    folder.symlink_to(moved, target_is_directory=True)
    outcome = scan(world, cache)
    assert outcome.result is Result.STATUS_UNKNOWN and "status in the verifier cache is a symbolic link" in outcome.reason
    with pytest.raises(UnusableCacheFileError):  # nor written through
        cache.accept_status_list(STATUS_URI, world.status_token(now=T0 - 60), T0)


def _bounded(call: Callable[[], VerificationResult], fifo: Path) -> VerificationResult:
    """Run ``call`` in a thread; if it blocks on the FIFO, release it by opening the other end, and fail."""
    box: list[VerificationResult] = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # the reader gets EOF and the thread ends
        thread.join(timeout=10)
        pytest.fail(f"verification blocked on the FIFO {fifo.name}")
    return box[0]


@pytest.mark.parametrize("name", FILES)
def test_a_fifo_in_the_cache_is_refused_without_blocking(world: World, cache: VerifierCache, name: str) -> None:
    world.fill(cache)
    path = cache.directory / name
    path.unlink()
    os.mkfifo(path)
    outcome = _bounded(lambda: scan(world, cache), path)
    assert outcome.result is REFUSED_RESULT[name], outcome
    if name != "state.json":
        assert f"{path.name} in the verifier cache is a FIFO: refused" in outcome.reason


def test_epermit_verify_does_not_hang_on_a_fifo(tmp_path: Path) -> None:
    from tests.verifier.test_cli import CliWorld

    world = CliWorld(tmp_path).imported()
    trust = world.cache / "trustlist.jwt"
    trust.unlink()
    os.mkfifo(trust)
    try:
        run = subprocess.run([sys.executable, "-m", "verifier.cli", world.qr(), "--cache", str(world.cache)],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        os.close(os.open(trust, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("epermit verify blocked on a FIFO in its cache")
    assert run.returncode == 1 and run.stdout.startswith("✘ UNTRUSTED_ISSUER"), run
    assert "trustlist.jwt in the verifier cache is a FIFO: refused" in run.stdout


def test_import_replaces_a_fifo_state_file(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    state = cache.directory / "state.json"
    state.unlink()
    os.mkfifo(state)
    done = threading.Event()

    def accept() -> None:
        cache.accept_token(world.status_token(), T0)
        done.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    thread.join(timeout=10)
    if not done.is_set():
        os.close(os.open(state, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("import blocked on a FIFO state.json")
    assert state.is_file() and not state.is_symlink()
    assert scan(world, cache).result is Result.VALID
