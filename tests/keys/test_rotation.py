"""Rotation: the newest key signs, predecessors keep verifying as retiring, revoked keys stop at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from credential.errors import UntrustedIssuerError
from credential.trustlist import TrustList, verify_trust_list
from keys.errors import KeyManagementError, KeyNotFoundError
from keys.keyring import KeyRing
from keys.rotation import retire, revoke, rotate

NOW = 1_750_000_000
DAY = 86400


def published(ring: KeyRing, now: int) -> TrustList:
    token = ring.trust_list_token(issuer="https://i", now=now, version=now, status_lists=[], aggregation_uri=None)
    return verify_trust_list(token, root_key=ring.root.public_key, now=now)


def test_rotate_revoke_retire(tmp_path: Path) -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=NOW)
    first = ring.credential_signer
    second = rotate(ring, "credential", now=NOW + DAY)
    assert ring.credential_signer is second and ring.credential_signers[1] is first
    assert (ring.states[first.kid], ring.states[second.kid]) == ("retiring", "active")

    ring.save(tmp_path / "k", b"pass", scrypt_n=2**14)
    loaded = KeyRing.load(tmp_path / "k", b"pass")
    assert [s.kid for s in loaded.credential_signers] == [second.kid, first.kid]
    assert loaded.states == ring.states

    trust = published(loaded, NOW + 2 * DAY)
    assert trust.key_for(first.kid, purpose="credential", now=NOW + 2 * DAY).state == "retiring"

    with pytest.raises(KeyManagementError, match="still signs"):
        revoke(ring, second.kid)
    revoke(ring, first.kid)
    with pytest.raises(UntrustedIssuerError, match="revoked"):
        published(ring, NOW + 2 * DAY).key_for(first.kid, purpose="credential", now=NOW + 2 * DAY)

    retire(ring, first.kid)
    assert [s.kid for s in ring.credential_signers] == [second.kid]
    with pytest.raises(UntrustedIssuerError, match="unknown key"):
        published(ring, NOW + 2 * DAY).key_for(first.kid, purpose="credential", now=NOW + 2 * DAY)
    with pytest.raises(KeyNotFoundError):
        retire(ring, first.kid)


def test_status_rotation_leaves_credential_signers_alone() -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=NOW)
    credential = ring.credential_signer
    new_status = rotate(ring, "status", now=NOW)
    assert ring.status_signer is new_status and ring.credential_signers == [credential]
    assert ring.states[credential.kid] == "active"
