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

import secrets

from issuer.keyed import DPOP_JTI, DPOP_NONCE, KeyedHash
from issuer.store import Store

JTI = "dpop_jti"
NONCE = "dpop_nonce"            # keyed hash of a nonce -> "1" while it is accepted
CURRENT_NONCE = "dpop_nonce_now"
_CURRENT = "current"


# Keys are keyed hashes (issuer.keyed) as every other key the wallet side writes: bounded and uniform whatever
# the client sent; the values themselves need no secrecy.


def spend_jti(store: Store, keyed: KeyedHash, jti: str, *, iat_window: int, now: int) -> bool:
    """Record one use of ``jti``; False if it was already used within its lifetime (a replay)."""
    # A proof of iat = now + window is still acceptable until now + 2 * window.
    return store.increment(JTI, keyed.digest(DPOP_JTI, jti), 2 * iat_window + 1, now) == 1


def current_nonce(store: Store, keyed: KeyedHash, *, ttl: int, now: int) -> str:
    """The nonce to hand out now (made, and accepted for ``ttl`` seconds, when the last one is half-way)."""
    nonce = store.get_ephemeral(CURRENT_NONCE, _CURRENT, now)
    if nonce is None:
        # Two instances may both rotate at once: both nonces are then accepted, and the later one is handed out.
        nonce = secrets.token_urlsafe(24)
        store.put_ephemeral(NONCE, keyed.digest(DPOP_NONCE, nonce), "1", ttl, now)
        store.put_ephemeral(CURRENT_NONCE, _CURRENT, nonce, ttl // 2, now)
    return nonce


def nonce_accepted(store: Store, keyed: KeyedHash, nonce: str, *, now: int) -> bool:
    """True while ``nonce`` is one we made less than its ttl ago."""
    return store.get_ephemeral(NONCE, keyed.digest(DPOP_NONCE, nonce), now) is not None
