from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credential.base45 import ALPHABET, b45decode, b45encode
from credential.errors import MalformedError

RFC_9285_EXAMPLES = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
    (b"", ""),
    (b"\x00\x00", "000"),
    (b"\xff\xff", "FGW"),  # 65535: the largest triple
    (b"\xff", "U5"),  # 255: the largest pair
]


@pytest.mark.parametrize(("raw", "text"), RFC_9285_EXAMPLES)
def test_rfc_9285_examples(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw


@pytest.mark.parametrize(
    "text",
    [
        "A",  # one character left over
        "BB8B",  # length 4: mod 3 == 1
        "GGW",  # 16 + 16*45 + 32*45^2 = 65536: triple out of range
        "ZZZ",  # 35 + 35*45 + 35*2025 = 72485
        "V5",  # 31 + 5*45 = 256: pair out of range
        "::",  # 44 + 44*45 = 2024
        "bb8",  # lower case is not in the alphabet
        "BB#",
        "BB8\n",
        "ÄB8",
    ],
)
def test_malformed_input_is_rejected(text: str) -> None:
    with pytest.raises(MalformedError):
        b45decode(text)


def test_non_text_is_rejected() -> None:
    with pytest.raises(MalformedError):
        b45decode(b"BB8")  # type: ignore[arg-type]


def test_alphabet_is_qr_alphanumeric_mode() -> None:
    assert len(ALPHABET) == 45 and len(set(ALPHABET)) == 45


@given(st.binary(max_size=300))
def test_round_trip(raw: bytes) -> None:
    text = b45encode(raw)
    assert set(text) <= set(ALPHABET)
    assert len(text) == len(raw) // 2 * 3 + len(raw) % 2 * 2
    assert b45decode(text) == raw


@given(st.text(alphabet=ALPHABET + "ab#\x00", max_size=40))
def test_decode_is_canonical_or_rejects(text: str) -> None:
    try:
        raw = b45decode(text)
    except MalformedError:
        return
    assert b45encode(raw) == text  # one byte string, one spelling
