"""The fast paths of issue 19 (a live scan nearer its floor, SD-JWT issue and verify) against the general code.

As in test_fast_paths.py, no test keeps a copy of an implementation: the COSE_Sign1 decoder is judged by
cbor_loads (cbor2 plus the plain-type rule and the re-encoding check) on encodings written here head by head,
shortest or not; lengths by cbor2's own encoding; JWK coordinates by ``public_numbers``; midnights by
``datetime``; the scan's one look at state.json by clock() and marks().
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from credential import cose, jwk, sdjwt
from credential.disclosures import SALT_BYTES, salts_and_decoys
from credential.encoding import b64url_decode
from credential.errors import CredentialError, MalformedError
from tests.credential.test_fast_paths import comparable, outcome
from verifier.cache import VerifierCache

# -- COSE_Sign1 messages: cbor_loads_sign1s is cbor_loads, whatever the bytes ------------------------------

# Byte strings around every head-size boundary (23/24, 255/256), and the widths a head may be written in.
LENGTHS = st.sampled_from([0, 1, 17, 23, 24, 64, 255, 256, 300])
WIDTHS = (None, 0, 1, 2, 4, 8)  # None: the shortest head; 0: in the initial byte (only for arguments < 24)


def head(major: int, argument: int, width: int | None) -> bytes:
    """A CBOR head: shortest (None), or the argument in at least ``width`` bytes after the initial byte."""
    shortest = 0 if argument < 24 else 1 if argument < 0x100 else 2 if argument < 0x10000 else 4
    width = shortest if width is None else max(width, shortest)
    if width == 0:
        return bytes([major << 5 | argument])
    info = {1: 24, 2: 25, 4: 26, 8: 27}[width]
    return bytes([major << 5 | info]) + argument.to_bytes(width, "big")


@st.composite
def sign1_encodings(draw: st.DrawFn) -> bytes:
    """One message or an array of them, [bstr, map, bstr, bstr] under tag 18 (or not), each head in any
    width (mostly the shortest): what a pass, a live pass or a forgery of either can look like."""

    def width() -> int | None:
        return draw(st.sampled_from(WIDTHS)) if draw(st.integers(0, 5)) == 0 else None

    def message() -> bytes:
        parts = [head(6, cose.COSE_SIGN1_TAG, width())] if draw(st.integers(0, 7)) else []
        parts.append(head(4, 4, width()))
        for index in range(4):
            if index == 1:
                unprotected = draw(st.sampled_from([{}, {}, {}, {4: b"k"}]))
                parts.append(head(5, len(unprotected), width()) + b"".join(
                    cbor2.dumps(key) + cbor2.dumps(value) for key, value in unprotected.items()))
            else:
                content = bytes(draw(LENGTHS))
                parts.append(head(2, len(content), width()) + content)
        return b"".join(parts)

    count = draw(st.integers(0, 3))
    data = message() if count == 0 else head(4, count, width()) + b"".join(message() for _ in range(count))
    return data + (b"\x00" if draw(st.integers(0, 9)) == 0 else b"")


@given(sign1_encodings())
@settings(max_examples=600)
def test_sign1s_decoder_is_cbor_loads(data: bytes) -> None:
    ours = outcome(lambda: cose.cbor_loads_sign1s(data, max_size=len(data)))
    theirs = outcome(lambda: cose.cbor_loads(data, max_size=len(data)))
    assert ours[0] == theirs[0]
    if ours[0] == "ok":
        assert comparable(ours[1]) == comparable(theirs[1])
    else:
        assert ours[1] == theirs[1]


@given(st.lists(st.binary(max_size=300), min_size=3, max_size=3))
def test_encoded_length_is_the_encoding_length(parts: list[bytes]) -> None:
    message = cose.Sign1({}, parts[0], parts[1], parts[2])
    assert cose.encoded_length(message) == len(message.encode()) == len(cbor2.dumps(message.to_item()))


def test_a_protected_header_read_again_is_a_fresh_copy_and_a_bad_one_fails_every_time() -> None:
    """Headers are decoded once per distinct bytes: what a caller does to its dict is not what the next
    message gets, and a header that is refused is refused again (errors are never kept)."""
    protected = cbor2.dumps({1: -7, 4: b"12345678", 16: 65001})
    first = cose._protected_header(protected, 8192)
    first[1] = -8
    assert cose._protected_header(protected, 8192) == {1: -7, 4: b"12345678", 16: 65001}
    for bad in (cbor2.dumps({1: -7, 2: [1]}), cbor2.dumps({1: -7, 99: 1}), b"\xa1\x01\x38\x06"):  # crit, unknown,
        for _ in range(2):  # a non-shortest -7
            with pytest.raises(CredentialError):
                cose._protected_header(bad, 8192)


# -- JWK: one export, and points parsed once ---------------------------------------------------------------


def test_public_jwk_coordinates_are_the_public_numbers() -> None:
    for _ in range(20):
        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        numbers = key.public_numbers()
        exported = jwk.public_jwk(key)
        assert exported == {"kty": "EC", "crv": "P-256", "x": exported["x"], "y": exported["y"]}
        assert b64url_decode(exported["x"]) == numbers.x.to_bytes(32, "big")
        assert b64url_decode(exported["y"]) == numbers.y.to_bytes(32, "big")
        assert jwk.load_public_jwk(exported) == key


def test_a_jwk_point_is_shared_but_a_bad_point_is_refused_every_time() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    exported = jwk.public_jwk(key)
    assert jwk.load_public_jwk(dict(exported)) is jwk.load_public_jwk(dict(exported))
    off_curve = {**exported, "y": "A" * 42 + "E"}  # y = 1: not on the curve
    for _ in range(2):
        with pytest.raises(MalformedError, match="not a valid public key"):
            jwk.load_public_jwk(off_curve)


# -- SD-JWT issuance: salts and decoys from one draw, midnights by arithmetic -------------------------------


@pytest.mark.parametrize(("salts", "decoys"), [(0, 0), (12, 3), (1, 0), (0, 5)])
def test_salts_and_decoys_are_as_many_and_as_long_as_asked(salts: int, decoys: int) -> None:
    salt_texts, decoy_texts = salts_and_decoys(salts, decoys)
    assert len(salt_texts) == salts and len(decoy_texts) == decoys
    assert all(len(b64url_decode(text)) == SALT_BYTES for text in salt_texts)
    assert all(len(b64url_decode(text)) == 32 for text in decoy_texts)  # a SHA-256 digest, as a real one
    assert len(set(salt_texts)) == salts and len(set(decoy_texts)) == decoys


@given(st.dates())
def test_day_start_is_the_datetime_midnight_in_beijing(day: datetime.date) -> None:
    expected = datetime.datetime.combine(day, datetime.time(0), tzinfo=sdjwt.CHINA_STANDARD_TIME).timestamp()
    assert sdjwt.day_start(day) == int(expected)


# -- the verifier cache: one look at state.json per scan ---------------------------------------------------

STATES: list[Any] = [
    None,  # no state file
    "not json",
    [1, 2],
    {"high_water": 2_000_000_000, "trust": {"version": 3, "iat": 1_900_000_000},
     "status": {"https://x.example/1": {"iat": 1_800_000_000, "fetched_at": 1}}},
    {"high_water": True, "status": []},
]


@pytest.mark.parametrize("state", STATES)
def test_scan_state_is_the_clock_and_the_marks(tmp_path: Path, state: Any) -> None:
    if state is not None:
        (tmp_path / "state.json").write_text(state if isinstance(state, str) else json.dumps(state))
    cache = VerifierCache(tmp_path)
    for now in (1_000_000_000, 2_000_000_000, 2_100_000_000):
        clock, marks = cache.scan_state(now, skew=60)
        assert clock == cache.clock(now, skew=60)
        assert marks == cache.marks()
