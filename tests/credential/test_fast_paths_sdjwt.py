"""The SD-JWT VC fast paths against RFC 9901, its examples and independent peers, on generated inputs.

Disclosure decoding is judged by the RFC's rules (§4.2) over the standard library's base64 and our JSON
parser (judged against ``json`` in test_fast_paths.py), digests by ``hashlib``, and both by what the sd-jwt
reference library writes; unpacking by the §7.1 rules, with a strategy that knows which rule each case
breaks, and by the reference library on the valid cases; compact JWS splitting by PyJWT; duplicate JSON keys
by ``json``. No copy of an earlier implementation is kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto.jwk import JWK
from jwt.api_jws import PyJWS
from sd_jwt.common import SDJWTCommon
from sd_jwt.disclosure import SDJWTDisclosure
from sd_jwt.verifier import SDJWTVerifier

from credential import disclosures as sd
from credential.disclosures import decode_disclosure, digest, disclose, encode_disclosure, unpack
from credential.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from credential.errors import CredentialError, MalformedError
from credential.jose import parse_compact, split_compact
from credential.jwk import public_jwk
from tests.credential.rfc4648 import URLSAFE_ALPHABET, is_canonical, stdlib_decode, stdlib_encode
from tests.credential.rfc9901 import (
    EXAMPLE_CLAIMS,
    EXAMPLE_DISCLOSURES,
    EXAMPLE_PAYLOAD,
    FAMILY_NAME,
    FAMILY_NAME_CONTENTS,
    FAMILY_NAME_DIGEST,
    FAMILY_NAME_SPELLINGS,
)
from tests.credential.sdjwt_support import ISSUER, forge

ISSUER_JWK = JWK(**public_jwk(ISSUER.public_key))


def outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except CredentialError as exc:
        return type(exc).__name__, str(exc)


def typed(value: Any) -> Any:
    """``value`` with the type of every scalar: True == 1 and 1 == 1.0 must not pass for a match."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def sha256_digest(text: str) -> str:
    """RFC 9901 §4.2.3 with the standard library: base64url(SHA-256(the ASCII of the disclosure))."""
    return stdlib_encode(hashlib.sha256(text.encode("ascii")).digest())


# -- JSON duplicate keys (the standard library's parser sees every pair) ---------------------------

@st.composite
def json_objects(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON text whose objects often repeat a key, at any depth."""
    if depth > 2 or draw(st.integers(0, 3)) == 0:
        return json.dumps(draw(st.integers(-3, 3) | st.text(max_size=3) | st.none()))
    if draw(st.booleans()):
        return "[" + ",".join(draw(st.lists(json_objects(depth + 1), max_size=3))) + "]"
    pairs = draw(st.lists(st.tuples(st.sampled_from(["a", "b", "é", "e\u0301"]), json_objects(depth + 1)), max_size=4))
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in pairs) + "}"


def stdlib_parse(text: str) -> tuple[Any, str | None]:
    """``json.loads`` of ``text``, and the first key repeated in an object (objects end innermost first)."""
    repeated: list[str] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in pairs if not repeated else ():
            if key in seen:
                repeated.append(key)
                break
            seen.add(key)
        return dict(pairs)

    return json.loads(text, object_pairs_hook=pairs_hook), (repeated[0] if repeated else None)


@given(json_objects())
@settings(max_examples=500)
def test_a_repeated_key_is_refused_by_name(text: str) -> None:
    value, repeated = stdlib_parse(text)  # "é" and "e\u0301" are two keys: no normalisation
    result = outcome(lambda: json_loads(text, max_size=10_000))
    if repeated is None:
        assert result[0] == "ok" and typed(result[1]) == typed(value)
    else:
        assert result == ("MalformedError", f"duplicate JSON key {repeated!r}")


# -- decoding disclosures (RFC 9901 §4.2) ----------------------------------------------------------

scalars = (st.text(max_size=8) | st.integers() | st.integers(-(10**20), 10**20) | st.booleans() | st.none()
           | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(["", "\\", '"', "\x1f", "\u2028", "张伟"]))
values = st.recursive(scalars, lambda c: st.lists(c, max_size=2) | st.dictionaries(st.text(max_size=3), c, max_size=2),
                      max_leaves=4)
names = st.text(max_size=6) | st.sampled_from(["_sd", "...", "_sd_alg", "name", "né"])
separators = st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", ":"), ("\t,\r", ":")])


@st.composite
def disclosure_texts(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 3:  # any bytes at all: invalid UTF-8, stray JSON...
        return b64url_encode(draw(st.binary(max_size=40)))
    if kind == 2:  # text from JSON's own alphabet
        return b64url_encode(draw(st.text(alphabet=' \x01\x1f\t\n\r\x0b\x0c\u00a0[]{}",:-0123456789\u0663eE.\\ntrufalsx',
                                          max_size=30)).encode("utf-8", "surrogatepass"))
    contents = [draw(st.text(max_size=6) | st.integers(0, 3)), draw(names), draw(values)]
    if kind == 1:
        contents = draw(st.sampled_from([contents[:2], contents[:1], [*contents, 1], contents[1:]]))
    text = json.dumps(contents, ensure_ascii=draw(st.booleans()), separators=draw(separators))
    padding = draw(st.sampled_from(["", " ", "\n", "\t \r"]))
    encoded = b64url_encode((padding + text + padding).encode("utf-8", "surrogatepass"))
    return encoded if draw(st.integers(0, 9)) else encoded[:-1] + draw(st.sampled_from(sorted(URLSAFE_ALPHABET)))


def rfc9901_reading(text: str, max_size: int) -> tuple[str, Any]:
    """What RFC 9901 §4.2 makes of ``text``: ("ok", (digest, salt, name, typed value)), or an error's class
    and a part of its message."""
    data = stdlib_decode(text)
    if data is None or not is_canonical(text):
        return "MalformedError", "base64url"
    parsed = outcome(lambda: json_loads(data, max_size=max_size))
    if parsed[0] != "ok":
        return parsed  # the JSON's own error, message and all
    contents = parsed[1]
    if not isinstance(contents, list) or len(contents) not in (2, 3):
        return "MalformedError", "a disclosure is a JSON array of 2 or 3 elements"
    if not isinstance(contents[0], str):
        return "MalformedError", "salt must be a string"
    name = contents[1] if len(contents) == 3 else None
    if len(contents) == 3 and not isinstance(name, str):
        return "MalformedError", "claim name must be a string"
    if name in ("_sd", "..."):
        return "MalformedError", f"may not be called {name!r}"
    return "ok", (sha256_digest(text), contents[0], name, typed(contents[-1]))


def decoded(text: str, max_size: int) -> tuple[str, Any]:
    """decode_disclosure's outcome on ``text``, checked against rfc9901_reading."""

    def ours() -> Any:
        found = decode_disclosure(text, max_size=max_size)
        assert found.text == text
        return found.digest, found.salt, found.name, typed(found.value)

    result, expected = outcome(ours), rfc9901_reading(text, max_size)
    if expected[0] == "ok":
        assert result == expected
    else:
        assert result[0] == expected[0] and expected[1] in result[1], (result, expected)
    return result


@given(disclosure_texts(), st.sampled_from([10, 40, 4096]))
@settings(max_examples=1500)
def test_decode_disclosure_follows_rfc9901(text: str, max_size: int) -> None:
    decoded(text, max_size)


@pytest.mark.parametrize("contents", [
    '["s","n","v"]', '["s","v"]', ' [ "s" , "n" , -0 ] ', '["s","n",0]', '["s","n",-12]', '["s","n",123456789012345678]',
    '["s","n",1234567890123456789]', '["s","n",01]', '["s","n",1.0]', '["s","n",1e3]', '["s","n",true]',
    '["s","_sd","v"]', '["s","...",1]', '["s","_sd"]', '["s","n","a\\u00e9"]', '["s","n","\x1f"]', '["s","n","\u2028"]',
    '["s","n","v",]', '["s",,"v"]', '["s","n"\x0b,"v"]', '["s","n","v"]x', '["s","n","v"] ["x"]', '["s","n",\u0663]',
    '["s","n","v"', '"s","n","v"]', '[1,"n","v"]', '["s",2,"v"]', '["s","n",["a"]]', '["s","n",{"a":1,"a":2}]',
])
def test_decode_disclosure_edge_cases_follow_rfc9901(contents: str) -> None:
    decoded(b64url_encode(contents.encode("utf-8")), 4096)


@pytest.mark.parametrize("text", [FAMILY_NAME, *FAMILY_NAME_SPELLINGS])
def test_rfc9901_spellings_of_one_claim_read_alike_and_hash_apart(text: str) -> None:
    found = decode_disclosure(text, max_size=4096)
    assert [found.salt, found.name, found.value] == FAMILY_NAME_CONTENTS
    assert found.digest == sha256_digest(text)
    assert (found.digest == FAMILY_NAME_DIGEST) == (text == FAMILY_NAME)  # §4.2.3: the digest is of the spelling


@given(names.filter(lambda name: name not in ("_sd", "...")) | st.none(), values)
@settings(max_examples=300)
def test_reference_library_disclosures_decode_to_what_it_wrote(name: str | None, value: Any) -> None:
    made = SDJWTDisclosure(SDJWTCommon("compact"), name, value)  # json.dumps defaults: ", " and \u escapes
    written = json.loads(made.json)
    found = decode_disclosure(made.b64, max_size=10_000)
    assert found.digest == made.hash
    assert (found.salt, found.name, typed(found.value)) == (written[0], name, typed(written[-1]))


def test_the_fast_shape_covers_what_epermit_issues() -> None:
    text = encode_disclosure("QxorNN1xAg47TYykyqLb3g", "address", "北京市朝阳区建国路 88 号")
    assert sd._SIMPLE_DISCLOSURE.fullmatch(b64url_decode(text).decode("utf-8"))
    assert decoded(text, 4096)[0] == "ok"


# -- unpacking (RFC 9901 §7.1) ---------------------------------------------------------------------

# Each rule of §7.1 a case may break, with what the refusal must say.
RULES = {
    "digest twice": "a digest appears twice",  # §4.1: the same digest value MUST NOT appear more than once
    "presented twice": "the same disclosure is presented twice",
    "unreferenced": "a disclosure is not referenced",
    "element from _sd": "an array-element disclosure is referenced from _sd",
    "property from array": "an object-property disclosure is referenced from an array",
    "already present": "is already present",
    "_sd_alg disclosed": "_sd_alg cannot be selectively disclosed",
    "_sd_alg nested": "_sd_alg is allowed only at the top level",  # §4.1.1
    "_sd not an array": "_sd must be an array",
    "digest not a string": "a digest must be a string",
}
SdCase = tuple[dict[str, Any], list[str], dict[str, Any], str | None]  # payload, disclosures, claims, rule broken


class Concealer:
    """Builds a payload and its disclosures alongside the claims they stand for."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.texts: list[str] = []
        self.salts = 0

    def salt(self) -> str:
        self.salts += 1  # unique salts: two disclosures are alike only where a case wants them to be
        return f"salt-{self.salts}"

    def conceal(self, name: str | None, value: Any) -> str:
        text = encode_disclosure(self.salt(), name, value)
        self.texts.append(text)
        return digest(text)

    def decoy(self) -> str:  # §4.2.5: the digest of nothing presented
        return sha256_digest(b64url_encode(self.salt().encode()))

    def object(self, level: int, *, top: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
        draw = self.draw
        packed: dict[str, Any] = {}
        claims: dict[str, Any] = {}
        digests: list[str] = []
        # "..." is an ordinary claim name in an object, except in a one-member object inside an array.
        for name in draw(st.lists(st.sampled_from(["a", "b", "名", *(["..."] if top else [])]), unique=True, max_size=3)):
            value, claims[name] = self.value(level + 1)
            if name != "..." and draw(st.booleans()):
                digests.append(self.conceal(name, value))
            else:
                packed[name] = value
        digests += [self.decoy() for _ in range(draw(st.integers(0, 2)))]
        if digests or draw(st.booleans()):
            packed["_sd"] = draw(st.permutations(digests))
        return packed, claims

    def array(self, level: int) -> tuple[list[Any], list[Any]]:
        packed: list[Any] = []
        claims: list[Any] = []
        for _ in range(self.draw(st.integers(0, 3))):
            kind = self.draw(st.integers(0, 2))
            if kind == 2:
                packed.append({"...": self.decoy()})  # unmatched "..." elements are removed
                continue
            value, claim = self.value(level + 1)
            claims.append(claim)
            packed.append({"...": self.conceal(None, value)} if kind == 1 else value)
        return packed, claims

    def value(self, level: int) -> tuple[Any, Any]:
        kind = self.draw(st.integers(0, 4)) if level < 3 else 0
        if kind == 3:
            return self.object(level)
        if kind == 4:
            return self.array(level)
        scalar = self.draw(scalars)
        return scalar, scalar

    def breaking(self, rule: str) -> dict[str, Any]:
        """A small object that breaks ``rule`` (and no other)."""
        if rule == "digest twice":
            twice = self.conceal("k", 1)
            return {"_sd": [twice, twice]}
        if rule == "presented twice":
            carrier = {"_sd": [self.conceal("k", 1)]}
            self.texts.append(self.texts[-1])
            return carrier
        if rule == "unreferenced":
            self.conceal("loose", 1)
            return {}
        if rule == "element from _sd":
            return {"_sd": [self.conceal(None, 1)]}
        if rule == "property from array":
            return {"list": [{"...": self.conceal("k", 1)}]}
        if rule == "already present":
            return {"k": 0, "_sd": [self.conceal("k", 1)]}
        if rule == "_sd_alg disclosed":
            return {"_sd": [self.conceal("_sd_alg", "sha-256")]}
        if rule == "_sd_alg nested":
            return {"_sd_alg": "sha-256"}
        if rule == "_sd not an array":
            return {"_sd": self.draw(st.sampled_from(["not a list", {}, 7]))}
        assert rule == "digest not a string"
        return self.draw(st.sampled_from([{"_sd": [7]}, {"_sd": [None]}, {"list": [{"...": 7}]}]))


@st.composite
def sd_cases(draw: st.DrawFn, *, faults: bool = True) -> SdCase:
    concealer = Concealer(draw)
    payload, claims = concealer.object(0, top=True)
    if draw(st.booleans()):
        payload["_sd_alg"] = "sha-256"  # §4.1.1: only here, and never among the claims read
    rule = draw(st.none() | st.sampled_from(sorted(RULES))) if faults else None
    if rule is not None:
        carrier = concealer.breaking(rule)
        where = draw(st.sampled_from(["plain", "concealed", "element"]))
        if where == "plain":
            payload["carrier"] = carrier
        elif where == "concealed":
            payload["_sd"] = [*payload.get("_sd", []), concealer.conceal("carrier", carrier)]
        else:
            payload["carriers"] = [{"...": concealer.conceal(None, carrier)}]
    order = draw(st.permutations(range(len(concealer.texts))))  # §7.1 does not care in which order they come
    return payload, [concealer.texts[i] for i in order], claims, rule


@given(sd_cases())
@settings(max_examples=800)
def test_unpack_follows_rfc9901(case: SdCase) -> None:
    payload, texts, claims, rule = case
    found = [decode_disclosure(text, max_size=100_000) for text in texts]
    result = outcome(lambda: unpack(payload, found))
    if rule is None:
        assert result[0] == "ok" and typed(result[1]) == typed(claims)
    else:
        assert result[0] == "MalformedError" and RULES[rule] in result[1], (rule, result)


@given(sd_cases(faults=False))
@settings(max_examples=150, deadline=None)
def test_the_reference_library_reads_the_valid_cases_alike(case: SdCase) -> None:
    payload, texts, claims, _ = case
    theirs = SDJWTVerifier(forge(payload, texts), lambda iss, header: ISSUER_JWK).get_verified_payload()
    assert typed(theirs) == typed(claims)


def test_rfc9901_example_5_1() -> None:
    texts = [text for text, _, _ in EXAMPLE_DISCLOSURES]
    for text, published, contents in EXAMPLE_DISCLOSURES:
        found = decode_disclosure(text, max_size=4096)
        assert found.digest == published == sha256_digest(text)
        assert [found.salt, *([] if found.name is None else [found.name]), found.value] == contents
    everything = [decode_disclosure(text, max_size=4096) for text in texts]
    assert unpack(EXAMPLE_PAYLOAD, everything) == EXAMPLE_CLAIMS
    theirs = SDJWTVerifier(forge(EXAMPLE_PAYLOAD, texts), lambda iss, header: ISSUER_JWK).get_verified_payload()
    assert theirs == EXAMPLE_CLAIMS
    # A presentation of some of them: what is not presented reads as if it were never there (§7.3).
    some = [everything[0], everything[-2]]  # given_name and the nationality "US"
    expected = {k: v for k, v in EXAMPLE_CLAIMS.items() if k not in {c[1] for _, _, c in EXAMPLE_DISCLOSURES[1:8]}}
    assert unpack(EXAMPLE_PAYLOAD, some) == {**expected, "nationalities": ["US"]}


def claims_height(node: Any) -> int:
    """How many levels below the payload the deepest claim sits (a scalar or an empty container ends a path)."""
    children = list(node.values()) if isinstance(node, dict) else node if isinstance(node, list) else []
    return 1 + max(map(claims_height, children)) if children else 0


@pytest.mark.parametrize("levels", range(sd.MAX_DEPTH - 3, sd.MAX_DEPTH + 3))
@pytest.mark.parametrize("leaf", [1, {}, [], {"x": 1}])
def test_unpack_refuses_claims_deeper_than_max_depth(levels: int, leaf: Any) -> None:
    texts: list[str] = []
    node: Any = leaf
    claims: Any = leaf
    for level in range(levels):  # a chain of disclosures, each holding the digest of the next
        if level % 3 == 2:
            node, claims = {"plain": node}, {"plain": claims}
        else:
            text = encode_disclosure(f"s{level}", "c", node)
            texts.append(text)
            node, claims = {"_sd": [digest(text)]}, {"c": claims}
    found = [decode_disclosure(text, max_size=100_000) for text in texts]
    if claims_height(claims) <= sd.MAX_DEPTH:
        assert unpack(node, found) == claims
    else:
        with pytest.raises(MalformedError, match=f"deeper than {sd.MAX_DEPTH}"):
            unpack(node, found)


def test_the_depth_cases_reach_both_sides_of_the_limit() -> None:
    heights = {claims_height(leaf) + levels for levels in range(sd.MAX_DEPTH - 3, sd.MAX_DEPTH + 3)
               for leaf in (1, {}, [], {"x": 1})}
    assert min(heights) <= sd.MAX_DEPTH < max(heights)


# -- issuing: the disclosure loop ------------------------------------------------------------------


@given(st.lists(st.tuples(names, values | st.text()), max_size=5, unique_by=lambda item: item[0]),
       st.lists(st.text(max_size=4) | st.integers(0, 2), min_size=5, max_size=5))
@settings(max_examples=800)
def test_disclose_writes_compact_json_disclosures_and_their_digests(claims: list[tuple[str, Any]],
                                                                    salts: list[Any]) -> None:
    salts = salts[: len(claims)]
    if any(name in ("_sd", "...") for name, _ in claims):  # RFC 9901 §4.2.1
        with pytest.raises(MalformedError, match="may not be called"):
            disclose(salts, dict(claims))
        return
    try:
        expected = [json.dumps([salt, name, value], ensure_ascii=False, separators=(",", ":"),
                               allow_nan=False).encode("utf-8") for salt, (name, value) in zip(salts, claims, strict=True)]
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8: ours fails the same way
        with pytest.raises(UnicodeEncodeError):
            disclose(salts, dict(claims))
        return
    texts, digests = disclose(salts, dict(claims))
    assert [stdlib_decode(text) for text in texts] == expected
    assert all(map(is_canonical, texts))
    assert digests == [sha256_digest(text) for text in texts]
    assert texts == [encode_disclosure(salt, name, value) for salt, (name, value) in zip(salts, claims, strict=True)]


def test_disclose_wants_one_salt_per_claim() -> None:
    with pytest.raises(ValueError, match="one salt per claim"):
        disclose(["s"], {"a": 1, "b": 2})


def test_json_dumps_round_trips_what_disclose_writes() -> None:
    texts, digests = disclose(["salt"], {"name": "张伟"})
    assert json.loads(b64url_decode(texts[0])) == ["salt", "name", "张伟"]
    assert json_dumps(["salt", "name", "张伟"]) == b64url_decode(texts[0])
    assert digests == [sd.digest(texts[0])]


# -- compact JWS (RFC 7515 §7.1): split as PyJWT splits it -------------------------------------------

segments = st.sampled_from(["", "e30", "eyJhIjoxfQ", "W10", "e30=", "Zm9v", "eyJhIjoxLCJhIjoyfQ", "=",
                            "ey", "AAAAAA", "YQ", "YR"]) | st.text(alphabet="".join(sorted(URLSAFE_ALPHABET)) + "+é",
                                                                   max_size=8)


def rfc7515_reading(token: str) -> tuple[str, Any]:
    """("ok", (header, payload, signing input, signature)) with the standard library, or ("MalformedError", a
    part of the reason), taking the steps in RFC 7515 §5.2's order: header, its JSON, payload, signature."""
    parts = token.split(".")
    if len(parts) != 3:
        return "MalformedError", "three parts"
    encoded_header, encoded_payload, encoded_signature = parts
    if not is_canonical(encoded_header):
        return "MalformedError", "base64url"
    header = outcome(lambda: json_loads(stdlib_decode(encoded_header) or b"", max_size=1000))
    if header[0] != "ok" or not isinstance(header[1], dict):
        return "MalformedError", ""
    if not (is_canonical(encoded_payload) and is_canonical(encoded_signature)):
        return "MalformedError", "base64url"
    return "ok", (header[1], stdlib_decode(encoded_payload), f"{encoded_header}.{encoded_payload}".encode("ascii"),
                  stdlib_decode(encoded_signature))


@given(st.lists(segments, min_size=1, max_size=4).map(".".join))
@settings(max_examples=800)
def test_split_and_parse_compact_read_what_pyjwt_reads(token: str) -> None:
    split = outcome(lambda: split_compact(token, max_size=1000))
    expected = rfc7515_reading(token)
    if expected[0] != "ok":
        assert split[0] == "MalformedError" and expected[1] in split[1], (split, expected)
        return
    header, payload, signing_input, signature = expected[1]
    assert split[0] == "ok"
    parts = split[1]
    assert (parts.header, parts.payload, parts.signing_input, parts.signature) == expected[1]
    theirs = PyJWS().decode_complete(token, options={"verify_signature": False})
    assert (theirs["header"], theirs["payload"], theirs["signature"]) == (header, payload, signature)

    parsed = outcome(lambda: parse_compact(token, max_size=1000))
    value = outcome(lambda: json_loads(payload, max_size=1000))
    if value[0] == "ok" and isinstance(value[1], dict):
        assert parsed[0] == "ok"
        assert (parsed[1].header, parsed[1].payload, parsed[1].signing_input, parsed[1].signature) == (
            header, value[1], signing_input, signature)
    else:
        assert parsed[0] == "MalformedError"
