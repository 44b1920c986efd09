"""Byte-level encodings shared by every format: base64url, bounded JSON, capped inflation."""

from __future__ import annotations

import binascii
import json
import re
import zlib
from collections.abc import Callable
from typing import Any

from credential.errors import MalformedError, TooLargeError

MAX_JSON_DEPTH = 16
_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_NOT_B64URL = bytes(sorted(set(range(256)) - set(_B64URL_ALPHABET.encode("ascii"))))
# Unused low bits of the last character by len % 4: they must be zero, or the text is a second spelling.
_TAIL_MASK = {0: 0, 2: 0b1111, 3: 0b11}
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_PADDING = {0: b"", 2: b"==", 3: b"="}
_SEXTET = {char: value for value, char in enumerate(_B64URL_ALPHABET)}


def b64url_encode(data: bytes) -> str:
    # base64.urlsafe_b64encode is exactly b2a_base64 + this translation, behind two Python-level calls; the
    # newline b2a_base64 ends with goes with the padding (cheaper than parsing a newline=False keyword).
    return binascii.b2a_base64(data).rstrip(b"=\n").translate(_URLSAFE).decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding: any other character, or a non-canonical tail, is malformed."""
    if not isinstance(text, str) or not text.isascii() or len(text) % 4 == 1:
        raise MalformedError("invalid base64url")
    raw = text.encode("ascii")
    # One pass maps - and _ to + and / and drops every byte outside the alphabet: the text is of
    # [A-Za-z0-9_-]* exactly when nothing was dropped (a few times the speed of that regular expression).
    standard = raw.translate(_FROM_URLSAFE, _NOT_B64URL)
    if len(standard) != len(raw):
        raise MalformedError("invalid base64url")
    try:
        # urlsafe_b64decode, minus its Python-level wrappers: the text is ASCII of the alphabet (checked).
        data = binascii.a2b_base64(standard + _PADDING[len(text) % 4])
    except (binascii.Error, ValueError) as exc:
        raise MalformedError("invalid base64url") from exc
    if text and _SEXTET[text[-1]] & _TAIL_MASK[len(text) % 4]:
        raise MalformedError("non-canonical base64url")  # unused trailing bits set: a second spelling
    return data


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)  # built in C; fewer entries than pairs means a key came twice
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:  # name the first repeated key, as a key-by-key build would have
            if key in seen:
                raise MalformedError(f"duplicate JSON key {key!r}")
            seen.add(key)
    return obj


def _reject_constant(name: str) -> Any:
    raise MalformedError(f"JSON constant {name} is not allowed")


# Built once: json.dumps/json.loads with non-default options construct a new encoder/decoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)


def json_dumps(obj: object) -> bytes:
    """UTF-8 JSON without \\u escapes for 汉字 (DESIGN §9: they cost 19 % in size) and without NaN."""
    return _ENCODER.encode(obj).encode("utf-8")


def _check_depth(text: str, limit: int) -> None:
    # Counted before json builds anything, so a deep input costs one linear scan and no recursion.
    if text.count("[") + text.count("{") <= limit:  # fewer openings than the limit: cannot be deeper
        return
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                raise MalformedError(f"JSON nested deeper than {limit}")
        else:
            depth -= 1


# The pattern is "[ \t\n\r]*": it always matches, so its match is never None.
_WHITESPACE: Callable[[str, int], re.Match[str]] = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _decode(text: str) -> Any:
    """Exactly _DECODER.decode(text) (json.JSONDecoder.decode and raw_decode, inlined: two frames fewer)."""
    start = _WHITESPACE(text, 0).end()
    try:
        obj, end = _SCAN(text, start)
    except StopIteration as err:
        raise json.JSONDecodeError("Expecting value", text, err.value) from None
    end = _WHITESPACE(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return obj


def json_loads(data: bytes | str, *, max_size: int) -> Any:
    """Parse untrusted JSON: size cap first, then depth, duplicate keys and NaN are rejected."""
    if len(data) > max_size:
        raise TooLargeError("JSON", max_size)
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedError("JSON is not UTF-8") from exc
    else:
        text = data
    _check_depth(text, MAX_JSON_DEPTH)
    try:
        return _decode(text)
    except MalformedError:
        raise
    except ValueError as exc:
        raise MalformedError(f"invalid JSON: {exc.msg if isinstance(exc, json.JSONDecodeError) else exc}") from exc
    except RecursionError as exc:  # pragma: no cover - depth is checked first
        raise MalformedError("JSON nested too deeply") from exc


def inflate(data: bytes, *, max_size: int) -> bytes:
    """Inflate zlib (RFC 1950) data, never producing more than ``max_size`` bytes (a deflate bomb stops early)."""
    decompressor = zlib.decompressobj()
    try:
        out = decompressor.decompress(data, max_size + 1)
    except zlib.error as exc:
        raise MalformedError("invalid zlib data") from exc
    if len(out) > max_size or decompressor.unconsumed_tail:
        raise TooLargeError("inflated data", max_size)
    if not decompressor.eof:
        raise MalformedError("truncated zlib data")
    if decompressor.unused_data:
        raise MalformedError("trailing bytes after zlib data")
    return out
