"""RFC 9901 selective disclosure, independent of what the claims mean: disclosures, digests, unpacking.

A disclosure is base64url(UTF-8 JSON [salt, name, value]) for an object property or [salt, value] for an
array element; its digest is base64url(SHA-256(the ASCII of the disclosure string)). The verifier side
(``unpack``) applies RFC 9901 §7.1 strictly: every rule violation is a MalformedError.
"""

from __future__ import annotations

import binascii
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring as _json_string
from typing import Any, NamedTuple

from credential.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from credential.errors import MalformedError

SD_ALG = "sha-256"
SD_KEY = "_sd"
SD_ALG_KEY = "_sd_alg"
ARRAY_KEY = "..."
SALT_BYTES = 16  # 128 bits, RFC 9901 §9.3
# Nesting across disclosures (a disclosed object holding digests of further disclosures...) is bounded here:
# each disclosure's JSON depth is capped on parsing, but a chain of 900 of them would exhaust the stack.
MAX_DEPTH = 32


def new_salt() -> str:
    return b64url_encode(secrets.token_bytes(SALT_BYTES))


def new_salts(count: int) -> list[str]:
    """``count`` salts as ``new_salt`` makes them, from one call to the system's CSPRNG."""
    raw = secrets.token_bytes(SALT_BYTES * count)
    return [b64url_encode(raw[start : start + SALT_BYTES]) for start in range(0, len(raw), SALT_BYTES)]


def salts_and_decoys(salts: int, decoys: int) -> tuple[list[str], list[str]]:
    """``new_salts(salts)`` and ``decoy_digests(decoys)`` from one call to the system's CSPRNG (a system call
    is a good part of issuing's cost); each salt and each decoy has its own 16 bytes of it."""
    raw = secrets.token_bytes(SALT_BYTES * (salts + decoys))
    split = SALT_BYTES * salts
    salt_texts = [b64url_encode(raw[start : start + SALT_BYTES]) for start in range(0, split, SALT_BYTES)]
    decoy_texts = [b64url_encode(hashlib.sha256(raw[start : start + SALT_BYTES]).digest())
                   for start in range(split, len(raw), SALT_BYTES)]
    return salt_texts, decoy_texts


def digest(disclosure: str) -> str:
    return b64url_encode(hashlib.sha256(disclosure.encode("ascii")).digest())


def decoy_digest() -> str:
    """A digest of random bytes: indistinguishable from a real one, matches no disclosure."""
    return b64url_encode(hashlib.sha256(secrets.token_bytes(SALT_BYTES)).digest())


def decoy_digests(count: int) -> list[str]:
    """``count`` decoy digests as ``decoy_digest`` makes them, from one call to the system's CSPRNG."""
    raw = secrets.token_bytes(SALT_BYTES * count)
    return [b64url_encode(hashlib.sha256(raw[start : start + SALT_BYTES]).digest())
            for start in range(0, len(raw), SALT_BYTES)]


def encode_disclosure(salt: str, name: str | None, value: Any) -> str:
    """An object-property disclosure, or an array-element one when ``name`` is None."""
    if name in (SD_KEY, ARRAY_KEY):
        raise MalformedError(f"a disclosed claim may not be called {name!r}")
    if type(salt) is str and type(name) is str and (type(value) is str or type(value) is int):
        # What json_dumps makes of [salt, name, value] for these exact types, without building an encoder:
        # JSONEncoder(ensure_ascii=False) writes strings with encode_basestring and ints with int.__repr__.
        item = _json_string(value) if type(value) is str else int.__repr__(value)
        text = f"[{_json_string(salt)},{_json_string(name)},{item}]"  # one string build, not four
        return b64url_encode(text.encode("utf-8"))
    contents = [salt, value] if name is None else [salt, name, value]
    return b64url_encode(json_dumps(contents))


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def disclose(salts: Sequence[str], claims: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """([encode_disclosure(salt, name, value)], [digest of each]) for the claims in order, one salt each.

    The issuer's loop: a string claim is written, encoded and hashed inline (b64url_encode's steps, without
    the bytes -> str -> bytes round trip between the disclosure and its digest); any other goes the long way.
    """
    if len(salts) != len(claims):
        raise ValueError("one salt per claim")
    b2a, sha256, urlsafe = binascii.b2a_base64, hashlib.sha256, _URLSAFE
    disclosures, digests = [], []
    for salt, (name, value) in zip(salts, claims.items(), strict=True):
        if type(salt) is str and type(name) is str and type(value) is str and name not in (SD_KEY, ARRAY_KEY):
            text = f"[{_json_string(salt)},{_json_string(name)},{_json_string(value)}]"
            encoded = b2a(text.encode("utf-8")).rstrip(b"=\n").translate(urlsafe)
            disclosure = encoded.decode("ascii")
        else:
            disclosure = encode_disclosure(salt, name, value)
            encoded = disclosure.encode("ascii")
        disclosures.append(disclosure)
        digests.append(b2a(sha256(encoded).digest()).rstrip(b"=\n").translate(urlsafe).decode("ascii"))
    return disclosures, digests


class Disclosure(NamedTuple):  # immutable; a tuple builds in a tenth of a frozen dataclass's time
    text: str  # the base64url string as received: digests are over it, never over a re-encoding
    digest: str
    salt: str
    name: str | None  # None for an array element
    value: Any


# The shape nearly every disclosure has: an array of strings without escapes (their text is their value)
# and at most a small integer last. JSON whitespace [ \t\n\r] may sit between tokens; a string stops at a
# quote or backslash and, as the strict json decoder has it, refuses control characters. Anything else
# (escapes, objects, floats, true, a long integer...) does not match and goes to the general parser.
_WS = r"[ \t\n\r]*"
_STRING = r'"([^"\\\x00-\x1f]*)"'
_SIMPLE_DISCLOSURE = re.compile(
    rf"{_WS}\[{_WS}{_STRING}{_WS},{_WS}(?:{_STRING}{_WS},{_WS})?(?:{_STRING}|(-?(?:0|[1-9][0-9]{{0,17}}))){_WS}\]{_WS}"
)


def decode_disclosure(text: str, *, max_size: int) -> Disclosure:
    data = b64url_decode(text)
    match = None
    if len(data) <= max_size:  # otherwise json_loads below raises TooLargeError
        try:
            match = _SIMPLE_DISCLOSURE.fullmatch(data.decode("utf-8"))
        except UnicodeDecodeError:
            pass  # json_loads below raises MalformedError
    if match is not None:
        salt, name, string, number = match.groups()
        value: Any = string if number is None else int(number)
    else:
        contents = json_loads(data, max_size=max_size)
        if not isinstance(contents, list) or len(contents) not in (2, 3):
            raise MalformedError("a disclosure is a JSON array of 2 or 3 elements")
        salt = contents[0]
        if not isinstance(salt, str):
            raise MalformedError("disclosure salt must be a string")
        if len(contents) == 2:
            return Disclosure(text, digest(text), salt, None, contents[1])
        name, value = contents[1], contents[2]
        if not isinstance(name, str):
            raise MalformedError("disclosed claim name must be a string")
    if name in (SD_KEY, ARRAY_KEY):
        raise MalformedError(f"a disclosed claim may not be called {name!r}")
    return Disclosure(text, digest(text), salt, name, value)


_CONTAINERS = (dict, list)


class _Unpacker:
    def __init__(self, disclosures: Sequence[Disclosure]) -> None:
        self.by_digest: dict[str, Disclosure] = {}
        for disclosure in disclosures:
            if disclosure.digest in self.by_digest:
                raise MalformedError("the same disclosure is presented twice")
            self.by_digest[disclosure.digest] = disclosure
        self.seen: set[str] = set()
        self.used: set[str] = set()

    def lookup(self, value: object) -> Disclosure | None:
        if not isinstance(value, str):
            raise MalformedError("a digest must be a string")
        if value in self.seen:
            raise MalformedError("a digest appears twice")
        self.seen.add(value)
        found = self.by_digest.get(value)
        if found is not None:
            self.used.add(value)
        return found  # None: a decoy, or a claim the holder did not disclose

    def value(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise MalformedError(f"claims nested deeper than {MAX_DEPTH}")
        if isinstance(node, dict):
            return self.object(node, depth)
        if isinstance(node, list):
            return self.array(node, depth)
        return node

    def object(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth > 0 and SD_ALG_KEY in node:  # RFC 9901 §4.1.1: only at the top level of the payload
            raise MalformedError(f"{SD_ALG_KEY} is allowed only at the top level")
        inner = depth + 1
        # A scalar one level down is its own value unless that level is already too deep: then self.value
        # raises, at the same point of the walk as before.
        shallow = inner <= MAX_DEPTH
        out: dict[str, Any] = {}
        for name, value in node.items():
            if name != SD_KEY:
                out[name] = value if shallow and not isinstance(value, _CONTAINERS) else self.value(value, inner)
        digests = node.get(SD_KEY, [])
        if not isinstance(digests, list):
            raise MalformedError("_sd must be an array")
        seen, by_digest = self.seen, self.by_digest
        for item in digests:
            # self.lookup(item), inline: one call per digest (decoys included) is a good part of the walk.
            if type(item) is not str or item in seen:
                disclosure = self.lookup(item)  # raises: not a string, or a digest seen before
            else:
                seen.add(item)
                disclosure = by_digest.get(item)
            if disclosure is None:
                continue
            self.used.add(item)
            claim, value = disclosure.name, disclosure.value
            if claim is None:
                raise MalformedError("an array-element disclosure is referenced from _sd")
            if claim == SD_ALG_KEY:
                raise MalformedError(f"{SD_ALG_KEY} cannot be selectively disclosed")
            if claim in out:
                raise MalformedError(f"claim {claim!r} is already present")
            out[claim] = value if shallow and not isinstance(value, _CONTAINERS) else self.value(value, inner)
        return out

    def array(self, node: list[Any], depth: int) -> list[Any]:
        out = []
        for element in node:
            if isinstance(element, dict) and len(element) == 1 and ARRAY_KEY in element:
                disclosure = self.lookup(element[ARRAY_KEY])
                if disclosure is None:
                    continue  # unmatched "..." entries are removed
                if disclosure.name is not None:
                    raise MalformedError("an object-property disclosure is referenced from an array")
                out.append(self.value(disclosure.value, depth + 1))
            else:
                out.append(self.value(element, depth + 1))
        return out


def unpack(payload: dict[str, Any], disclosures: Sequence[Disclosure]) -> dict[str, Any]:
    """Replace digests by the disclosed claims; drop _sd, _sd_alg and decoys.

    Rejects a digest seen twice, a disclosure presented twice, a name clash, a disclosure of the wrong
    shape for its place, and any disclosure the payload (or another disclosure) does not reference.
    """
    unpacker = _Unpacker(disclosures)
    claims = unpacker.object(payload, 0)
    claims.pop(SD_ALG_KEY, None)
    if unpacker.used != set(unpacker.by_digest):
        raise MalformedError("a disclosure is not referenced by the SD-JWT")
    return claims


def without_digests(node: Any) -> Any:
    """``node`` as it reads with nothing disclosed: _sd keys and every "..." array element removed.

    A value equal to this after ``unpack`` had no disclosure inside it (decoys alone do not count).
    """
    if isinstance(node, dict):
        return {name: without_digests(value) for name, value in node.items() if name != SD_KEY}
    if isinstance(node, list):
        return [
            without_digests(element) for element in node
            if not (isinstance(element, dict) and len(element) == 1 and ARRAY_KEY in element)
        ]
    return node
