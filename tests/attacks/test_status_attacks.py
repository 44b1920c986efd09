"""Attacks on revocation data: stale, rolled-back and substituted status lists, an index outside the list,
a rolled-back clock, and a credential signed by a key the trust list marks revoked."""

from __future__ import annotations

import dataclasses

import pytest

from credential.errors import RollbackError, StatusError
from credential.statuslist import INVALID, StatusList, sign_status_list_token
from tests.attacks.forge import resign
from tests.attacks.support import expect
from tests.conftest import T0
from tests.verifier.conftest import HOUR, ISSUER, STATUS_URI, World
from verifier.cache import VerifierCache
from verifier.policy import DAY, Policy
from verifier.result import Result

OTHER_URI = f"{ISSUER}/statuslists/2"


def test_stale_status_list(world: World, cache: VerifierCache) -> None:
    world.fill(cache, status_at=T0 - 8 * DAY, validity=30 * DAY)
    outcome = expect(Result.STATUS_UNKNOWN, world.live_qr(), cache)
    assert "too old" in outcome.reason and outcome.status_age_seconds == 8 * DAY
    assert outcome.claims["name"] == "张伟"  # genuine, shown; only the verdict is withheld


def test_status_list_older_than_the_warning_age(world: World, cache: VerifierCache) -> None:
    world.fill(cache, status_at=T0 - 2 * DAY)
    outcome = expect(Result.VALID, world.live_qr(), cache)
    assert outcome.status_warning is not None


def test_status_list_past_its_exp(world: World, cache: VerifierCache) -> None:
    world.fill(cache, status_at=T0 - HOUR, validity=2 * HOUR)  # expires at T0 + 1 h
    outcome = expect(Result.STATUS_UNKNOWN, world.live_qr(at=T0 + 2 * HOUR), cache, now=T0 + 2 * HOUR)
    assert "expired" in outcome.reason
    with pytest.raises(StatusError, match="expired"):
        cache.accept_status_list(STATUS_URI, world.status_token(now=T0 - 2 * DAY, validity=DAY), T0)


def test_revocation_in_stale_data_is_still_reported(world: World, cache: VerifierCache) -> None:
    """Old data can only prove bad news: a revoked entry stays REVOKED however old the list."""
    world.statuses.set(7, INVALID)
    world.fill(cache, status_at=T0 - 8 * DAY, validity=30 * DAY)
    expect(Result.REVOKED, world.live_qr(), cache)


def test_rolled_back_status_list(world: World, cache: VerifierCache) -> None:
    """The holder replays the list from before the revocation: refused, and the revocation stands."""
    before = world.status_token(now=T0 - 2 * HOUR)
    world.statuses.set(7, INVALID)
    world.fill(cache, status_at=T0 - HOUR)
    with pytest.raises(RollbackError):
        cache.accept_status_list(STATUS_URI, before, T0)
    with pytest.raises(RollbackError):
        cache.accept_token(before, T0)
    expect(Result.REVOKED, world.live_qr(), cache)
    expect(Result.REVOKED, world.presentation(), cache)


def test_substituted_status_list(world: World, cache: VerifierCache) -> None:
    """A list for another URI, signed by the real status key, offered as this credential's list."""
    clean = StatusList(world.statuses.size, 2)
    other = sign_status_list_token(clean, uri=OTHER_URI, signer=world.status_signer, now=T0 - 60, ttl=300,
                                   exp=T0 + DAY)
    world.statuses.set(7, INVALID)
    world.fill(cache)
    with pytest.raises(StatusError, match="another URI"):
        cache.accept_status_list(STATUS_URI, other, T0)
    expect(Result.REVOKED, world.live_qr(), cache)
    # via the any-channel import, the list is filed under its own sub: it cannot speak for STATUS_URI
    cache.accept_token(other, T0)
    expect(Result.REVOKED, world.live_qr(), cache)


def test_status_list_with_sub_edited_by_a_forger(world: World, filled: VerifierCache) -> None:
    forged = resign(world.status_token(now=T0 - 60), world.credential_signer,
                    header={"kid": world.credential_signer.kid})  # a key that is not a status key
    from credential.errors import UntrustedIssuerError

    with pytest.raises(UntrustedIssuerError):
        filled.accept_status_list(STATUS_URI, forged, T0)


def test_index_out_of_range(world: World, filled: VerifierCache) -> None:
    outcome = expect(Result.STATUS_UNKNOWN, world.live_qr(idx=world.statuses.size), filled)
    assert "out of range" in outcome.reason
    expect(Result.STATUS_UNKNOWN, world.presentation(idx=1 << 30), filled)


def test_no_status_list(world: World, cache: VerifierCache) -> None:
    cache.pin_root(world.root_pem)
    cache.accept_trust_list(world.trust_token(), T0)
    expect(Result.STATUS_UNKNOWN, world.live_qr(), cache)


def test_rolled_back_clock(world: World, filled: VerifierCache) -> None:
    """The verifier's clock is wound back a year to revive an expired pass: it is not believed, and says so."""
    import datetime

    from credential.samples import sample_permit

    expired_permit = sample_permit(valid_from=datetime.date(2025, 1, 1), valid_until=datetime.date(2025, 12, 31))
    rolled_back = T0 - 300 * DAY  # inside that permit's validity
    text = world.live_qr(permit=expired_permit, at=rolled_back, issued=rolled_back - DAY)
    outcome = expect(Result.EXPIRED, text, filled, now=rolled_back)
    assert outcome.clock_warning is not None and "behind" in outcome.clock_warning


def test_credential_signed_by_a_revoked_key(world: World, filled: VerifierCache) -> None:
    kid = world.credential_signer.kid
    token = world.edited_trust_token(lambda k: dataclasses.replace(k, state="revoked") if k.kid == kid else k,
                                     version=2)
    filled.accept_trust_list(token, T0)
    for text in (world.live_qr(), world.static_qr(), world.sd_jwt(), world.presentation()):
        outcome = expect(Result.UNTRUSTED_ISSUER, text, filled)
        assert "revoked" in outcome.reason and outcome.claims == {}


def test_rolled_back_trust_list_cannot_unrevoke_a_key(world: World, filled: VerifierCache) -> None:
    kid = world.credential_signer.kid
    filled.accept_trust_list(world.edited_trust_token(
        lambda k: dataclasses.replace(k, state="revoked") if k.kid == kid else k, version=2), T0)
    with pytest.raises(RollbackError):
        filled.accept_trust_list(world.trust_token(version=1, now=T0 - 30), T0)
    expect(Result.UNTRUSTED_ISSUER, world.live_qr(), filled)


def test_stale_trust_list(world: World, filled: VerifierCache) -> None:
    outcome = expect(Result.STATUS_UNKNOWN, world.live_qr(), filled, Policy(trust_max_age=60))
    assert "trust list" in outcome.reason


# --- issue 14: an x5c chain in the list token, and the CWT form ---------------------------------------------


def test_an_x5c_chain_in_a_status_list_is_ignored_not_trusted(world: World, filled: VerifierCache) -> None:
    """Lists carry x5c for generic verifiers; ours never take a key from it. A forger's own chain (a
    self-made root, the forger's key) names a kid the trust list lacks: refused."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from credential.errors import ForbiddenHeaderError, UntrustedIssuerError
    from keys import KeyRing, Purpose

    forger = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=T0 - DAY)
    signer = forger.signer_for(Purpose.STATUS, now=T0)
    chain = [forger.certificates[signer.kid].public_bytes(Encoding.DER),
             forger.root_certificate.public_bytes(Encoding.DER)]
    clean = StatusList(world.statuses.size, 2)
    forged = sign_status_list_token(clean, uri=STATUS_URI, signer=signer, now=T0 - 60, ttl=300, exp=T0 + DAY,
                                    x5c=chain)
    world.statuses.set(7, INVALID)
    filled.accept_status_list(STATUS_URI, world.status_token(now=T0 - 120), T0)
    with pytest.raises(UntrustedIssuerError):
        filled.accept_status_list(STATUS_URI, forged, T0)
    genuine = sign_status_list_token(world.statuses, uri=STATUS_URI, signer=world.status_signer, now=T0 - 60,
                                     ttl=300, exp=T0 + DAY, x5c=chain)  # the genuine key, the forger's chain
    filled.accept_status_list(STATUS_URI, genuine, T0)
    expect(Result.REVOKED, world.live_qr(), filled)
    trust = resign(world.trust_token(version=2), world.ring.root, header={"x5c": ["MIIB"]})
    with pytest.raises(ForbiddenHeaderError):  # the trust list's root is pinned: no chain is tolerated there
        filled.accept_trust_list(trust, T0)


def test_a_cwt_signed_by_a_credential_key_is_refused(world: World, filled: VerifierCache) -> None:
    """The credential key's PurposeSigner would refuse; a raw credential key that signs one anyway is not a
    status key in the trust list."""
    from credential.errors import UntrustedIssuerError
    from credential.statuslist import sign_status_list_cwt
    from tests.attacks.forge import raw

    forged = sign_status_list_cwt(StatusList(world.statuses.size, 2), uri=STATUS_URI,
                                  signer=raw(world.credential_signer), now=T0 - 60, ttl=300, exp=T0 + DAY)
    with pytest.raises(UntrustedIssuerError):
        filled.accept_status_list(STATUS_URI, forged, T0)


def test_a_substituted_cwt_cannot_speak_for_another_list(world: World, cache: VerifierCache) -> None:
    from credential.statuslist import sign_status_list_cwt

    other = sign_status_list_cwt(StatusList(world.statuses.size, 2), uri=OTHER_URI, signer=world.status_signer,
                                 now=T0 - 60, ttl=300, exp=T0 + DAY)
    world.statuses.set(7, INVALID)
    world.fill(cache)
    with pytest.raises(StatusError, match="another URI"):
        cache.accept_status_list(STATUS_URI, other, T0)
    cache.accept_token(other, T0)  # filed under its own sub
    expect(Result.REVOKED, world.live_qr(), cache)
