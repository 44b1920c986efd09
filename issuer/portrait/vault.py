"""The portrait sealed for the store: AES-256-GCM under the key ring's portrait key, bound to its record.

Sealed form: a version byte, the 12-byte random nonce, then the ciphertext and its tag. The associated data
names the format, the use and the record, so a sealed portrait copied onto another record does not open
there, and a console preview (sealed for the officer's browser to hand back: issuer.http.console.portrait)
is not a stored portrait nor the other way round. The
store holds only this; the key is in the key directory, sealed under the operator's passphrase beside the
other keys (keys/keydir.py), never in the store.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from credential.portrait import MAX_PORTRAIT
from issuer.errors import IssuerError

_VERSION = b"\x01"
_NONCE_SIZE = 12
MAX_SEALED = len(_VERSION) + _NONCE_SIZE + MAX_PORTRAIT + 16


class PortraitUnreadableError(IssuerError):
    """A sealed portrait does not open under this key ring's portrait key (another key, an altered store)."""

    error = "portrait_unreadable"

    def __init__(self, record_id: str) -> None:
        super().__init__("the record's portrait cannot be opened with this key ring's portrait key")
        self.record_id = record_id


class PortraitKeyMissingError(IssuerError):
    """The key ring has no portrait key (a key directory from before portraits): none is taken or shown."""

    http_status = 503
    error = "portraits_unavailable"

    def __init__(self) -> None:
        super().__init__("the key directory has no portrait key: add it with `epermit keys upgrade`")


STORED = "stored"
PREVIEW = "preview"


def _aad(record_id: str, use: str) -> bytes:
    return b"epermit-portrait-v1\x00" + use.encode("ascii") + b"\x00" + record_id.encode("utf-8")


class PortraitVault:
    def __init__(self, key: bytes | None) -> None:
        self._key = key

    def _aead(self) -> AESGCM:
        if self._key is None:
            raise PortraitKeyMissingError
        return AESGCM(self._key)

    def seal(self, record_id: str, portrait: bytes, *, use: str = STORED) -> bytes:
        nonce = secrets.token_bytes(_NONCE_SIZE)
        return _VERSION + nonce + self._aead().encrypt(nonce, portrait, _aad(record_id, use))

    def open(self, record_id: str, sealed: bytes, *, use: str = STORED) -> bytes:
        if len(sealed) > MAX_SEALED or not sealed.startswith(_VERSION):
            raise PortraitUnreadableError(record_id)
        nonce, body = sealed[1:1 + _NONCE_SIZE], sealed[1 + _NONCE_SIZE:]
        try:
            return self._aead().decrypt(nonce, body, _aad(record_id, use))
        except InvalidTag as exc:
            raise PortraitUnreadableError(record_id) from exc
