"""Key rotation, revocation and pruning: the key ring's lifecycle (docs/keys.md has the operator's steps).

Rotate: a fresh key goes in front, with a certificate that starts ``lead_time`` from now (default 24 h), and
its predecessors become "retiring". Publish the trust list at once: verifiers learn the new key before it
signs anything, because the ring keeps signing with the old key until the new certificate's start
(``KeyRing.signing_key``: the newest *usable* key signs). A retiring key stays published until its
certificate ends; it never signed an ``exp`` beyond that (keys/purpose.py), so whatever it signed verifies
until it expires, and then the key drops out of the trust list (``prune`` removes it from the ring).

Revoke is for compromise: whatever the key signed stops verifying as soon as verifiers hold the new list.
"""

from __future__ import annotations

from credential.text import one_line
from keys.certificates import SIGNING_VALIDITY_DAYS, Authority, signing_certificate
from keys.errors import KeyManagementError, KeyNotFoundError, RevocationReasonError
from keys.keyring import KeyRing, Revocation
from keys.purpose import Purpose, SigningKey, signing_purpose
from keys.signers import KeySigner

DEFAULT_LEAD_TIME = 24 * 3600
MAX_REASON = 200


def rotate(ring: KeyRing, purpose: Purpose, *, now: int, lead_time: int = 0,
           validity_days: int = SIGNING_VALIDITY_DAYS, signer: SigningKey | None = None) -> SigningKey:
    """Put a new ``purpose`` key in front of ``ring`` (in place), usable from ``now + lead_time``.

    ``signer`` is a key made elsewhere (a PKCS#11 token key); by default a new file key is generated.
    Active predecessors become retiring; they keep signing until the new key is usable.
    """
    purpose = signing_purpose(purpose)
    if lead_time < 0:
        raise KeyManagementError("lead time must not be negative")
    new = signer if signer is not None else KeySigner.generate(ring.root.alg)
    if new.kid in ring.states:
        raise KeyManagementError(f"key {new.kid} is already in the ring")
    ring.certificates[new.kid] = signing_certificate(
        new.public_key, purpose=purpose, root_key=ring.root.private_key, root_cert=ring.root_certificate,
        authority=Authority(ring.authority_code, ring.authority_name), now=now + lead_time,
        validity_days=validity_days, eku_arc=ring.eku_arc,
    )
    signers = ring.signers_of(purpose)
    for previous in signers:
        if ring.states[previous.kid] == "active":
            ring.states[previous.kid] = "retiring"
    signers.insert(0, new)
    ring.states[new.kid] = "active"
    return new


def revoke(ring: KeyRing, kid: str, *, reason: str, now: int) -> None:
    """Mark a key revoked (compromise). Neither the newest key of a purpose nor the one that signs at ``now``
    (the old key, during a rotation's lead time) can be: rotate first (with no lead time)."""
    text = one_line(reason, limit=MAX_REASON)
    if not text:
        raise RevocationReasonError(len(" ".join(reason.split())), MAX_REASON)
    if needs_replacement(ring, kid, now):
        raise KeyManagementError(f"key {kid} still signs; rotate before revoking it")
    ring.states[kid] = "revoked"
    ring.revocations[kid] = Revocation(text, now)


def _signing_kid(ring: KeyRing, purpose: Purpose, now: int) -> str | None:
    try:
        return ring.signing_key(purpose, now=now).kid
    except KeyManagementError:
        return None


def needs_replacement(ring: KeyRing, kid: str, now: int) -> bool:
    """True when revoking ``kid`` would leave its purpose without a key that signs now."""
    purpose = ring.purpose_of(kid)
    return kid in (ring.signers_of(purpose)[0].kid, _signing_kid(ring, purpose, now))


def retire(ring: KeyRing, kid: str) -> None:
    """Drop a key from the ring and from future trust lists (after its last credential expired)."""
    signers = ring.signers_of(ring.purpose_of(kid))
    if signers[0].kid == kid:
        raise KeyManagementError(f"key {kid} still signs; rotate before retiring it")
    signers[:] = [s for s in signers if s.kid != kid]
    del ring.states[kid], ring.certificates[kid]
    ring.backends.pop(kid, None)
    ring.revocations.pop(kid, None)


def prune(ring: KeyRing, *, now: int) -> list[str]:
    """Retire every key whose certificate has ended: nothing it signed can still be valid. Returns the kids."""
    gone = [signer.kid for purpose, signer in ring.signers()
            if ring.window(signer.kid)[1] < now and ring.signers_of(purpose)[0] is not signer]
    for kid in gone:
        retire(ring, kid)
    return gone


def require_known(ring: KeyRing, kid: str) -> Purpose:
    """The purpose of ``kid``; KeyNotFoundError when the ring does not hold it."""
    if kid not in ring.states:
        raise KeyNotFoundError(kid)
    return ring.purpose_of(kid)
