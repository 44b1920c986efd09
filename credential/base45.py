"""Base45 (RFC 9285): bytes as QR alphanumeric-mode characters, so a QR stores 5.5 bits per character.

Decoding is strict: every character must be in the alphabet, the length must not leave a single
character, and each group must be in range, so one byte string has exactly one spelling.
"""

from __future__ import annotations

from credential.errors import MalformedError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {char: value for value, char in enumerate(ALPHABET)}


def b45encode(data: bytes) -> str:
    out: list[str] = []
    for start in range(0, len(data) - 1, 2):
        n = data[start] * 256 + data[start + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


# Byte -> digit value; 0xFF marks a byte outside the alphabet (no digit is that large).
_INVALID = 0xFF
_DIGITS = bytes(ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256))


def _triples(digits: bytes, count: int) -> bytes:
    """``count`` triples c, d, e -> c + 45d + 2025e as 2 big-endian bytes each, with no Python loop.

    Each digit is placed in the low byte of a 32-bit big-endian lane of one big integer, so one
    multiply-add computes every triple at once: a lane is at most 44 * 2071 = 91124 < 2**24, so no lane
    carries into the next and each lane's top byte stays zero."""
    full = 3 * count
    lanes = bytearray(4 * count)
    lanes[3::4] = digits[0:full:3]
    c = int.from_bytes(lanes, "big")
    lanes[3::4] = digits[1:full:3]
    d = int.from_bytes(lanes, "big")
    lanes[3::4] = digits[2:full:3]
    e = int.from_bytes(lanes, "big")
    values = (c + 45 * d + 2025 * e).to_bytes(4 * count, "big")
    if values[1::4].count(0) != count:  # some lane is above 0xFFFF
        raise MalformedError("base45 triple out of range")
    out = bytearray(2 * count)
    out[0::2] = values[2::4]
    out[1::2] = values[3::4]
    return bytes(out)


def b45decode(text: str) -> bytes:
    """Decode base45 text; anything that is not the canonical encoding of some bytes is malformed."""
    if not isinstance(text, str):
        raise MalformedError("base45 input must be text")
    if len(text) % 3 == 1:
        raise MalformedError("invalid base45 length")
    if not text.isascii():
        raise MalformedError("invalid base45 character")
    digits = text.encode("ascii").translate(_DIGITS)
    if _INVALID in digits:
        raise MalformedError("invalid base45 character")
    count = len(digits) // 3
    out = _triples(digits, count) if count else b""
    if len(digits) % 3:
        n = digits[-2] + digits[-1] * 45
        if n > 0xFF:
            raise MalformedError("base45 pair out of range")
        out += bytes((n,))
    return out
