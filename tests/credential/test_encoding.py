from __future__ import annotations

import time
import zlib

import pytest

from credential.encoding import b64url_decode, b64url_encode, inflate, json_dumps, json_loads
from credential.errors import MalformedError, TooLargeError


def test_b64url_round_trip_without_padding() -> None:
    for data in (b"", b"f", b"fo", b"foo", bytes(range(256))):
        text = b64url_encode(data)
        assert "=" not in text
        assert b64url_decode(text) == data


@pytest.mark.parametrize("text", ["Zm9v=", "Zm9v+", "Zm/v", "Z", "Zm9 v", "Zh", "Zm9"])
def test_b64url_decode_is_strict(text: str) -> None:
    # "Zh" decodes to b"f" only by ignoring set trailing bits: a second spelling of "Zg".
    with pytest.raises(MalformedError):
        b64url_decode(text)


def test_json_dumps_keeps_chinese_as_utf8() -> None:
    assert json_dumps({"name": "张伟"}) == '{"name":"张伟"}'.encode()


def test_json_loads_rejects_duplicate_keys() -> None:
    with pytest.raises(MalformedError, match="duplicate"):
        json_loads('{"exp": 1, "exp": 2}', max_size=100)


def test_json_loads_rejects_nan_and_infinity() -> None:
    for text in ('{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}'):
        with pytest.raises(MalformedError):
            json_loads(text, max_size=100)


def test_json_loads_caps_size_before_parsing() -> None:
    with pytest.raises(TooLargeError):
        json_loads(b"[" + b"1," * 1000 + b"1]", max_size=1000)


def test_json_loads_rejects_deep_nesting_quickly() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    start = time.perf_counter()
    with pytest.raises(MalformedError, match="deeper"):
        json_loads(deep, max_size=1_000_000)
    assert time.perf_counter() - start < 1.0  # no recursion into 100k levels


def test_json_loads_counts_brackets_inside_strings_as_text() -> None:
    assert json_loads('{"a": "[[[[[[[[[[[[[[[[[[[[[[["}', max_size=100) == {"a": "[" * 23}


def test_json_loads_rejects_invalid_utf8() -> None:
    with pytest.raises(MalformedError):
        json_loads(b'{"a": "\xff"}', max_size=100)


def test_inflate_round_trip() -> None:
    assert inflate(zlib.compress(b"abc" * 100, 9), max_size=300) == b"abc" * 100


def test_inflate_stops_a_deflate_bomb_early() -> None:
    bomb = zlib.compress(b"\0" * (256 * 1024 * 1024), 9)  # 256 MiB of zeros in ~250 kB
    start = time.perf_counter()
    with pytest.raises(TooLargeError):
        inflate(bomb, max_size=8192)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "data",
    [b"not zlib", zlib.compress(b"abc")[:-3], zlib.compress(b"abc") + b"junk"],
    ids=["garbage", "truncated", "trailing"],
)
def test_inflate_rejects_bad_streams(data: bytes) -> None:
    with pytest.raises(MalformedError):
        inflate(data, max_size=100)
