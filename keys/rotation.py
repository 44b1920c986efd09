"""Key rotation: a new signer goes in front and signs; the ones it replaces stay published until retired.

Operate in this order (research/offline-qr.md §6): rotate, save, publish the trust list, and only then let
issuers load the new ring, at least a day later, so verifiers already know the new key when they first see
it. Old keys stay in the list as "retiring" (still verify) until every credential they signed has expired;
"revoked" is for compromise: whatever the key signed stops verifying at once.
"""

from __future__ import annotations

from keys.certificates import SIGNING_VALIDITY_DAYS, Authority, signing_certificate
from keys.errors import KeyManagementError, KeyNotFoundError
from keys.keyring import KeyRing
from keys.signers import KeySigner


def rotate(ring: KeyRing, purpose: str, *, now: int, validity_days: int = SIGNING_VALIDITY_DAYS) -> KeySigner:
    """Add a fresh ``purpose`` signer in front of ``ring`` (in place); active predecessors become retiring."""
    if purpose not in ("credential", "status"):
        raise ValueError(f"unknown signing purpose {purpose!r}")
    signer = KeySigner.generate(ring.root.alg)
    ring.certificates[signer.kid] = signing_certificate(
        signer.public_key, purpose=purpose, root_key=ring.root.private_key, root_cert=ring.root_certificate,
        authority=Authority(ring.authority_code, ring.authority_name), now=now, validity_days=validity_days,
    )
    signers = ring.credential_signers if purpose == "credential" else ring.status_signers
    for previous in signers:
        if ring.states[previous.kid] == "active":
            ring.states[previous.kid] = "retiring"
    signers.insert(0, signer)
    ring.states[signer.kid] = "active"
    return signer


def revoke(ring: KeyRing, kid: str) -> None:
    """Mark a published key revoked (compromise); the signing key must be rotated away first."""
    if kid not in ring.states:
        raise KeyNotFoundError(kid)
    if kid in (ring.credential_signer.kid, ring.status_signer.kid):
        raise KeyManagementError(f"key {kid} still signs; rotate before revoking it")
    ring.states[kid] = "revoked"


def retire(ring: KeyRing, kid: str) -> None:
    """Drop a key from the ring and from future trust lists (after its last credential expired)."""
    if kid not in ring.states:
        raise KeyNotFoundError(kid)
    if kid in (ring.credential_signer.kid, ring.status_signer.kid):
        raise KeyManagementError(f"key {kid} still signs; rotate before retiring it")
    ring.credential_signers[:] = [s for s in ring.credential_signers if s.kid != kid]
    ring.status_signers[:] = [s for s in ring.status_signers if s.kid != kid]
    del ring.states[kid], ring.certificates[kid]
