"""Status lists held in their CWT form: the same rollback marks and file rules as the JWT, per URI across forms."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from credential.errors import MalformedError, RollbackError, StatusError, TooLargeError
from credential.statuslist import INVALID, StatusList, sign_status_list_cwt
from tests.conftest import T0
from tests.verifier.conftest import HOUR, ISSUER, STATUS_URI, World
from tests.verifier.test_cache_tampering import _bounded, scan
from verifier.cache import VerifierCache, status_file_name
from verifier.policy import Policy
from verifier.result import Result
from verifier.verify import verify

CWT_FILE = f"status/{status_file_name(STATUS_URI, 'cwt')}"
JWT_FILE = f"status/{status_file_name(STATUS_URI, 'jwt')}"


def fill_cwt(world: World, cache: VerifierCache, *, status_at: int = T0 - HOUR) -> VerifierCache:
    cache.pin_root(world.root_pem)
    cache.accept_trust_list(world.trust_token(), T0)
    cache.accept_status_list(STATUS_URI, world.status_cwt(now=status_at), T0)
    return cache


def held_files(cache: VerifierCache) -> list[str]:
    return sorted(p.relative_to(cache.directory).as_posix() for p in (cache.directory / "status").iterdir())


def test_a_cwt_is_kept_as_received_and_judges_passes(world: World, cache: VerifierCache) -> None:
    world.statuses.set(9, INVALID)
    cache.pin_root(world.root_pem)
    cache.accept_trust_list(world.trust_token(), T0)
    received = world.status_cwt()
    cache.accept_status_list(STATUS_URI, received, T0)
    assert held_files(cache) == [CWT_FILE]
    assert (cache.directory / CWT_FILE).read_bytes() == received  # the bytes verified, nothing else
    assert scan(world, cache).result is Result.VALID
    assert scan(world, cache, idx=9).result is Result.REVOKED
    assert verify(world.presentation(idx=9), VerifierCache(cache.directory), policy=Policy(),
                  now=T0).result is Result.REVOKED


def test_accepting_one_form_replaces_the_other(world: World, cache: VerifierCache) -> None:
    world.fill(cache, status_at=T0 - 2 * HOUR)
    assert held_files(cache) == [JWT_FILE]
    world.statuses.set(7, INVALID)
    cache.accept_status_list(STATUS_URI, world.status_cwt(now=T0 - HOUR), T0)
    assert held_files(cache) == [CWT_FILE]
    assert scan(world, cache).result is Result.REVOKED
    world.statuses.set(7, 0)
    cache.accept_status_list(STATUS_URI, world.status_token(now=T0 - 60), T0)
    assert held_files(cache) == [JWT_FILE]
    assert scan(world, cache).result is Result.VALID


def test_the_rollback_mark_is_per_uri_across_forms(world: World, cache: VerifierCache) -> None:
    before_jwt, before_cwt = world.status_token(now=T0 - 2 * HOUR), world.status_cwt(now=T0 - 2 * HOUR)
    world.statuses.set(7, INVALID)
    fill_cwt(world, cache)
    for old in (before_jwt, before_cwt):
        with pytest.raises(RollbackError):
            cache.accept_status_list(STATUS_URI, old, T0)
        with pytest.raises(RollbackError):
            cache.accept_token(old if isinstance(old, bytes) else old.encode(), T0)
    assert scan(world, cache).result is Result.REVOKED

    # An older JWT put beside the CWT by hand: the newer list is the one used.
    (cache.directory / JWT_FILE).write_text(before_jwt)
    assert scan(world, cache).result is Result.REVOKED
    # The older CWT copied back over the newer one (and the JWT gone): it can only report bad news.
    (cache.directory / JWT_FILE).unlink()
    (cache.directory / CWT_FILE).write_bytes(before_cwt)
    outcome = scan(world, cache)
    assert outcome.result is Result.STATUS_UNKNOWN and "older than revocation data" in outcome.reason


def test_both_forms_on_disk_the_newer_is_used(world: World, cache: VerifierCache) -> None:
    """A crash between writing one form and removing the other leaves both: the newer iat decides."""
    fill_cwt(world, cache, status_at=T0 - 2 * HOUR)
    world.statuses.set(7, INVALID)
    newer = world.status_token(now=T0 - HOUR)
    cache.accept_status_list(STATUS_URI, newer, T0)
    (cache.directory / CWT_FILE).write_bytes(world.status_cwt(now=T0 - 2 * HOUR))  # the older form is back
    assert sorted(held_files(cache)) == sorted([CWT_FILE, JWT_FILE])
    assert scan(world, cache).result is Result.REVOKED


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_cwt_file_that_is_not_a_regular_file_is_refused(world: World, cache: VerifierCache, kind: str) -> None:
    fill_cwt(world, cache)
    path = cache.directory / CWT_FILE
    if kind == "symlink":
        copy = shutil.copyfile(path, cache.directory.parent / "elsewhere")
        path.unlink()
        path.symlink_to(copy)  # the very same bytes, through a link
    else:
        path.unlink()
        os.mkfifo(path)
    outcome = _bounded(lambda: scan(world, cache), path)
    assert outcome.result is Result.STATUS_UNKNOWN, outcome
    expected = "a symbolic link" if kind == "symlink" else "a FIFO"
    assert f"{path.name} in the verifier cache is {expected}: refused" in outcome.reason


def test_a_damaged_or_oversized_cwt_file_is_ignored(world: World, cache: VerifierCache) -> None:
    fill_cwt(world, cache)
    path = cache.directory / CWT_FILE
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # a flipped signature bit
    assert VerifierCache(cache.directory).status_list(STATUS_URI) is None
    assert "does not verify" in VerifierCache(cache.directory).status_list_problem(STATUS_URI)
    path.write_bytes(b"\xd2\x84" + b"\x00" * (2 * 1024 * 1024))
    assert VerifierCache(cache.directory).status_list(STATUS_URI) is None


def test_import_files_a_cwt_under_its_own_sub(world: World, cache: VerifierCache) -> None:
    world.statuses.set(7, INVALID)
    world.fill(cache, status_at=T0 - 2 * HOUR)
    kind, verified = cache.accept_token(world.status_cwt(), T0)
    assert kind == "status_list" and verified.uri == STATUS_URI  # type: ignore[union-attr]
    assert held_files(cache) == [CWT_FILE]
    # A CWT for another list, signed by the real status key, cannot speak for this one.
    other = sign_status_list_cwt(StatusList(world.statuses.size, 2), uri=f"{ISSUER}/statuslists/2",
                                 signer=world.status_signer, now=T0 - 60, ttl=300, exp=T0 + 86400)
    with pytest.raises(StatusError, match="another URI"):
        cache.accept_status_list(STATUS_URI, other, T0)
    cache.accept_token(other, T0)
    assert scan(world, cache).result is Result.REVOKED
    with pytest.raises(MalformedError, match="neither"):
        cache.accept_token(b"\xff\xfe not a token", T0)
    with pytest.raises(TooLargeError):
        cache.accept_token(b"\xd2\x84" + b"\x00" * (2 * 1024 * 1024), T0)


def test_epermit_verify_import_takes_a_cwt_file(tmp_path: Path) -> None:
    from credential.statuslist import sign_status_list_cwt as sign_cwt
    from keys import Purpose
    from tests.verifier.test_cli import STATUS_URI as CLI_URI
    from tests.verifier.test_cli import CliWorld
    from verifier.cli import main_verify

    world = CliWorld(tmp_path).imported()
    world.statuses.set(5, INVALID)
    cwt = tmp_path / "status1.cwt"
    cwt.write_bytes(sign_cwt(world.statuses, uri=CLI_URI, signer=world.ring.signer_for(Purpose.STATUS, now=world.now),
                             now=world.now - 10, ttl=300, exp=world.now + 86400))
    assert main_verify(["import", "--cache", str(world.cache), str(cwt)]) == 0
    assert main_verify([world.qr(), "--cache", str(world.cache)]) == 1  # revoked by the CWT just imported
