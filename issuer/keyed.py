"""Keyed hashes: the only form in which the store keeps a secret that the issuer hands out.

Offer ids, pickup codes, PINs (together with their code), access tokens, c_nonces, deferred transaction and
notification ids, officer tokens, console session ids, DPoP proof ids and nonces, and rate-limit and
sign-in counter keys reach the store only as HMAC-SHA256 under the deployment's store secret
(``KeyRing.store_secret``: sealed in the key directory, never in the store). So a copy of the store alone,
or a backup of it, neither recognises a code nor tests a PIN: against an unsalted SHA-256 of code + PIN,
the 10^6 six-digit PINs fell in about a second; against an HMAC whose key is not in the copy there is
nothing to try them on.

Each use has its own label, so a value hashed for one purpose never matches another (a nonce is not an
access token), and the parts are length-prefixed, so ("ab", "c") and ("a", "bc") never collide.

The pre-authorized code is *derived* from the offer id (``derive(PRE_AUTHORIZED_CODE, offer_id)``). The
by-reference offer (``GET /offers/<offer_id>``) must hand the code out again, while the store keeps neither
the code nor the offer id, only their keyed hashes: the server recomputes the code from the 256-bit id in
the URL; somebody holding the store does not have the id and cannot compute the code without the secret.
"""

from __future__ import annotations

import hashlib
import hmac

from credential.encoding import b64url_encode

MIN_SECRET_SIZE = 32
DOMAIN = b"epermit-store-v1"

# One label per use (the hashed form of one kind of secret; where the value is an ephemeral store entry, its
# kind is the same word). issuer.deferred labels its transaction and notification ids with its kinds.
OFFER_ID = "offer_id"  # the store's key of an offer: the id itself is only in the wallet's URL
PRE_AUTHORIZED_CODE = "pre_authorized_code"  # derive(): the code of an offer, from its id
CODE = "code"  # the store's index of an offer by its code (and the key of its PIN attempt counter)
TX_CODE = "tx_code"  # over (code, PIN): what a PIN is checked against
ACCESS_TOKEN = "access_token"  # noqa: S105 - a label, not a secret
DELIVERY = "delivery"  # over (access token, configuration id): the one delivery a token has of each
HOLDER_CREDENTIAL = "holder_credential"  # over (access token, holder kid): the credential a key already has
C_NONCE = "c_nonce"
OFFICER_TOKEN = "officer_token"  # noqa: S105 - a label, not a secret
OFFICER_SESSION = "officer_session"  # the console's session ids (the cookie's value)
TOTP_SEAL = "totp_seal"  # derive(): the key that seals officers' TOTP secrets (issuer.totp), never a digest
TOTP_ENROLMENT = "totp_enrolment"  # a console TOTP enrolment in progress (the cookie holds its id)
RATE = "rate"  # rate-limit keys: client addresses and codes
SIGN_IN = "sign_in"  # the failed sign-in counters' keys: client addresses and claimed officer ids
DPOP_JTI = "dpop_jti"  # the used DPoP proof ids
DPOP_NONCE = "dpop_nonce"  # the DPoP server nonces still accepted


def _message(label: str, parts: tuple[str, ...]) -> bytes:
    out = bytearray(DOMAIN)
    for part in (label, *parts):
        data = part.encode("utf-8")
        out += len(data).to_bytes(4, "big") + data
    return bytes(out)


class KeyedHash:
    """HMAC-SHA256 under one deployment's store secret (``KeyRing.store_secret``)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_SIZE:
            raise ValueError(f"the store secret must be at least {MIN_SECRET_SIZE} bytes")
        self._secret = bytes(secret)

    def __repr__(self) -> str:
        return "KeyedHash(<secret>)"  # never the key, in a log or a traceback

    def _mac(self, label: str, parts: tuple[str, ...]) -> bytes:
        return hmac.new(self._secret, _message(label, parts), hashlib.sha256).digest()

    def digest(self, label: str, *parts: str) -> str:
        """What the store keeps of ``parts`` (64 hex characters)."""
        return self._mac(label, parts).hex()

    def derive(self, label: str, *parts: str) -> str:
        """A secret recomputable only with the store secret (43 url-safe characters, 256 bits)."""
        return b64url_encode(self._mac(label, parts))
