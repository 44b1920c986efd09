"""What DPoP keeps in the issuer's store, so that every wallet API instance shares it: used `jti`s and nonces.

A proof is single-use by its ``jti`` (RFC 9449 §11.1): never by its signature bytes, since an ECDSA
signature can be re-encoded into another valid one for the same message. The entry lives as long as any
proof with that ``jti`` could still pass the ``iat`` window, after which the window alone refuses it.

Server nonces (RFC 9449 §8, §9) are handed to anyone who asks, so they are not secrets: one current nonce is
shared by all wallets and rotated every half ``ttl``; a nonce stays acceptable for ``ttl`` from its making,
so a wallet that fetched it just before a rotation still has half a ``ttl`` to use it. A flood of requests
without a nonce therefore costs one read each, not a write.
"""

from __future__ import annotations

import hashlib
import secrets

from issuer.store import Store

JTI = "dpop_jti"
NONCE = "dpop_nonce"            # hash of a nonce -> "1" while it is accepted
CURRENT_NONCE = "dpop_nonce_now"
_CURRENT = "current"


def _digest(value: str) -> str:
    # Bounded, uniform keys whatever the client sent; the values themselves need no secrecy.
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def spend_jti(store: Store, jti: str, *, iat_window: int, now: int) -> bool:
    """Record one use of ``jti``; False if it was already used within its lifetime (a replay)."""
    # A proof of iat = now + window is still acceptable until now + 2 * window.
    return store.increment(JTI, _digest(jti), 2 * iat_window + 1, now) == 1


def current_nonce(store: Store, *, ttl: int, now: int) -> str:
    """The nonce to hand out now (made, and accepted for ``ttl`` seconds, when the last one is half-way)."""
    nonce = store.get_ephemeral(CURRENT_NONCE, _CURRENT, now)
    if nonce is None:
        # Two instances may both rotate at once: both nonces are then accepted, and the later one is handed out.
        nonce = secrets.token_urlsafe(24)
        store.put_ephemeral(NONCE, _digest(nonce), "1", ttl, now)
        store.put_ephemeral(CURRENT_NONCE, _CURRENT, nonce, ttl // 2, now)
    return nonce


def nonce_accepted(store: Store, nonce: str, *, now: int) -> bool:
    """True while ``nonce`` is one we made less than its ttl ago."""
    return store.get_ephemeral(NONCE, _digest(nonce), now) is not None
