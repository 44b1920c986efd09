"""The SD-JWT VC fast paths give exactly what the straightforward code gave: same values, same errors.

As in test_fast_paths.py, each reference is the code as it was before the speed-up, compared on generated
inputs: base64url decoding, duplicate-key detection, disclosure parsing, unpacking, the issuer's disclosure
loop and compact JWS splitting.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credential import disclosures as sd
from credential.disclosures import SD_ALG_KEY, decode_disclosure, disclose, encode_disclosure, unpack
from credential.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from credential.errors import CredentialError, MalformedError
from credential.jose import parse_compact, split_compact

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# -- the references: the code as it was ------------------------------------------------------------


def reference_b64url_decode(text: str) -> bytes:
    import base64

    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise MalformedError("invalid base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if text and _ALPHABET.index(text[-1]) & {0: 0, 2: 0b1111, 3: 0b11}[len(text) % 4]:
        raise MalformedError("non-canonical base64url")
    return data


def reference_reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise MalformedError(f"duplicate JSON key {key!r}")
        obj[key] = value
    return obj


def reference_json_loads(text: str) -> Any:
    def constant(name: str) -> Any:
        raise MalformedError(f"JSON constant {name} is not allowed")

    try:
        return json.loads(text, object_pairs_hook=reference_reject_duplicates, parse_constant=constant)
    except ValueError as exc:
        raise MalformedError("invalid JSON") from exc


def reference_decode_disclosure(text: str, *, max_size: int) -> tuple[str, str, str | None, Any]:
    contents = json_loads(reference_b64url_decode(text), max_size=max_size)
    if not isinstance(contents, list) or len(contents) not in (2, 3):
        raise MalformedError("a disclosure is a JSON array of 2 or 3 elements")
    salt = contents[0]
    if not isinstance(salt, str):
        raise MalformedError("disclosure salt must be a string")
    text_digest = b64url_encode(hashlib.sha256(text.encode("ascii")).digest())
    if len(contents) == 2:
        return text_digest, salt, None, contents[1]
    name = contents[1]
    if not isinstance(name, str):
        raise MalformedError("disclosed claim name must be a string")
    if name in ("_sd", "..."):
        raise MalformedError(f"a disclosed claim may not be called {name!r}")
    return text_digest, salt, name, contents[2]


class ReferenceUnpacker:
    def __init__(self, found: list[sd.Disclosure]) -> None:
        self.by_digest: dict[str, sd.Disclosure] = {}
        for disclosure in found:
            if disclosure.digest in self.by_digest:
                raise MalformedError("the same disclosure is presented twice")
            self.by_digest[disclosure.digest] = disclosure
        self.seen: set[str] = set()
        self.used: set[str] = set()

    def lookup(self, value: object) -> sd.Disclosure | None:
        if not isinstance(value, str):
            raise MalformedError("a digest must be a string")
        if value in self.seen:
            raise MalformedError("a digest appears twice")
        self.seen.add(value)
        found = self.by_digest.get(value)
        if found is not None:
            self.used.add(value)
        return found

    def value(self, node: Any, depth: int) -> Any:
        if depth > sd.MAX_DEPTH:
            raise MalformedError(f"claims nested deeper than {sd.MAX_DEPTH}")
        if isinstance(node, dict):
            return self.object(node, depth)
        if isinstance(node, list):
            return self.array(node, depth)
        return node

    def object(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        if depth > 0 and SD_ALG_KEY in node:
            raise MalformedError(f"{SD_ALG_KEY} is allowed only at the top level")
        out = {name: self.value(value, depth + 1) for name, value in node.items() if name != "_sd"}
        digests = node.get("_sd", [])
        if not isinstance(digests, list):
            raise MalformedError("_sd must be an array")
        for item in digests:
            disclosure = self.lookup(item)
            if disclosure is None:
                continue
            if disclosure.name is None:
                raise MalformedError("an array-element disclosure is referenced from _sd")
            if disclosure.name == SD_ALG_KEY:
                raise MalformedError(f"{SD_ALG_KEY} cannot be selectively disclosed")
            if disclosure.name in out:
                raise MalformedError(f"claim {disclosure.name!r} is already present")
            out[disclosure.name] = self.value(disclosure.value, depth + 1)
        return out

    def array(self, node: list[Any], depth: int) -> list[Any]:
        out = []
        for element in node:
            if isinstance(element, dict) and len(element) == 1 and "..." in element:
                disclosure = self.lookup(element["..."])
                if disclosure is None:
                    continue
                if disclosure.name is not None:
                    raise MalformedError("an object-property disclosure is referenced from an array")
                out.append(self.value(disclosure.value, depth + 1))
            else:
                out.append(self.value(element, depth + 1))
        return out


def reference_unpack(payload: dict[str, Any], found: list[sd.Disclosure]) -> dict[str, Any]:
    unpacker = ReferenceUnpacker(found)
    claims = unpacker.object(payload, 0)
    claims.pop(SD_ALG_KEY, None)
    if unpacker.used != set(unpacker.by_digest):
        raise MalformedError("a disclosure is not referenced by the SD-JWT")
    return claims


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


# -- base64url -------------------------------------------------------------------------------------


@given(st.text(alphabet=_ALPHABET + "=+/ .~\t\u00e9\u5f20\x00\x7f", max_size=40) | st.text(max_size=12))
@settings(max_examples=800)
def test_b64url_decode_matches_the_reference_on_any_text(text: str) -> None:
    assert outcome(lambda: b64url_decode(text)) == outcome(lambda: reference_b64url_decode(text))


def test_b64url_decode_rejects_each_byte_outside_the_alphabet() -> None:
    for code in range(256):
        char = chr(code)
        if char not in _ALPHABET:
            for text in (char * 4, "AAA" + char, char + "AAA", "AA" + char + "A"):
                assert outcome(lambda t=text: b64url_decode(t))[0] == "MalformedError"  # type: ignore[misc]


# -- JSON duplicate keys ---------------------------------------------------------------------------

@st.composite
def json_objects(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON text whose objects often repeat a key, at any depth."""
    if depth > 2 or draw(st.integers(0, 3)) == 0:
        return json.dumps(draw(st.integers(-3, 3) | st.text(max_size=3) | st.none()))
    if draw(st.booleans()):
        return "[" + ",".join(draw(st.lists(json_objects(depth + 1), max_size=3))) + "]"
    pairs = draw(st.lists(st.tuples(st.sampled_from(["a", "b", "é", "e\u0301"]), json_objects(depth + 1)), max_size=4))
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in pairs) + "}"


@given(json_objects())
@settings(max_examples=500)
def test_duplicate_key_detection_matches_the_reference(text: str) -> None:
    ours, theirs = outcome(lambda: json_loads(text, max_size=10_000)), outcome(lambda: reference_json_loads(text))
    assert ours == theirs or (ours[0] == theirs[0] == "MalformedError" and "duplicate" not in ours[1] + theirs[1])


# -- disclosures -----------------------------------------------------------------------------------

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
    return b64url_encode((padding + text + padding).encode("utf-8", "surrogatepass"))


def decoded(text: str, max_size: int) -> tuple[str, Any]:
    def ours() -> Any:
        found = decode_disclosure(text, max_size=max_size)
        assert found.text == text
        return found.digest, found.salt, found.name, typed(found.value)

    def theirs() -> Any:
        text_digest, salt, name, value = reference_decode_disclosure(text, max_size=max_size)
        return text_digest, salt, name, typed(value)

    result = outcome(ours)
    assert result == outcome(theirs)
    return result


@given(disclosure_texts(), st.sampled_from([10, 40, 4096]))
@settings(max_examples=1500)
def test_decode_disclosure_matches_the_reference(text: str, max_size: int) -> None:
    decoded(text, max_size)


@pytest.mark.parametrize("contents", [
    '["s","n","v"]', '["s","v"]', ' [ "s" , "n" , -0 ] ', '["s","n",0]', '["s","n",-12]', '["s","n",123456789012345678]',
    '["s","n",1234567890123456789]', '["s","n",01]', '["s","n",1.0]', '["s","n",1e3]', '["s","n",true]',
    '["s","_sd","v"]', '["s","...",1]', '["s","_sd"]', '["s","n","a\\u00e9"]', '["s","n","\x1f"]', '["s","n","\u2028"]',
    '["s","n","v",]', '["s",,"v"]', '["s","n"\x0b,"v"]', '["s","n","v"]x', '["s","n","v"] ["x"]', '["s","n",\u0663]',
    '["s","n","v"', '"s","n","v"]', '[1,"n","v"]', '["s",2,"v"]', '["s","n",["a"]]', '["s","n",{"a":1,"a":2}]',
])
def test_decode_disclosure_edge_cases_match_the_reference(contents: str) -> None:
    decoded(b64url_encode(contents.encode("utf-8")), 4096)


def test_the_fast_shape_covers_what_epermit_issues() -> None:
    text = encode_disclosure("QxorNN1xAg47TYykyqLb3g", "address", "北京市朝阳区建国路 88 号")
    assert sd._SIMPLE_DISCLOSURE.fullmatch(b64url_decode(text).decode("utf-8"))
    assert decoded(text, 4096)[0] == "ok"


# -- unpacking -------------------------------------------------------------------------------------


@st.composite
def sd_payloads(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """A payload whose claims are partly disclosures (nested too), with the faults unpack must find."""
    texts: list[str] = []

    def conceal(name: str | None, value: Any) -> str:
        text = encode_disclosure(draw(st.sampled_from(["s1", "s2"])), name, value)
        texts.append(text)
        return sd.digest(text)

    def build(depth: int) -> dict[str, Any]:
        node: dict[str, Any] = {}
        digests: list[Any] = []
        for name in draw(st.lists(st.sampled_from(["a", "b", "c", "_sd_alg", "..."]), max_size=3)):
            value: Any = draw(scalars) if depth > 2 or draw(st.booleans()) else build(depth + 1)
            if draw(st.booleans()) and name != "...":
                digests.append(conceal(name, value))
            else:
                node[name] = value
        if draw(st.booleans()):
            node["list"] = [{"...": conceal(None, draw(scalars))}, draw(scalars), {"...": draw(st.text(max_size=3))}]
        digests += draw(st.lists(st.sampled_from(["decoy", 7, "decoy2"]), max_size=2))
        if draw(st.integers(0, 5)) == 0 and digests:
            digests.append(digests[0])  # a digest twice
        if digests or draw(st.booleans()):
            node["_sd"] = digests if draw(st.integers(0, 9)) else "not a list"
        return node

    payload = build(0)
    if draw(st.integers(0, 4)) == 0:
        texts.append(encode_disclosure("s", "loose", 1))  # referenced by nothing
    if texts and draw(st.integers(0, 4)) == 0:
        texts.append(texts[0])  # presented twice
    return payload, texts


@given(sd_payloads())
@settings(max_examples=800)
def test_unpack_matches_the_reference(case: tuple[dict[str, Any], list[str]]) -> None:
    payload, texts = case
    found = [decode_disclosure(text, max_size=4096) for text in texts]
    assert outcome(lambda: typed(unpack(payload, found))) == outcome(lambda: typed(reference_unpack(payload, found)))


@pytest.mark.parametrize("levels", range(sd.MAX_DEPTH - 3, sd.MAX_DEPTH + 3))
@pytest.mark.parametrize("leaf", [1, {}, [], {"x": 1}])
def test_unpack_depth_limit_matches_the_reference(levels: int, leaf: Any) -> None:
    texts: list[str] = []
    node: Any = leaf
    for level in range(levels):  # a chain of disclosures, each holding the digest of the next
        if level % 3 == 2:
            node = {"plain": node}
        else:
            text = encode_disclosure(f"s{level}", "c", node)
            texts.append(text)
            node = {"_sd": [sd.digest(text)]}
    found = [decode_disclosure(text, max_size=100_000) for text in texts]
    assert outcome(lambda: unpack(node, found)) == outcome(lambda: reference_unpack(node, found))


# -- issuing: the disclosure loop ------------------------------------------------------------------


@given(st.lists(st.tuples(names, values | st.text()), max_size=5, unique_by=lambda item: item[0]),
       st.lists(st.text(max_size=4) | st.integers(0, 2), min_size=5, max_size=5))
@settings(max_examples=800)
def test_disclose_matches_encode_disclosure_and_digest(claims: list[tuple[str, Any]], salts: list[Any]) -> None:
    salts = salts[: len(claims)]

    def reference() -> tuple[list[str], list[str]]:
        texts = [encode_disclosure(salt, name, value) for salt, (name, value) in zip(salts, claims, strict=True)]
        return texts, [sd.digest(text) for text in texts]

    def attempt(fn: Callable[[], Any]) -> tuple[str, Any]:
        try:
            return outcome(fn)
        except UnicodeEncodeError:  # a lone surrogate: both fail alike
            return "UnicodeEncodeError", None

    assert attempt(lambda: disclose(salts, dict(claims))) == attempt(reference)


def test_disclose_wants_one_salt_per_claim() -> None:
    with pytest.raises(ValueError, match="one salt per claim"):
        disclose(["s"], {"a": 1, "b": 2})


# -- compact JWS -----------------------------------------------------------------------------------

segments = st.sampled_from(["", "e30", "eyJhIjoxfQ", "W10", "e30=", "Zm9v", "eyJhIjoxLCJhIjoyfQ", "=",
                            "ey", "AAAAAA", "YQ", "YR"]) | st.text(alphabet=_ALPHABET + "+é", max_size=8)


@given(st.lists(segments, min_size=1, max_size=4).map(".".join))
@settings(max_examples=800)
def test_parse_and_split_compact_match_the_reference(token: str) -> None:
    def reference() -> tuple[Any, ...]:
        parts = token.split(".")
        if len(parts) != 3:
            raise MalformedError("a compact JWS has three parts")
        header = json_loads(reference_b64url_decode(parts[0]), max_size=1000)
        if not isinstance(header, dict):
            raise MalformedError("JWS header must be a JSON object")
        payload = reference_b64url_decode(parts[1])
        return header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), reference_b64url_decode(parts[2])

    split = outcome(lambda: tuple(vars_of(split_compact(token, max_size=1000))))
    assert split == outcome(reference)
    if split[0] == "ok":
        header, payload, signing_input, signature = split[1]

        def parsed_reference() -> tuple[Any, ...]:
            value = json_loads(payload, max_size=1000)
            if not isinstance(value, dict):
                raise MalformedError("JWS payload must be a JSON object")
            return header, value, signing_input, signature

        parsed = outcome(lambda: tuple(vars_of(parse_compact(token, max_size=1000))))
        assert parsed == outcome(parsed_reference)


def vars_of(item: Any) -> list[Any]:
    return [getattr(item, name) for name in item.__dataclass_fields__]


def test_json_dumps_round_trips_what_disclose_writes() -> None:
    texts, digests = disclose(["salt"], {"name": "张伟"})
    assert json.loads(b64url_decode(texts[0])) == ["salt", "name", "张伟"]
    assert json_dumps(["salt", "name", "张伟"]) == b64url_decode(texts[0])
    assert digests == [sd.digest(texts[0])]
