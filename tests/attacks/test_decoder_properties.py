"""Property tests on every decoder: whatever the input, only CredentialError subclasses escape, and
verifier.verify returns a result for any text without ever raising or hitting its internal-error path."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credential.base45 import ALPHABET, b45decode, b45encode
from credential.cose import cbor_loads, decode_sign1, load_cose_key
from credential.disclosures import decode_disclosure
from credential.encoding import b64url_decode, b64url_encode, inflate, json_loads
from credential.errors import CredentialError
from credential.jwk import load_public_jwk
from credential.qrpass import decode_qr_text
from credential.samples import sample_permit
from credential.statuslist import StatusList, parse_aggregation, verify_status_list_token
from credential.trustlist import verify_trust_list
from keys import KeyRing, KeySigner, Purpose
from tests.conftest import KEYS_CREATED, T0
from tests.verifier.conftest import STATUS_URI, World
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result, VerificationResult
from verifier.verify import INTERNAL_ERROR, verify

FAST = settings(max_examples=80, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)
cbor_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.binary(max_size=40) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.integers(-5, 70000) | st.text(max_size=4),
                                                                inner, max_size=5),
    max_leaves=12,
)


def only_ours(function: Any, *args: Any, **kwargs: Any) -> None:
    try:
        function(*args, **kwargs)
    except CredentialError:
        pass


def mutate(text: str, data: st.DataObject, alphabet: str) -> str:
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        position = data.draw(st.integers(0, max(len(text) - 1, 0)))
        op = data.draw(st.sampled_from(["replace", "delete", "insert", "cut"]))
        char = data.draw(st.sampled_from(alphabet))
        if op == "replace":
            text = text[:position] + char + text[position + 1:]
        elif op == "delete":
            text = text[:position] + text[position + 1:]
        elif op == "insert":
            text = text[:position] + char + text[position:]
        else:
            text = text[:position]
    return text


# --- byte-level decoders ---------------------------------------------------------------------------------


@FAST
@given(st.text(max_size=200) | st.text(alphabet=ALPHABET, max_size=200))
def test_base45(text: str) -> None:
    only_ours(b45decode, text)


@FAST
@given(st.binary(max_size=200))
def test_base45_round_trip(data: bytes) -> None:
    assert b45decode(b45encode(data)) == data


@FAST
@given(st.text(max_size=100) | st.text(alphabet=B64 + "=+/", max_size=100))
def test_b64url(text: str) -> None:
    only_ours(b64url_decode, text)


@FAST
@given(st.binary(max_size=300) | st.builds(lambda b: zlib.compress(b), st.binary(max_size=300)))
def test_inflate(data: bytes) -> None:
    only_ours(inflate, data, max_size=256)


@FAST
@given(st.binary(max_size=300) | st.text(max_size=300) | st.builds(lambda v: json.dumps(v), json_values))
def test_json(data: bytes | str) -> None:
    only_ours(json_loads, data, max_size=1000)


@FAST
@given(st.binary(max_size=300) | st.builds(cbor2.dumps, cbor_values))
def test_cbor_and_cose(data: bytes) -> None:
    only_ours(cbor_loads, data, max_size=1000)
    only_ours(decode_sign1, data, max_size=1000)
    only_ours(decode_sign1, cbor2.dumps(cbor2.CBORTag(18, [data, {}, data, data])), max_size=1000)


@FAST
@given(cbor_values)
def test_cose_key_and_jwk(value: Any) -> None:
    only_ours(load_cose_key, value)
    only_ours(load_public_jwk, value)


@FAST
@given(st.text(alphabet=B64, max_size=120) | st.builds(lambda v: b64url_encode(json.dumps(v).encode()),
                                                        json_values))
def test_disclosure(text: str) -> None:
    only_ours(decode_disclosure, text, max_size=1000)


@FAST
@given(json_values, st.text(alphabet=B64, max_size=60), json_values)
def test_status_list_object(value: Any, lst: str, bits: Any) -> None:
    only_ours(StatusList.from_json, value, max_size=1 << 12)
    only_ours(StatusList.from_json, {"bits": bits, "lst": lst}, max_size=1 << 12)
    only_ours(parse_aggregation, json.dumps(value).encode())


@FAST
@given(st.text(max_size=300) | st.text(alphabet=ALPHABET, max_size=300).map(lambda t: "EP1:" + t))
def test_qr_text(text: str) -> None:
    only_ours(decode_qr_text, text)


@FAST
@given(cbor_values)
def test_qr_text_around_any_cbor(value: Any) -> None:
    only_ours(decode_qr_text, "EP1:" + b45encode(zlib.compress(cbor2.dumps(value))))


# --- signed tokens: arbitrary and mutated -----------------------------------------------------------------

RING = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=KEYS_CREATED)
WORLD = World(ring=RING, holder=KeySigner.generate(), permit=sample_permit())
STATUS_TOKEN = WORLD.status_token()
TRUST_TOKEN = WORLD.trust_token()
ROOT_KEY = RING.root.public_key  # type: ignore[attr-defined]


def status_key(kid: str) -> Any:
    return RING.signer_for(Purpose.STATUS, now=T0).public_key


@FAST
@given(st.data())
def test_status_list_token(data: st.DataObject) -> None:
    token = data.draw(st.sampled_from([STATUS_TOKEN, "", "a.b.c"]) | st.text(max_size=80))
    only_ours(verify_status_list_token, mutate(token, data, B64 + "."), uri=STATUS_URI, resolve_key=status_key,
              now=T0)


@FAST
@given(st.data())
def test_trust_list_token(data: st.DataObject) -> None:
    token = data.draw(st.sampled_from([TRUST_TOKEN, "", "a.b.c"]) | st.text(max_size=80))
    only_ours(verify_trust_list, mutate(token, data, B64 + "."), root_key=ROOT_KEY, now=T0)


# --- the verifier: a result for any text ----------------------------------------------------------------


@pytest.fixture(scope="module")
def ready_cache(tmp_path_factory: pytest.TempPathFactory) -> VerifierCache:
    return WORLD.fill(VerifierCache(Path(tmp_path_factory.mktemp("property")) / "cache"))


SAMPLES = [WORLD.live_qr(), WORLD.static_qr(), WORLD.sd_jwt(), WORLD.presentation()]


DEFAULT = Policy()


def verified(text: str, cache: VerifierCache, policy: Policy = DEFAULT) -> VerificationResult:
    outcome = verify(text, cache, policy=policy, now=T0)
    assert isinstance(outcome.result, Result)
    assert not outcome.reason.startswith(INTERNAL_ERROR), (text[:80], outcome.reason)
    assert outcome.reason.isprintable()
    return outcome


def test_samples_are_valid(ready_cache: VerifierCache) -> None:
    for text in SAMPLES:
        assert verified(text, ready_cache).result is Result.VALID


@FAST
@given(st.text(max_size=500))
def test_verify_arbitrary_text(ready_cache: VerifierCache, text: str) -> None:
    verified(text, ready_cache)


@FAST
@given(st.data())
def test_verify_mutated_credentials(ready_cache: VerifierCache, data: st.DataObject) -> None:
    text = data.draw(st.sampled_from(SAMPLES), label="sample")
    alphabet = ALPHABET if text.startswith("EP1:") else B64 + "~."
    outcome = verified(mutate(text, data, alphabet), ready_cache, Policy(require_live=data.draw(st.booleans())))
    if outcome.result is Result.VALID:
        assert outcome.issuer_kid == RING.signer_for(Purpose.CREDENTIAL, now=T0).kid
