"""RFC 9901 golden vectors and the disclosure codec."""

from __future__ import annotations

import json

import pytest

from credential.disclosures import (
    decode_disclosure,
    decoy_digest,
    digest,
    encode_disclosure,
    new_salt,
    unpack,
)
from credential.encoding import b64url_decode, b64url_encode
from credential.errors import MalformedError
from tests.credential.rfc9901 import FAMILY_NAME, FAMILY_NAME_DIGEST, FR, FR_DIGEST

# RFC 9901 §4.2.1 and §4.2.2 (research/standards.md §1a).
RFC_PROPERTY, RFC_PROPERTY_DIGEST = FAMILY_NAME, FAMILY_NAME_DIGEST
RFC_ELEMENT, RFC_ELEMENT_DIGEST = FR, FR_DIGEST

# draft-ietf-oauth-sd-jwt-vc example 01 (contents as printed, Python json.dumps default separators).
VC_EXAMPLE = [
    (["2GLC42sKQveCfGfryNRN9w", "given_name", "John"], "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"),
    (["eluV5Og3gSNII8EYnsxA_A", "family_name", "Doe"], "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo"),
    (["AJx-095VPrpTtN4QMOqROA", "birthdate", "1940-01-01"], "jdrTE8YcbY4EifugihiAe_BPekxJQZICeiUQwY9QqxI"),
    (["Pc33JM2LchcU_lHggv_ufQ", "is_over_18", True], "09vKrJMOlyTWM0sjpu_pdOBVBQ2M1y3KhpH515nXkpY"),
]


def test_rfc9901_object_property_vector() -> None:
    assert digest(RFC_PROPERTY) == RFC_PROPERTY_DIGEST
    decoded = decode_disclosure(RFC_PROPERTY, max_size=1024)
    assert (decoded.salt, decoded.name, decoded.value) == ("_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius")
    assert decoded.digest == RFC_PROPERTY_DIGEST


def test_rfc9901_array_element_vector() -> None:
    decoded = decode_disclosure(RFC_ELEMENT, max_size=1024)
    assert (decoded.salt, decoded.name, decoded.value) == ("lklxF5jMYlGTPUovMNIvCA", None, "FR")
    assert decoded.digest == RFC_ELEMENT_DIGEST


@pytest.mark.parametrize(("contents", "expected"), VC_EXAMPLE)
def test_sd_jwt_vc_example_digests(contents: list[object], expected: str) -> None:
    text = b64url_encode(json.dumps(contents, ensure_ascii=False).encode())
    assert digest(text) == expected


def test_rfc_vectors_unpack() -> None:
    payload = {"_sd": [RFC_PROPERTY_DIGEST], "nationalities": [{"...": RFC_ELEMENT_DIGEST}, "DE"]}
    disclosures = [decode_disclosure(d, max_size=1024) for d in (RFC_PROPERTY, RFC_ELEMENT)]
    assert unpack(payload, disclosures) == {"family_name": "Möbius", "nationalities": ["FR", "DE"]}


def test_encode_is_compact_utf8_and_round_trips() -> None:
    salt = new_salt()
    text = encode_disclosure(salt, "name", "张伟")
    assert b64url_decode(text) == f'["{salt}","name","张伟"]'.encode()
    decoded = decode_disclosure(text, max_size=1024)
    assert (decoded.name, decoded.value) == ("name", "张伟")
    assert decode_disclosure(encode_disclosure(salt, None, 5), max_size=1024).name is None


def test_salts_and_decoys_are_fresh_128_bit_values() -> None:
    salts = {new_salt() for _ in range(100)}
    assert len(salts) == 100 and all(len(b64url_decode(s)) == 16 for s in salts)
    decoys = {decoy_digest() for _ in range(100)}
    assert len(decoys) == 100 and all(len(b64url_decode(d)) == 32 for d in decoys)


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_encode_refuses_reserved_names(name: str) -> None:
    with pytest.raises(MalformedError):
        encode_disclosure(new_salt(), name, 1)


def test_decode_caps_size() -> None:
    with pytest.raises(MalformedError):
        decode_disclosure(encode_disclosure(new_salt(), "x", "y" * 2000), max_size=1024)
