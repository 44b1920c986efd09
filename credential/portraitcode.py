"""The portrait code: the holder's portrait bytes P in a second QR symbol, shown beside the live QR.

The pass signs SHA-256(P) (``portrait_sha256``, claim 13); the portrait code carries P itself, unsigned, so
that one camera frame holds the pass and the face it vouches for. A verifier shows the face only once
SHA-256(P) equals the signed digest of a pass whose signature verified: any other image is not the holder's.

The content is P as it is, in QR byte mode. Byte mode stores 8 bits a byte; base45 in alphanumeric mode
stores 2 bytes in 3 characters of 5.5 bits, 8.25 bits a byte, so byte mode is the smaller symbol for every
portrait (docs/portrait.md, "The portrait code", measures both). No prefix is needed: P's own magic bytes
(JPEG, WebP, AVIF, PNG) say what it is, and no pass text ("EP1:") begins with one of them. A decoder must
hand over the symbol's raw bytes (zxing-cpp ``Barcode.bytes``, zxing-wasm ``bytes``), never its text.
web/src/portraitcode.js is the twin of this module; both are tested against tests/vectors/portrait_codes.json.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from credential.errors import CredentialError, InvalidClaimError, MalformedError, TooLargeError
from credential.portrait import MEDIA_TYPES
from credential.portrait import media_type_of as picture_media_type

# The most bytes one QR symbol holds (version 40, level L, byte mode): nothing larger was ever a portrait code,
# and the cap bounds what is hashed or handed to an image decoder.
MAX_PORTRAIT_CODE = 2953


class PortraitCheck(enum.StrEnum):
    """What a scan says of the portrait (``portrait`` in ``epermit verify --json``)."""

    VERIFIED = "verified"  # a portrait code whose SHA-256 is the digest a verified pass signs
    ABSENT = "absent"  # no portrait code was scanned
    MISMATCH = "mismatch"  # a portrait code was scanned, and no verified pass signs its digest


@dataclass(frozen=True)
class PortraitOutcome:
    check: PortraitCheck
    reason: str
    media_type: str | None = None  # only when verified
    image: bytes | None = None  # P, only when verified: nothing else may be shown as the holder's face


def media_type_of(data: bytes) -> str | None:
    """The media type whose magic ``data`` begins with (credential.portrait's allow-list), or None."""
    try:
        return picture_media_type(data)
    except InvalidClaimError:
        return None


def is_portrait_code(content: bytes) -> bool:
    """Whether a QR symbol's raw bytes look like a portrait code (so a frame's symbols can be sorted)."""
    return media_type_of(content) is not None


def encode_portrait_code(portrait: bytes) -> bytes:
    """The byte-mode content of the portrait code for P (P itself, once its size and type are checked)."""
    if len(portrait) > MAX_PORTRAIT_CODE:
        raise TooLargeError("portrait", MAX_PORTRAIT_CODE)
    if media_type_of(portrait) is None:
        raise MalformedError(f"portrait is not one of {', '.join(MEDIA_TYPES)}")
    return portrait


def decode_portrait_code(content: bytes) -> tuple[str, bytes]:
    """(media type, P) of a portrait code's raw bytes; size capped before anything else is looked at."""
    if len(content) > MAX_PORTRAIT_CODE:
        raise TooLargeError("portrait code", MAX_PORTRAIT_CODE)
    media_type = media_type_of(content)
    if media_type is None:
        raise MalformedError(f"portrait code is not one of {', '.join(MEDIA_TYPES)}")
    return media_type, bytes(content)


def check_portrait(codes: Sequence[bytes], signed_digest: bytes | None) -> PortraitOutcome:
    """Judge the scanned portrait codes against the digest a verified pass signs (None: the pass signs none,
    or its signature did not verify). Never raises: every fault is a MISMATCH with its reason."""
    if not codes:
        reason = ("no portrait code scanned: compare the holder with the physical card" if signed_digest
                  else "no portrait code scanned")
        return PortraitOutcome(PortraitCheck.ABSENT, reason)
    if signed_digest is None:
        return PortraitOutcome(PortraitCheck.MISMATCH, "no verified pass signs a portrait: the image is not the "
                                                       "holder's face")
    reason = "the portrait's SHA-256 is not the digest the pass signs: the image is not the holder's face"
    for content in codes:
        try:
            media_type, image = decode_portrait_code(content)
        except CredentialError as exc:
            reason = f"unreadable portrait code: {exc}"
            continue
        if hmac.compare_digest(hashlib.sha256(image).digest(), signed_digest):
            return PortraitOutcome(PortraitCheck.VERIFIED, "the portrait is the one the pass signs", media_type, image)
    return PortraitOutcome(PortraitCheck.MISMATCH, reason)


__all__ = [
    "MAX_PORTRAIT_CODE",
    "MEDIA_TYPES",
    "PortraitCheck",
    "PortraitOutcome",
    "check_portrait",
    "decode_portrait_code",
    "encode_portrait_code",
    "is_portrait_code",
    "media_type_of",
]
