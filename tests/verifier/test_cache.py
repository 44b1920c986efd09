"""VerifierCache: pinning, rollback refusal, key purposes, clock high-water mark, files on disk."""

from __future__ import annotations

import dataclasses

import pytest

from credential.errors import RollbackError, StatusError, UntrustedIssuerError
from keys import KeyRing, Purpose
from tests.conftest import KEYS_CREATED, T0
from tests.verifier.conftest import HOUR, STATUS_URI, World
from verifier.cache import VerifierCache, status_file_name
from verifier.errors import NoRootError, NoTrustListError, RootMismatchError


def test_root_is_pinned_once(world: World, cache: VerifierCache) -> None:
    with pytest.raises(NoRootError):
        cache.root_key()
    cache.pin_root(world.root_pem)
    cache.pin_root(world.root_pem)  # the same root again is fine
    other = KeyRing.generate(authority_code="110105", authority_name="假", now=KEYS_CREATED)
    from cryptography.hazmat.primitives.serialization import Encoding

    with pytest.raises(RootMismatchError, match="different root"):
        cache.pin_root(other.root_certificate.public_bytes(Encoding.PEM))
    assert (cache.directory / "root.pem").read_bytes() == world.root_pem


def test_trust_list_from_another_root_is_refused(world: World, cache: VerifierCache) -> None:
    other = KeyRing.generate(authority_code="110105", authority_name="假", now=KEYS_CREATED)
    cache.pin_root(world.root_pem)
    forged = other.trust_list_token(issuer="x", now=T0, version=99, status_lists=[], aggregation_uri=None)
    with pytest.raises(UntrustedIssuerError):
        cache.accept_trust_list(forged, T0)
    assert cache.trust_list() is None


def test_trust_list_rollback_is_refused(world: World, cache: VerifierCache) -> None:
    cache.pin_root(world.root_pem)
    old = world.trust_token(version=1, now=T0 - 2 * HOUR)
    new = world.trust_token(version=2, now=T0 - HOUR)
    cache.accept_trust_list(new, T0)
    with pytest.raises(RollbackError):
        cache.accept_trust_list(old, T0)
    held = cache.trust_list()
    assert held is not None and held.version == 2
    same_version_older = world.trust_token(version=2, now=T0 - 3 * HOUR)
    with pytest.raises(RollbackError):
        cache.accept_trust_list(same_version_older, T0)
    cache.accept_trust_list(new, T0)  # the same token again is idempotent


def test_status_list_rollback_is_refused(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    older = world.status_token(now=T0 - 2 * HOUR)
    with pytest.raises(RollbackError):
        cache.accept_status_list(STATUS_URI, older, T0)
    held = cache.status_list(STATUS_URI)
    assert held is not None and held.iat == T0 - HOUR


def test_status_list_signed_by_the_credential_key_is_refused(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    token = world.status_token(now=T0 - 60, signer=world.ring.signers_of(Purpose.CREDENTIAL)[0])  # type: ignore[arg-type]  # the raw key: our own signers refuse (keys.purpose)
    with pytest.raises(UntrustedIssuerError, match="not status"):
        cache.accept_status_list(STATUS_URI, token, T0)


def test_status_list_with_the_wrong_sub_is_refused(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    token = world.status_token(now=T0 - 60, uri=STATUS_URI.replace("/1", "/2"))
    with pytest.raises(StatusError, match="another URI"):
        cache.accept_status_list(STATUS_URI, token, T0)


def test_status_list_needs_a_trust_list(world: World, cache: VerifierCache) -> None:
    cache.pin_root(world.root_pem)
    with pytest.raises(NoTrustListError):
        cache.accept_status_list(STATUS_URI, world.status_token(), T0)


def test_status_list_of_a_key_revoked_later_is_dropped(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    kid = world.status_signer.kid
    cache.accept_trust_list(world.edited_trust_token(
        lambda k: dataclasses.replace(k, state="revoked") if k.kid == kid else k, version=2), T0)
    assert cache.status_list(STATUS_URI) is None


def test_accept_token_dispatches_on_typ(world: World, cache: VerifierCache) -> None:
    cache.pin_root(world.root_pem)
    kind, _ = cache.accept_token(world.trust_token() + "\n", T0)
    assert kind == "trust_list"
    kind, verified = cache.accept_token(world.status_token(), T0)
    assert kind == "status_list" and verified.uri == STATUS_URI  # type: ignore[union-attr]
    assert cache.status_uris() == [STATUS_URI]


def test_high_water_mark_and_clock(world: World, cache: VerifierCache) -> None:
    world.fill(cache)
    assert cache.high_water() == T0 - HOUR
    assert cache.clock(T0, skew=300).warning is None
    clock = cache.clock(T0 - 10 * 86400, skew=300)
    assert clock.now == T0 - HOUR and clock.warning is not None
    # Lists are judged at the high-water mark too: one signed just after it is taken despite a clock
    # 100 days behind, one far beyond it is not (a signer's clock running ahead must not poison the mark).
    cache.accept_status_list(STATUS_URI, world.status_token(now=T0 - HOUR + 60), T0 - 100 * 86400)
    assert cache.high_water() == T0 - HOUR + 60
    with pytest.raises(StatusError, match="future"):
        cache.accept_status_list(STATUS_URI, world.status_token(now=T0), T0 - 100 * 86400)


def test_files_hold_no_holder_data_and_no_temporaries(world: World, filled: VerifierCache) -> None:
    names = sorted(p.relative_to(filled.directory).as_posix() for p in filled.directory.rglob("*") if p.is_file())
    assert names == ["root.pem", "state.json", f"status/{status_file_name(STATUS_URI)}", "trustlist.jwt"]
    everything = b"".join(p.read_bytes() for p in filled.directory.rglob("*") if p.is_file())
    for secret in (world.permit.holder.citizen_id, world.permit.holder.name):
        assert secret.encode() not in everything


def test_a_damaged_status_file_is_ignored(world: World, filled: VerifierCache) -> None:
    path = filled.directory / "status" / status_file_name(STATUS_URI)
    path.write_text(path.read_text()[:-5] + "AAAAA")
    assert VerifierCache(filled.directory).status_list(STATUS_URI) is None


def test_trust_list_from_the_future_is_refused(world: World, cache: VerifierCache) -> None:
    cache.pin_root(world.root_pem)
    with pytest.raises(StatusError, match="future"):
        cache.accept_trust_list(world.trust_token(now=T0 + 86400), T0)
    assert cache.high_water() == 0
