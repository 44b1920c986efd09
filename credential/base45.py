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


def _values(text: str) -> list[int]:
    try:
        return [_VALUE[char] for char in text]
    except KeyError as exc:
        raise MalformedError("invalid base45 character") from exc


def b45decode(text: str) -> bytes:
    """Decode base45 text; anything that is not the canonical encoding of some bytes is malformed."""
    if not isinstance(text, str):
        raise MalformedError("base45 input must be text")
    if len(text) % 3 == 1:
        raise MalformedError("invalid base45 length")
    values = _values(text)
    out = bytearray()
    full = len(values) - len(values) % 3
    for start in range(0, full, 3):
        c, d, e = values[start : start + 3]
        n = c + d * 45 + e * 45 * 45
        if n > 0xFFFF:
            raise MalformedError("base45 triple out of range")
        out += n.to_bytes(2, "big")
    if full < len(values):
        c, d = values[full:]
        n = c + d * 45
        if n > 0xFF:
            raise MalformedError("base45 pair out of range")
        out.append(n)
    return bytes(out)
