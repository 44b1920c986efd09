"""Rotation with a lead time, overlap, drop-out and pruning; revocation of a compromised key."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.errors import UntrustedIssuerError
from credential.qrpass import encode_pass, pass_to_qr_text
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc
from credential.statuslist import StatusList, sign_status_list_token
from credential.trustlist import TrustList, verify_trust_list
from keys import (
    DEFAULT_LEAD_TIME,
    KeyManagementError,
    KeyNotFoundError,
    KeyRing,
    KeySigner,
    Purpose,
    PurposeNotAllowedError,
    RevocationReasonError,
    load_keyring,
    prune,
    retire,
    revoke,
    rotate,
    save_keyring,
)
from tests.conftest import T0, FakeClock
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result
from verifier.verify import verify

DAY = 86400
ISSUER = "https://permits.example.gov.cn"
STATUS_URI = f"{ISSUER}/statuslists/1"


def published(ring: KeyRing, now: int) -> TrustList:
    token = ring.trust_list_token(issuer="https://i", now=now, version=now, status_lists=[], aggregation_uri=None)
    return verify_trust_list(token, root_key=ring.root.public_key, now=now)


def test_new_key_is_published_before_it_signs() -> None:
    clock = FakeClock(T0)
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0)
    first = ring.signers_of(Purpose.CREDENTIAL)[0]
    clock.now = T0 + 10 * DAY
    second = rotate(ring, Purpose.CREDENTIAL, now=clock.now, lead_time=DEFAULT_LEAD_TIME)
    assert ring.signers_of(Purpose.CREDENTIAL) == [second, first]
    assert (ring.states[first.kid], ring.states[second.kid]) == ("retiring", "active")
    # published at once, with a window that starts after the lead time ...
    trust = published(ring, clock.now)
    assert trust.key_for(second.kid, purpose="credential", now=clock.now + DEFAULT_LEAD_TIME).kid == second.kid
    with pytest.raises(UntrustedIssuerError, match="not yet valid"):
        trust.key_for(second.kid, purpose="credential", now=clock.now)
    # ... while the old key keeps signing until then
    assert ring.signer_for(Purpose.CREDENTIAL, now=clock.now).kid == first.kid
    clock.now += DEFAULT_LEAD_TIME - 1
    assert ring.signer_for(Purpose.CREDENTIAL, now=clock.now).kid == first.kid
    clock.now += 1
    assert ring.signer_for(Purpose.CREDENTIAL, now=clock.now).kid == second.kid
    # a credential rotation leaves status alone
    assert ring.signer_for(Purpose.STATUS, now=clock.now).kid == ring.signers_of(Purpose.STATUS)[0].kid


def test_credentials_from_both_keys_verify_across_the_rotation(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=T0)
    permit, holder = sample_permit(), KeySigner.generate()
    exp = int(datetime.datetime(2027, 1, 5, tzinfo=datetime.UTC).timestamp())
    statuses = StatusList(1 << 10, 2)
    cache = VerifierCache(tmp_path / "cache")
    cache.pin_root(ring.root_certificate.public_bytes(Encoding.PEM))

    def issue(idx: int) -> tuple[str, str]:
        now = clock.now
        signer = ring.signer_for(Purpose.CREDENTIAL, now=now)
        sd = issue_sd_jwt_vc(permit, issuer=ISSUER, signer=signer, holder_key=holder.public_key,
                             status_uri=STATUS_URI, status_idx=idx, now=now, exp=exp)
        qr = pass_to_qr_text(encode_pass(permit, signer=signer, holder_key=holder.public_key,
                                         status_uri=STATUS_URI, status_idx=idx, now=now))
        return sd, qr

    def sync(version: int) -> None:
        token = ring.trust_list_token(issuer=ISSUER, now=clock.now, version=version, status_lists=[STATUS_URI],
                                      aggregation_uri=None)
        cache.accept_trust_list(token, clock.now)
        cache.accept_status_list(STATUS_URI, sign_status_list_token(
            statuses, uri=STATUS_URI, signer=ring.signer_for(Purpose.STATUS, now=clock.now), now=clock.now, ttl=300,
            exp=clock.now + 7 * DAY),
            clock.now)

    def results(*texts: str) -> list[Result]:
        return [verify(t, cache, policy=Policy(), now=clock.now).result for t in texts]

    clock.now = T0 + DAY
    old = issue(1)
    sync(1)
    assert results(*old) == [Result.VALID, Result.VALID]

    clock.now = T0 + 30 * DAY
    new_key = rotate(ring, Purpose.CREDENTIAL, now=clock.now, lead_time=DEFAULT_LEAD_TIME)
    sync(2)  # verifiers learn the new key during the lead time
    overlap = issue(2)  # still the old key
    assert results(*overlap) == [Result.VALID, Result.VALID]
    clock.now += DEFAULT_LEAD_TIME + 60
    new = issue(3)
    assert ring.signer_for(Purpose.CREDENTIAL, now=clock.now).kid == new_key.kid
    sync(3)
    assert results(*old, *overlap, *new) == [Result.VALID] * 6

    # Past the old certificate's end nothing it signed is still valid, and the key drops out by itself.
    old_kid = ring.signers_of(Purpose.CREDENTIAL)[1].kid
    end = ring.window(old_kid)[1]
    assert end >= exp  # never signed an exp beyond its window (keys/purpose.py enforces it)
    assert old_kid not in {k.kid for k in ring.trust_list(issuer=ISSUER, now=end + 1, version=9, status_lists=[],
                                                           aggregation_uri=None).keys}
    assert prune(ring, now=end) == []
    assert prune(ring, now=end + 1) == [old_kid] and ring.signers_of(Purpose.CREDENTIAL) == [new_key]


def test_a_key_never_signs_past_its_window() -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0)
    end = ring.window(ring.signers_of(Purpose.CREDENTIAL)[0].kid)[1]
    permit, holder = sample_permit(), KeySigner.generate()
    with pytest.raises(KeyManagementError, match="past the key's validity"):
        issue_sd_jwt_vc(permit, issuer=ISSUER, signer=ring.signer_for(Purpose.CREDENTIAL, now=T0),
                        holder_key=holder.public_key, status_uri=STATUS_URI, status_idx=1, now=T0, exp=end + 1)
    with pytest.raises(KeyManagementError, match="no credential key may sign"):
        ring.signer_for(Purpose.CREDENTIAL, now=end)  # at the very end nothing may sign: rotate


def test_revoke_retire_and_round_trip(tmp_path: Path) -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0)
    first = ring.signers_of(Purpose.CREDENTIAL)[0]
    with pytest.raises(KeyManagementError, match="still signs"):
        revoke(ring, first.kid, reason="laptop stolen", now=T0)
    second = rotate(ring, Purpose.CREDENTIAL, now=T0 + DAY)
    for bad in ("  ", "x" * 201, "line\x00feed"):
        with pytest.raises(RevocationReasonError, match="reason") as caught:
            revoke(ring, first.kid, reason=bad, now=T0)
        assert caught.value.limit == 200 and caught.value.length == len(" ".join(bad.split()))
    assert ring.states[first.kid] == "retiring" and first.kid not in ring.revocations  # a refusal changes nothing
    revoke(ring, first.kid, reason="laptop  stolen", now=T0 + DAY)
    assert ring.revocations[first.kid].reason == "laptop stolen"

    save_keyring(ring, tmp_path / "k", b"pass", scrypt_n=2**14)
    loaded = load_keyring(tmp_path / "k", b"pass")
    assert [s.kid for s in loaded.signers_of(Purpose.CREDENTIAL)] == [second.kid, first.kid]
    assert loaded.states == ring.states and loaded.revocations == ring.revocations
    with pytest.raises(UntrustedIssuerError, match="revoked"):
        published(loaded, T0 + 2 * DAY).key_for(first.kid, purpose="credential", now=T0 + 2 * DAY)
    # a revoked key never signs, even when the newer key is not usable yet
    assert loaded.signing_key(Purpose.CREDENTIAL, now=T0 + 2 * DAY).kid == second.kid

    retire(ring, first.kid)
    assert [s.kid for s in ring.signers_of(Purpose.CREDENTIAL)] == [second.kid]
    with pytest.raises(UntrustedIssuerError, match="unknown key"):
        published(ring, T0 + 2 * DAY).key_for(first.kid, purpose="credential", now=T0 + 2 * DAY)
    with pytest.raises(KeyNotFoundError):
        retire(ring, first.kid)


def test_update_writes_only_the_new_key(tmp_path: Path) -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0)
    save_keyring(ring, tmp_path / "k", b"pass", scrypt_n=2**14)
    before = {p.name: p.read_bytes() for p in (tmp_path / "k").iterdir()}
    new = rotate(ring, Purpose.STATUS, now=T0)
    save_keyring(ring, tmp_path / "k", b"pass", scrypt_n=2**14, update=True)
    after = {p.name: p.read_bytes() for p in (tmp_path / "k").iterdir()}
    assert set(after) - set(before) == {f"status-{new.kid}.key.json", f"status-{new.kid}.crt.pem"}
    assert all(after[name] == data for name, data in before.items() if name != "keyring.json")
    assert load_keyring(tmp_path / "k", b"pass").signers_of(Purpose.STATUS)[0].kid == new.kid


def test_only_signing_purposes_rotate() -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0)
    before = (dict(ring.states), dict(ring.certificates))
    for purpose in (Purpose.ROOT, "trust_list"):
        with pytest.raises(PurposeNotAllowedError, match="not one of credential, status"):
            rotate(ring, purpose, now=T0)  # type: ignore[arg-type]
    with pytest.raises(KeyManagementError, match="lead time"):
        rotate(ring, Purpose.STATUS, now=T0, lead_time=-1)
    assert (ring.states, ring.certificates) == before
