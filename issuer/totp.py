"""The officers' second factor: time-based one-time codes (TOTP, RFC 6238) and their secrets sealed at rest.

Codes are 6 digits of HMAC-SHA1 over 30-second steps, what every authenticator app makes from an
``otpauth://totp/`` URI (issuer "epermit"). A code is accepted for its step and one step either side (clock
drift), and a step is used once: the store keeps the last step that signed the officer in and takes only a
later one (issuer.store.Store.use_totp_step), so a code seen over a shoulder cannot be replayed.

The secret must be readable by the issuer at every sign-in, so it cannot be hashed: the store keeps it
sealed (AES-256-GCM) under a key derived from the deployment's store secret (issuer.keyed, kept sealed in
the key directory, never in the store), bound to the officer id, so a copy of the store alone yields no
secret, and a sealed secret moved onto another officer does not open.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from credential.encoding import b64url_decode, b64url_encode
from credential.errors import MalformedError
from issuer.keyed import TOTP_SEAL, KeyedHash

ISSUER = "epermit"
STEP = 30  # seconds
DIGITS = 6
DRIFT = 1  # steps accepted either side of now
SECRET_SIZE = 20  # bytes: RFC 4226's recommended 160 bits
_SEALED_PREFIX = "v1."
_NONCE = 12


def new_secret() -> bytes:
    return os.urandom(SECRET_SIZE)


def _totp(secret: bytes) -> TOTP:
    return TOTP(secret, DIGITS, SHA1(), STEP, enforce_key_length=True)  # noqa: S303 - RFC 6238's default: what every app computes (HMAC-SHA1 is sound)


def secret_text(secret: bytes) -> str:
    """The secret as an app's "enter a key" field takes it (base32, no padding)."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def otpauth_uri(secret: bytes, officer_id: str) -> str:
    return _totp(secret).get_provisioning_uri(officer_id, ISSUER)


def step_of(now: int) -> int:
    return now // STEP


def code_at(secret: bytes, now: int) -> str:
    """The code an app shows at ``now`` (tests, and nothing else, compute codes)."""
    return _totp(secret).generate(now).decode("ascii")


def matching_step(secret: bytes, code: str, now: int) -> int | None:
    """The step (now's, or one either side) whose code ``code`` is; None if none is. Constant-time per step."""
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = _totp(secret)
    found = None
    for step in range(step_of(now) - DRIFT, step_of(now) + DRIFT + 1):
        try:
            totp.verify(code.encode("ascii"), step * STEP)
        except InvalidToken:
            continue
        found = step if found is None else found  # every step checked: the time says nothing of which matched
    return found


@dataclass(frozen=True)
class TotpSeal:
    """Seals and opens officers' TOTP secrets under a key derived from the store secret."""

    keyed: KeyedHash

    def _aead(self) -> AESGCM:
        return AESGCM(b64url_decode(self.keyed.derive(TOTP_SEAL)))

    def seal(self, officer_id: str, secret: bytes) -> str:
        nonce = os.urandom(_NONCE)
        return _SEALED_PREFIX + b64url_encode(nonce + self._aead().encrypt(nonce, secret, officer_id.encode()))

    def open(self, officer_id: str, sealed: str) -> bytes | None:
        """The secret, or None for anything that is not a secret sealed for this officer under this key."""
        if not sealed.startswith(_SEALED_PREFIX) or len(sealed) > 200:
            return None
        try:
            raw = b64url_decode(sealed.removeprefix(_SEALED_PREFIX))
            return self._aead().decrypt(raw[:_NONCE], raw[_NONCE:], officer_id.encode()) if len(raw) > _NONCE \
                else None
        except (MalformedError, InvalidTag, ValueError):
            return None
