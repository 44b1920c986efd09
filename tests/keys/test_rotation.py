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
from keys.errors import KeyManagementError, KeyNotFoundError
from keys.keyring import KeyRing
from keys.rotation import DEFAULT_LEAD_TIME, prune, retire, revoke, rotate
from keys.signers import KeySigner
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
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0, clock=clock)
    first = ring.credential_signers[0]
    clock.now = T0 + 10 * DAY
    second = rotate(ring, "credential", now=clock.now, lead_time=DEFAULT_LEAD_TIME)
    assert ring.credential_signers == [second, first]
    assert (ring.states[first.kid], ring.states[second.kid]) == ("retiring", "active")
    # published at once, with a window that starts after the lead time ...
    trust = published(ring, clock.now)
    assert trust.key_for(second.kid, purpose="credential", now=clock.now + DEFAULT_LEAD_TIME).kid == second.kid
    with pytest.raises(UntrustedIssuerError, match="not yet valid"):
        trust.key_for(second.kid, purpose="credential", now=clock.now)
    # ... while the old key keeps signing until then
    assert ring.credential_signer.kid == first.kid
    clock.now += DEFAULT_LEAD_TIME - 1
    assert ring.credential_signer.kid == first.kid
    clock.now += 1
    assert ring.credential_signer.kid == second.kid
    assert ring.status_signer.kid == ring.status_signers[0].kid  # a credential rotation leaves status alone


def test_credentials_from_both_keys_verify_across_the_rotation(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=T0, clock=clock)
    permit, holder = sample_permit(), KeySigner.generate()
    exp = int(datetime.datetime(2027, 1, 5, tzinfo=datetime.UTC).timestamp())
    statuses = StatusList(1 << 10, 2)
    cache = VerifierCache(tmp_path / "cache")
    cache.pin_root(ring.root_certificate.public_bytes(Encoding.PEM))

    def issue(idx: int) -> tuple[str, str]:
        now = clock.now
        signer = ring.credential_signer
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
            statuses, uri=STATUS_URI, signer=ring.status_signer, now=clock.now, ttl=300, exp=clock.now + 7 * DAY),
            clock.now)

    def results(*texts: str) -> list[Result]:
        return [verify(t, cache, policy=Policy(), now=clock.now).result for t in texts]

    clock.now = T0 + DAY
    old = issue(1)
    sync(1)
    assert results(*old) == [Result.VALID, Result.VALID]

    clock.now = T0 + 30 * DAY
    new_key = rotate(ring, "credential", now=clock.now, lead_time=DEFAULT_LEAD_TIME)
    sync(2)  # verifiers learn the new key during the lead time
    overlap = issue(2)  # still the old key
    assert results(*overlap) == [Result.VALID, Result.VALID]
    clock.now += DEFAULT_LEAD_TIME + 60
    new = issue(3)
    assert ring.credential_signer.kid == new_key.kid
    sync(3)
    assert results(*old, *overlap, *new) == [Result.VALID] * 6

    # Past the old certificate's end nothing it signed is still valid, and the key drops out by itself.
    old_kid = ring.credential_signers[1].kid
    end = ring.window(old_kid)[1]
    assert end >= exp  # never signed an exp beyond its window (keys/purpose.py enforces it)
    assert old_kid not in {k.kid for k in ring.trust_list(issuer=ISSUER, now=end + 1, version=9, status_lists=[],
                                                           aggregation_uri=None).keys}
    assert prune(ring, now=end) == []
    assert prune(ring, now=end + 1) == [old_kid] and ring.credential_signers == [new_key]


def test_a_key_never_signs_past_its_window() -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0, clock=FakeClock(T0))
    end = ring.window(ring.credential_signers[0].kid)[1]
    permit, holder = sample_permit(), KeySigner.generate()
    with pytest.raises(KeyManagementError, match="past the key's validity"):
        issue_sd_jwt_vc(permit, issuer=ISSUER, signer=ring.credential_signer, holder_key=holder.public_key,
                        status_uri=STATUS_URI, status_idx=1, now=T0, exp=end + 1)
    ring.clock = FakeClock(end)  # at the very end nothing may sign: rotate
    with pytest.raises(KeyManagementError, match="no credential key may sign"):
        _ = ring.credential_signer


def test_revoke_retire_and_round_trip(tmp_path: Path) -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0)
    first = ring.credential_signers[0]
    with pytest.raises(KeyManagementError, match="still signs"):
        revoke(ring, first.kid, reason="laptop stolen", now=T0)
    second = rotate(ring, "credential", now=T0 + DAY)
    with pytest.raises(ValueError, match="reason"):
        revoke(ring, first.kid, reason="  ", now=T0)
    revoke(ring, first.kid, reason="laptop  stolen", now=T0 + DAY)
    assert ring.revocations[first.kid].reason == "laptop stolen"

    ring.save(tmp_path / "k", b"pass", scrypt_n=2**14)
    loaded = KeyRing.load(tmp_path / "k", b"pass")
    assert [s.kid for s in loaded.credential_signers] == [second.kid, first.kid]
    assert loaded.states == ring.states and loaded.revocations == ring.revocations
    with pytest.raises(UntrustedIssuerError, match="revoked"):
        published(loaded, T0 + 2 * DAY).key_for(first.kid, purpose="credential", now=T0 + 2 * DAY)
    # a revoked key never signs, even when the newer key is not usable yet
    assert loaded.signing_key("credential", T0 + 2 * DAY).kid == second.kid

    retire(ring, first.kid)
    assert [s.kid for s in ring.credential_signers] == [second.kid]
    with pytest.raises(UntrustedIssuerError, match="unknown key"):
        published(ring, T0 + 2 * DAY).key_for(first.kid, purpose="credential", now=T0 + 2 * DAY)
    with pytest.raises(KeyNotFoundError):
        retire(ring, first.kid)


def test_update_writes_only_the_new_key(tmp_path: Path) -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0)
    ring.save(tmp_path / "k", b"pass", scrypt_n=2**14)
    before = {p.name: p.read_bytes() for p in (tmp_path / "k").iterdir()}
    new = rotate(ring, "status", now=T0)
    ring.save(tmp_path / "k", b"pass", scrypt_n=2**14, update=True)
    after = {p.name: p.read_bytes() for p in (tmp_path / "k").iterdir()}
    assert set(after) - set(before) == {f"status-{new.kid}.key.json", f"status-{new.kid}.crt.pem"}
    assert all(after[name] == data for name, data in before.items() if name != "keyring.json")
    assert KeyRing.load(tmp_path / "k", b"pass").status_signers[0].kid == new.kid
