"""The holder's portrait in a credential: one small image file's bytes P, bound by SHA-256(P).

The QR pass signs ``portrait_sha256`` = SHA-256(P) (CBOR key 13); the SD-JWT VC carries the same digest and
P itself as the selectively disclosable claim ``picture``, a data URI ``data:<media type>;base64,<P>`` (as
the EUDI PID and OpenID Connect carry ``picture``). A verifier that receives ``picture`` checks, before it
shows anyone a face, that the URI is small, that its media type is one a browser decodes in an ``<img>``
and that the bytes begin as that type does, and that SHA-256 of the bytes is the signed digest: an image
that fails any of these is never the holder's face (PortraitMismatchError, InvalidClaimError).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from credential.encoding import b64url_decode
from credential.errors import InvalidClaimError, MissingClaimError, PortraitMismatchError, TooLargeError

PICTURE_CLAIM = "picture"
DIGEST_CLAIM = "portrait_sha256"
# The issuer's portraits are about 1.5 kB (docs/portrait.md: they must fit one QR code of version <= 25); the
# cap leaves room for another issuer's choice and still bounds what a verifier decodes and hashes.
MAX_PORTRAIT = 16 * 1024
# Each media type a browser decodes in an <img>, with the bytes every such file begins with (None: any byte).
_MAGIC: dict[str, tuple[tuple[int | None, ...], ...]] = {
    "image/jpeg": (tuple(b"\xff\xd8\xff"),),
    "image/png": (tuple(b"\x89PNG\r\n\x1a\n"),),
    "image/webp": (tuple(b"RIFF") + (None,) * 4 + tuple(b"WEBPVP8"),),
    # ISO BMFF: a box size, "ftyp", then the major brand (avif, or avis for an image sequence: refused).
    "image/avif": ((None,) * 4 + tuple(b"ftypavif"),),
}
MEDIA_TYPES = tuple(_MAGIC)
_PREFIX = "data:"
_BASE64 = ";base64,"
MAX_PICTURE_URI = len(_PREFIX) + max(map(len, MEDIA_TYPES)) + len(_BASE64) + 4 * ((MAX_PORTRAIT + 2) // 3)


@dataclass(frozen=True, slots=True)
class Portrait:
    media_type: str
    data: bytes

    @property
    def sha256(self) -> bytes:
        return hashlib.sha256(self.data).digest()


def _matches(data: bytes, pattern: tuple[int | None, ...]) -> bool:
    return len(data) >= len(pattern) and all(p is None or data[i] == p for i, p in enumerate(pattern))


def media_type_of(data: bytes) -> str:
    """The allowed media type whose magic ``data`` begins with; InvalidClaimError for any other bytes."""
    for media_type, patterns in _MAGIC.items():
        if any(_matches(data, p) for p in patterns):
            return media_type
    raise InvalidClaimError(PICTURE_CLAIM, f"is not one of {', '.join(MEDIA_TYPES)}")


def portrait_data_uri(data: bytes) -> str:
    """The ``picture`` claim's value for the portrait bytes: its media type is read from the bytes."""
    if len(data) > MAX_PORTRAIT:
        raise TooLargeError("portrait", MAX_PORTRAIT)
    media_type = media_type_of(data)
    return _PREFIX + media_type + _BASE64 + base64.b64encode(data).decode("ascii")


def read_picture(value: object) -> Portrait:
    """The portrait a ``picture`` claim carries; the size is capped before anything is decoded."""
    if not isinstance(value, str):
        raise InvalidClaimError(PICTURE_CLAIM, "must be a data URI string")
    if len(value) > MAX_PICTURE_URI:
        raise TooLargeError(PICTURE_CLAIM, MAX_PICTURE_URI)
    if not value.isascii() or not value.startswith(_PREFIX) or _BASE64 not in value:
        raise InvalidClaimError(PICTURE_CLAIM, "must be data:<media type>;base64,<data>")
    media_type, text = value[len(_PREFIX):].split(_BASE64, 1)
    if media_type not in _MAGIC:  # exact spelling: no parameters, no case variants
        raise InvalidClaimError(PICTURE_CLAIM, f"media type {media_type[:40]!r} is not one of {', '.join(MEDIA_TYPES)}")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidClaimError(PICTURE_CLAIM, "is not standard base64") from exc
    if base64.b64encode(data).decode("ascii") != text:  # one spelling: canonical padding and tail bits
        raise InvalidClaimError(PICTURE_CLAIM, "is not canonical base64")
    if not data:
        raise InvalidClaimError(PICTURE_CLAIM, "is empty")
    if media_type_of(data) != media_type:
        raise InvalidClaimError(PICTURE_CLAIM, f"bytes are not {media_type}")
    return Portrait(media_type, data)


def check_picture(claims: Mapping[str, Any]) -> Portrait | None:
    """The verified portrait of disclosed SD-JWT claims (None when ``picture`` is not disclosed).

    ``picture`` comes with the signed ``portrait_sha256`` or not at all, and the bytes must hash to it."""
    if PICTURE_CLAIM not in claims:
        return None
    portrait = read_picture(claims[PICTURE_CLAIM])
    if DIGEST_CLAIM not in claims:
        raise MissingClaimError(DIGEST_CLAIM)
    signed = claims[DIGEST_CLAIM]
    expected = b64url_decode(signed) if isinstance(signed, str) else b""
    if len(expected) != 32:
        raise InvalidClaimError(DIGEST_CLAIM, "must be 32 bytes in base64url")
    if portrait.sha256 != expected:
        raise PortraitMismatchError(expected=expected, actual=portrait.sha256)
    return portrait
