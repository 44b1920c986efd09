"""The fast paths of issue 8 against the specifications and independent peers, on generated inputs.

No test keeps a copy of an implementation: base64url is judged by the standard library's ``base64``
(tests/credential/rfc4648.py) and the RFC 4648 vectors, base45 by RFC 9285 (its vectors, and: the accepted
texts are exactly the encodings), JSON by ``json``, inflation by ``zlib``, CBOR by ``cbor2`` and the
accepted-types rule of credential.cose, dates by ``datetime``, text by the Unicode database, EC keys by
``cryptography``. A change to one of our codecs needs no second edit here.
"""

from __future__ import annotations

import base64
import datetime
import json
import unicodedata
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credential import cose, passclaims
from credential.base45 import ALPHABET, b45decode, b45encode
from credential.citizen_id import citizen_id_check_digit
from credential.disclosures import decoy_digests, encode_disclosure, new_salts
from credential.encoding import b64url_decode, b64url_encode, inflate, json_loads
from credential.errors import CredentialError, MalformedError, TooLargeError
from credential.jose import is_ec_public_key
from credential.model import _text
from tests.credential.rfc4648 import RFC_4648_VECTORS, URLSAFE_ALPHABET, is_canonical, stdlib_decode, stdlib_encode


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except CredentialError as exc:
        return type(exc).__name__, str(exc)


# -- base45 (RFC 9285) -----------------------------------------------------------------------------

# RFC 9285 §4: every 2 bytes are 3 characters on their own, so a repeated pair is its repeated triple:
# long known answers that run the many-triples path (the RFC's own examples are in test_base45.py).
LONG_BASE45 = [(b"AB" * 300, "BB8" * 300), (b"\x00\x00" * 300, "000" * 300), (b"\xff\xff" * 300, "FGW" * 300),
               (b"AB" * 200 + b"\xff", "BB8" * 200 + "U5")]


@pytest.mark.parametrize(("raw", "text"), LONG_BASE45, ids=["AB", "zeros", "largest-triples", "with-pair"])
def test_b45_long_known_answers(raw: bytes, text: str) -> None:
    assert b45encode(raw) == text
    assert b45decode(text) == raw


@given(st.binary(max_size=700))
def test_b45_round_trip_long(raw: bytes) -> None:
    assert b45decode(b45encode(raw)) == raw


base45_texts = st.text(alphabet=ALPHABET, max_size=60) | st.text(alphabet=ALPHABET + "a#\n\u00c4\u00ff", max_size=12)


@given(base45_texts)
@settings(max_examples=500)
def test_b45decode_accepts_exactly_the_encodings(text: str) -> None:
    # With the round trip above: what decodes is an encoding and every encoding decodes (RFC 9285 §4.2 gives
    # one spelling per byte string). A refusal names its reason: length, character, or a group's range.
    result = outcome(lambda: b45decode(text))
    if result[0] == "ok":
        assert b45encode(result[1]) == text
        return
    assert result[0] == "MalformedError"
    if len(text) % 3 == 1:
        assert "length" in result[1]
    elif not set(text) <= set(ALPHABET):
        assert "character" in result[1]
    else:
        assert "out of range" in result[1]


@pytest.mark.parametrize("text", ["GGW" * 5, "FGW" * 3 + "GGW", "FGWV5", "000" * 300 + "ZZZ"])
def test_b45_range_errors_anywhere(text: str) -> None:
    with pytest.raises(MalformedError, match="out of range"):
        b45decode(text)


# -- base64url (RFC 4648 §5, unpadded) -------------------------------------------------------------


@pytest.mark.parametrize(("raw", "text"), RFC_4648_VECTORS)
def test_b64url_rfc_4648_vectors(raw: bytes, text: str) -> None:
    assert b64url_encode(raw) == text
    assert b64url_decode(text) == raw


b64_texts = (st.text(alphabet="".join(sorted(URLSAFE_ALPHABET)) + "=+/ .~\t\u00e9\u5f20\x00\x7f", max_size=40)
             | st.text(max_size=12))


@given(b64_texts)
@settings(max_examples=1000)
def test_b64url_decode_agrees_with_the_standard_library(text: str) -> None:
    result = outcome(lambda: b64url_decode(text))
    data = stdlib_decode(text)
    if data is None:
        assert result == ("MalformedError", "invalid base64url")
    elif not is_canonical(text):  # the stdlib ignores set trailing bits: a second spelling of other bytes
        assert result == ("MalformedError", "non-canonical base64url")
    else:
        assert result == ("ok", data)


def test_b64url_decode_rejects_each_byte_outside_the_alphabet() -> None:
    for code in range(256):
        char = chr(code)
        if char not in URLSAFE_ALPHABET:
            for text in (char * 4, "AAA" + char, char + "AAA", "AA" + char + "A"):
                with pytest.raises(MalformedError):
                    b64url_decode(text)


@given(st.binary(max_size=80))
def test_b64url_encode_matches_base64(raw: bytes) -> None:
    assert b64url_encode(raw) == stdlib_encode(raw) == base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# -- JSON (the standard library's decoder) ---------------------------------------------------------

json_texts = st.sampled_from(["", " ", "1 2", "[1,", "{}", " {\"a\": [1, 2.5, null]} ", "\"x\" x", "[]\n",
                              "{\"a\":1,\"a\":2}", "NaN", "[Infinity]", "\t7\r\n", "tru", "\"\\ud800\""])


@given(json_texts | st.text(alphabet=" []{}\",:0123456789.aetrufnl\\", max_size=16))
@settings(max_examples=500)
def test_json_loads_matches_the_json_decoder(text: str) -> None:
    decoder = json.JSONDecoder(object_pairs_hook=lambda pairs: dict(pairs))

    def stdlib() -> Any:
        try:
            return decoder.decode(text)
        except ValueError as exc:
            raise MalformedError("invalid JSON") from exc

    ours, theirs = outcome(lambda: json_loads(text, max_size=100)), outcome(stdlib)
    if ours[0] == "ok" or theirs[0] == "ok":
        # Where they differ we are stricter, and only by our two rules: no repeated key, no NaN/Infinity.
        assert ours == theirs or "duplicate" in str(ours[1]) or "constant" in str(ours[1])
    else:
        assert ours[0] == theirs[0] == "MalformedError"


# -- inflation (zlib, RFC 1950) --------------------------------------------------------------------


@given(st.binary(max_size=2000) | st.binary(max_size=8).map(lambda b: b * 300), st.integers(0, 9))
def test_inflate_round_trips_with_zlib(raw: bytes, level: int) -> None:
    compressed = zlib.compress(raw, level)
    assert inflate(compressed, max_size=len(raw)) == raw == zlib.decompress(compressed)
    if raw:
        with pytest.raises(TooLargeError):
            inflate(compressed, max_size=len(raw) - 1)


# -- CBOR: plain items only (credential.cose: integers, bytes, text, booleans, null, arrays, maps with ---
# -- integer or text keys, tag 18), nested at most max_depth levels; cbor2 is the peer encoder ----------

CBOR_INT = st.integers(-(2**64), 2**64 - 1)  # beyond this CBOR needs bignum tags 2 and 3 (RFC 8949 §3.4.3)
PLAIN_SCALARS = st.none() | st.booleans() | CBOR_INT | st.binary(max_size=4) | st.text(max_size=4)
FORBIDDEN_SCALARS = (st.floats() | st.integers(2**64, 2**70).map(lambda n: cbor2.CBORTag(2, n.to_bytes(9, "big")))
                     | PLAIN_SCALARS.map(lambda value: cbor2.CBORTag(1, value)) | st.just(cbor2.undefined))
FORBIDDEN_KEYS = st.booleans() | st.binary(max_size=2) | st.none() | st.floats(allow_nan=False)


Made = tuple[Any, int, frozenset[str]]  # an item, its nesting height, the faults put in it ("type", "key")


@st.composite
def cbor_items(draw: st.DrawFn, *, levels: int = 3, faulty: bool = False, python_only: bool = False) -> Made:
    """An item whose height (an empty container is height 0) and faults the strategy knows as it builds it.

    ``python_only`` adds what only Python hands over (tuples, cbor2.frozendict) for the direct check."""

    def item(level: int) -> Made:
        kind = draw(st.integers(0, 9)) if level > 0 else 0
        if kind <= 4:
            if faulty and draw(st.integers(0, 7)) == 0:
                return draw(FORBIDDEN_SCALARS), 0, frozenset({"type"})
            return draw(PLAIN_SCALARS), 0, frozenset()
        if kind == 9:
            value, inner, faults = item(level - 1)
            return cbor2.CBORTag(cose.COSE_SIGN1_TAG, value), inner + 1, faults
        children = [item(level - 1) for _ in range(draw(st.integers(0, 3)))]
        if kind <= 6:
            values = [value for value, _, _ in children]
            return (tuple(values) if python_only and draw(st.booleans()) else values), *summary(children)
        mapping: dict[Any, Any] = {}
        kept: list[Made] = []
        for value, height, faults in children:
            bad_key = faulty and draw(st.integers(0, 5)) == 0
            key = draw(FORBIDDEN_KEYS if bad_key else CBOR_INT | st.text(max_size=2))
            if key in mapping:  # 1, 1.0 and True are one Python key: the child is not in the map
                continue
            mapping[key] = value
            kept.append((value, height, faults | {"key"} if bad_key else faults))
        return (cbor2.frozendict(mapping) if python_only and draw(st.booleans()) else mapping), *summary(kept)

    return item(levels)


def summary(children: list[Made]) -> tuple[int, frozenset[str]]:
    """The height and faults of a container of ``children``."""
    height = 1 + max(h for _, h, _ in children) if children else 0
    return height, frozenset().union(*(f for _, _, f in children))


def comparable(item: Any) -> Any:
    """``item`` with tuples as lists, every map a dict and each scalar typed (True != 1 here)."""
    if isinstance(item, list | tuple):
        return ["array", [comparable(element) for element in item]]
    if isinstance(item, Mapping):
        return ["map", [(comparable(key), comparable(value)) for key, value in item.items()]]
    if isinstance(item, cbor2.CBORTag):
        return ["tag", item.tag, comparable(item.value)]
    return [type(item).__name__, item]


@given(cbor_items(levels=4), st.integers(0, 5))
@settings(max_examples=500)
def test_cbor_loads_returns_what_cbor2_encoded(case: Made, max_depth: int) -> None:
    item, height, _ = case
    data = cbor2.dumps(item)
    result = outcome(lambda: cbor_loads_at(data, max_depth))
    if height <= max_depth:
        assert result[0] == "ok"
        assert comparable(result[1]) == comparable(item)
    else:
        assert result[0] == "MalformedError"


def cbor_loads_at(data: bytes, max_depth: int) -> Any:
    return cose.cbor_loads(data, max_size=len(data), max_depth=max_depth)


@given(cbor_items(levels=3, faulty=True))
@settings(max_examples=500)
def test_cbor_loads_refuses_what_is_not_plain(case: Made) -> None:
    item, _, faults = case
    try:
        data = cbor2.dumps(item)
    except (cbor2.CBOREncodeError, TypeError, ValueError):  # a map key cbor2 will not write (None, in places)
        return
    result = outcome(lambda: cose.cbor_loads(data, max_size=len(data)))
    assert result[0] == ("MalformedError" if faults else "ok")


@given(cbor_items(levels=4, faulty=True, python_only=True), st.integers(-1, 5))
@settings(max_examples=800)
def test_check_plain_names_the_first_rule_broken(case: Made, depth: int) -> None:
    item, height, faults = case
    result = outcome(lambda: cose._check_plain(item, depth))
    if height > depth:
        assert result[0] == "MalformedError"
        if not faults:
            assert result[1] == "CBOR nested too deeply"
    elif faults == {"key"}:
        assert result == ("MalformedError", "CBOR map keys must be integers or text")
    elif faults == {"type"}:
        assert result[0] == "MalformedError" and result[1].endswith("is not accepted")
    elif faults:
        assert result[0] == "MalformedError"
    else:
        assert result == ("ok", None)


# -- disclosures: what encode_disclosure writes is the compact UTF-8 JSON the standard library writes ------

json_values = st.text() | st.integers() | st.booleans() | st.none() | st.lists(st.integers(), max_size=2)


@given(st.text(max_size=6), st.text(max_size=6) | st.none() | st.sampled_from(["_sd", "..."]), json_values)
@settings(max_examples=500)
def test_encode_disclosure_is_base64url_of_compact_json(salt: str, name: str | None, value: object) -> None:
    contents = [salt, value] if name is None else [salt, name, value]
    if name in ("_sd", "..."):  # RFC 9901 §4.2.1: these names are the digests' own
        with pytest.raises(MalformedError, match="may not be called"):
            encode_disclosure(salt, name, value)
        return
    try:
        expected = json.dumps(contents, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8: ours fails the same way
        with pytest.raises(UnicodeEncodeError):
            encode_disclosure(salt, name, value)
        return
    text = encode_disclosure(salt, name, value)
    assert is_canonical(text) and stdlib_decode(text) == expected


def test_encode_disclosure_lone_surrogate_fails_like_utf8() -> None:
    for value in ("\ud800", ["\udfff"]):
        with pytest.raises(UnicodeEncodeError):
            encode_disclosure("s", "n", value)
    with pytest.raises(UnicodeEncodeError):
        "\ud800".encode("utf-8")


def test_batched_salts_and_decoys() -> None:
    salts, decoys = new_salts(12), decoy_digests(3)
    assert len(salts) == 12 and len(set(salts)) == 12
    assert all(len(b64url_decode(salt)) == 16 for salt in salts)
    assert len(decoys) == 3 and all(len(b64url_decode(d)) == 32 for d in decoys)
    assert new_salts(0) == [] and decoy_digests(0) == []


# -- model and pass claims -------------------------------------------------------------------------


def unicode_control_or_format(text: str) -> bool:
    """What a permit's text field may not hold: a character of Unicode category C*, or U+2028/U+2029."""
    return any(unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" for c in text)


@given(st.text(max_size=20))
@settings(max_examples=800)
def test_text_refuses_exactly_control_and_format_characters(value: str) -> None:
    normalised = " ".join(unicodedata.normalize("NFC", value).split())
    if not normalised or len(normalised) > 40:
        return
    rejected = outcome(lambda: _text("f", value, max_len=40))[0] != "ok"
    assert rejected == unicode_control_or_format(normalised)


# GB 11643-1999: weights 2^(17-i) mod 11, check character "10X98765432"[sum mod 11]. The IDs are its example
# (11010519491231002X) and the two sample residents'.
@pytest.mark.parametrize("citizen_id", ["11010519491231002X", "410102199003151230", "650102199507213428"])
def test_check_digit_known_ids(citizen_id: str) -> None:
    assert citizen_id_check_digit(citizen_id[:17]) == citizen_id[17]


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit_is_the_gb_11643_formula(first17: str) -> None:
    weights = [2 ** (17 - i) % 11 for i in range(17)]  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
    expected = "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]
    assert citizen_id_check_digit(first17) == expected


@given(st.dates())
def test_midnight_and_day_match_datetime(day: datetime.date) -> None:
    expected = int(datetime.datetime.combine(day, datetime.time(), passclaims.CHINA_STANDARD_TIME).timestamp())
    assert passclaims._midnight(day) == expected

    def stdlib() -> datetime.date:
        try:
            return datetime.datetime.fromtimestamp(expected, passclaims.CHINA_STANDARD_TIME).date()
        except (OverflowError, OSError, ValueError) as exc:
            raise MalformedError("out of range") from exc

    ours, theirs = outcome(lambda: passclaims._day(expected, "nbf")), outcome(stdlib)
    assert ours == theirs or (ours[0] != "ok" and theirs[0] != "ok")


def test_ec_key_type_check_is_isinstance() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    ed_key = ed25519.Ed25519PrivateKey.generate().public_key()
    for _ in range(2):  # the second time from the memo of classes
        assert is_ec_public_key(ec_key)
        assert not is_ec_public_key(ed_key)
        assert not is_ec_public_key(b"key")


def test_cose_key_matches_public_numbers() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    for _ in range(20):  # RFC 9053 §7.1.1: kty EC2 (2), crv P-256 (1), x, and y as its sign bit
        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        numbers = key.public_numbers()
        assert cose.cose_key(key) == {1: 2, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                                      -3: numbers.y.to_bytes(32, "big")}
        assert cose.load_cose_key(cose.cose_key(key)) == key


def test_parsed_holder_points_are_shared_but_a_bad_point_is_refused_every_time() -> None:
    """credential.cose keeps parsed P-256 points: the same COSE_Key gives the same key object, and a point
    off the curve is refused on every read (errors are never cached)."""
    import pytest
    from cryptography.hazmat.primitives.asymmetric import ec

    from credential.cose import cose_key, load_cose_key
    from credential.errors import MalformedError

    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert load_cose_key(cose_key(public)) is load_cose_key(cose_key(public))
    assert load_cose_key(cose_key(public)) == public
    bad = dict(cose_key(public))
    bad[-3] = bytes(32)  # y = 0: not on the curve
    for _ in range(2):
        with pytest.raises(MalformedError, match="not a valid public key"):
            load_cose_key(bad)


@pytest.mark.parametrize("nonce", [None, b"n" * 64])
def test_decoded_live_proof_bytes_are_the_proofs_own_encoding(nonce: bytes | None) -> None:
    """decode_qr_text slices the pass's bytes out of the canonical text: they must be exactly the pass as
    issued and as encoding it gives, static or live (and the proof's, its encoding)."""
    from credential import qrpass
    from credential.samples import sample_permit
    from keys import KeySigner

    issuer, holder = KeySigner.generate(), KeySigner.generate()
    cose_pass = qrpass.encode_pass(sample_permit(), signer=issuer, holder_key=holder.public_key,
                                   status_uri="https://jzz.example.gov.cn/statuslists/1", status_idx=7, now=1_800_000_000)
    decoded = qrpass.decode_qr_text(qrpass.live_qr_text(cose_pass, holder_signer=holder, now=1_800_000_000,
                                                        nonce=nonce))
    assert decoded.proof_message is not None
    assert decoded.cose_pass == cose_pass == decoded.pass_message.encode()
    assert decoded.proof == decoded.proof_message.encode()
    static = qrpass.decode_qr_text(qrpass.pass_to_qr_text(cose_pass))
    assert static.cose_pass == cose_pass and static.proof is None
