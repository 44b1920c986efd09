"""RFC 4648 base64url without padding as the standard library reads it: the oracle for our strict decoder.

Nothing here restates how credential.encoding decodes; a text's meaning comes from ``base64`` and its
canonical spelling from re-encoding with ``base64``, so a change to our decoder needs no edit here.
"""

from __future__ import annotations

import base64
import binascii
import string

# RFC 4648 §5, Table 2: the URL and filename safe alphabet.
URLSAFE_ALPHABET = frozenset(string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_")

# RFC 4648 §10 test vectors, unpadded (RFC 7515 §2 base64url drops the "=").
RFC_4648_VECTORS = [
    (b"", ""),
    (b"f", "Zg"),
    (b"fo", "Zm8"),
    (b"foo", "Zm9v"),
    (b"foob", "Zm9vYg"),
    (b"fooba", "Zm9vYmE"),
    (b"foobar", "Zm9vYmFy"),
    (b"\xfb\xff", "-_8"),  # the two characters where base64url differs from base64 ("+/8=")
]


def stdlib_decode(text: str) -> bytes | None:
    """What the standard library decodes ``text`` to as unpadded base64url; None if it is not base64url at all."""
    if not set(text) <= URLSAFE_ALPHABET:
        return None  # base64.urlsafe_b64decode would silently drop such characters
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:  # a length of 4n + 1: no byte string has it
        return None


def stdlib_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def is_canonical(text: str) -> bool:
    """``text`` is the one spelling of some bytes (its unused trailing bits are zero, RFC 4648 §3.5)."""
    data = stdlib_decode(text)
    return data is not None and stdlib_encode(data) == text
