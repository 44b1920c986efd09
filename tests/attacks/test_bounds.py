"""Bounds: oversized input, deflate bombs (QR pass and status list), deeply nested JSON and CBOR, duplicate
keys. Every cap applies before the parser runs; a bomb is stopped in milliseconds with bounded memory."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cbor2
import pytest

from credential.encoding import b64url_encode, json_dumps
from credential.errors import MalformedError, TooLargeError
from credential.qrpass import MAX_INFLATED, MAX_QR_TEXT
from credential.statuslist import MAX_STATUS_LIST_TOKEN
from credential.trustlist import MAX_TRUST_LIST_SIZE
from tests.attacks.forge import (
    cbor_map_with_pairs,
    cose_sign1,
    jws,
    pass_parts,
    qr_text,
    qr_text_of_zlib,
    raw,
    raw_jws,
    split_jwt,
    zlib_of_zeros,
)
from tests.attacks.support import expect, issuer_jwt, with_jwt
from tests.conftest import T0
from tests.verifier.conftest import STATUS_URI, World
from verifier.cache import VerifierCache
from verifier.result import Result
from verifier.verify import MAX_INPUT

# Generous on purpose (shared CI machines): the point is "milliseconds and kilobytes", not "seconds and gigabytes".
# Each memory bound is far below what the bomb inflates to, so a full inflation fails the test.
BOMB_SECONDS = 0.25  # CPU seconds of this thread (not wall time: a loaded machine must not fail the test)
QR_BOMB_PEAK_BYTES = 1024 * 1024  # measured: about 55 kB for a 2 MiB bomb
STATUS_BOMB_PEAK_BYTES = 8 * 1024 * 1024  # measured: about 0.9 MB for a 64 MiB bomb in a 116 kB token


@dataclass
class Cost:
    seconds: float = 0.0
    peak: int = 0


@contextmanager
def measured() -> Iterator[Cost]:
    cost = Cost()
    tracemalloc.start()
    start = time.thread_time()
    try:
        yield cost
    finally:
        cost.seconds = time.thread_time() - start
        cost.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


# --- oversized input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: "x" * (MAX_INPUT + 1),
    lambda: "EP1:" + "0" * MAX_QR_TEXT,
    lambda: "a." * (MAX_INPUT // 2) + "~",
    lambda: "~" * (MAX_INPUT + 1),
], ids=["text", "qr", "jwt", "tildes"])
def test_oversized_input(filled: VerifierCache, make: Callable[[], str]) -> None:
    text = make()
    with measured() as cost:
        outcome = expect(Result.MALFORMED, text, filled)
    assert "exceeds" in outcome.reason
    assert cost.seconds < BOMB_SECONDS


def test_oversized_but_genuinely_signed_credential(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    padded = jws(header, {**payload, "padding": "x" * MAX_INPUT}, world.credential_signer)
    expect(Result.MALFORMED, with_jwt(sd, padded), filled)


def test_oversized_status_list_and_trust_list(world: World, filled: VerifierCache) -> None:
    with pytest.raises(TooLargeError):
        filled.accept_status_list(STATUS_URI, "a" * (MAX_STATUS_LIST_TOKEN + 1), T0)
    with pytest.raises(TooLargeError):
        filled.accept_trust_list("a" * (MAX_TRUST_LIST_SIZE + 1), T0)


# --- deflate bombs ---------------------------------------------------------------------------------------


def test_deflate_bomb_in_the_qr_pass(filled: VerifierCache) -> None:
    bomb = zlib_of_zeros(2 * 1024 * 1024)  # 2 MiB of zeros in about 2 kB
    text = qr_text_of_zlib(bomb)
    assert len(text) <= MAX_QR_TEXT  # it passes the first cap: inflation is what must stop it
    with measured() as cost:
        outcome = expect(Result.MALFORMED, text, filled)
    assert f"exceeds {MAX_INFLATED}" in outcome.reason
    assert cost.seconds < BOMB_SECONDS and cost.peak < QR_BOMB_PEAK_BYTES, cost


def test_deflate_bomb_in_the_live_pass_array(world: World, filled: VerifierCache) -> None:
    """A pass followed by megabytes of zeros inside the same zlib stream."""
    import zlib

    compressor = zlib.compressobj(9)
    data = compressor.compress(cbor2.dumps([cbor2.loads(world.cose_pass())]))
    data += compressor.compress(bytes(2 * 1024 * 1024)) + compressor.flush()
    expect(Result.MALFORMED, qr_text_of_zlib(data), filled)


def test_deflate_bomb_in_a_status_list(world: World, filled: VerifierCache) -> None:
    """Signed by the real status key, so only the inflation cap (entries x bits) stands in the way."""
    bomb = zlib_of_zeros(64 * 1024 * 1024)  # 64 MiB -> about 64 kB, 256 times the cap
    payload = {"sub": STATUS_URI, "iat": T0 - 60, "exp": T0 + 86400, "ttl": 300,
               "status_list": {"bits": 2, "lst": b64url_encode(bomb)}}
    token = jws({"alg": "ES256", "kid": world.status_signer.kid, "typ": "statuslist+jwt"}, payload,
                world.status_signer)
    assert len(token) <= MAX_STATUS_LIST_TOKEN
    held = filled.status_list(STATUS_URI)
    with measured() as cost, pytest.raises(TooLargeError):
        filled.accept_status_list(STATUS_URI, token, T0)
    assert cost.seconds < BOMB_SECONDS and cost.peak < STATUS_BOMB_PEAK_BYTES, cost
    assert filled.status_list(STATUS_URI) == held  # nothing replaced


# --- deeply nested JSON and CBOR -------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [17, 1000, 100_000])
def test_deeply_nested_json_in_the_header(world: World, filled: VerifierCache, depth: int) -> None:
    header = b'{"alg":"ES256","typ":"dc+sd-jwt","kid":"x","n":' + b"[" * depth + b"]" * depth + b"}"
    token = raw_jws(header, b"{}", world.credential_signer)
    with measured() as cost:
        expect(Result.MALFORMED, token + "~", filled)
    assert cost.seconds < BOMB_SECONDS


def test_deeply_nested_json_in_a_signed_payload(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    body = json_dumps(payload)[:-1] + b',"deep":' + b"{\"a\":" * 5000 + b"1" + b"}" * 5000 + b"}"
    token = raw_jws(json_dumps(header), body, world.credential_signer)
    expect(Result.MALFORMED, with_jwt(sd, token), filled)


def test_deeply_nested_disclosure(world: World, filled: VerifierCache) -> None:
    from credential.disclosures import digest

    disclosure = b64url_encode(b'["salt","deep",' + b"[" * 5000 + b"]" * 5000 + b"]")
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    payload["_sd"] = sorted([*payload["_sd"], digest(disclosure)])
    token = jws(header, payload, world.credential_signer)
    text = with_jwt(sd, token)[:-1] + disclosure + "~"
    expect(Result.MALFORMED, text, filled)


def test_deeply_nested_cbor_in_the_pass(world: World, filled: VerifierCache) -> None:
    protected, claims = pass_parts(world.cose_pass())
    deep = b"\x81" * 1000 + b"\x00"  # [[[...[0]...]]]
    encoded = cbor2.dumps(claims)
    payload = bytes([encoded[0] + 1]) + encoded[1:] + cbor2.dumps(99) + deep  # one more map entry: 99 -> [[[...]]]
    forged = cose_sign1(protected, payload, world.credential_signer)
    expect(Result.MALFORMED, qr_text(forged), filled)
    expect(Result.MALFORMED, qr_text(b"\x81" * 3000 + b"\x00"), filled)


# --- duplicate keys --------------------------------------------------------------------------------------


def test_duplicate_keys_in_the_credential_payload(world: World, filled: VerifierCache) -> None:
    """Two exp claims, the second far in the future: a parser keeping the last one would extend validity."""
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    body = json_dumps(payload)[:-1] + b',"exp":' + str(T0 + 100 * 365 * 86400).encode() + b"}"
    token = raw_jws(json_dumps(header), body, world.credential_signer)
    outcome = expect(Result.MALFORMED, with_jwt(sd, token), filled)
    assert "duplicate" in outcome.reason


def test_duplicate_keys_in_the_header(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    head = json_dumps(header)[:-1] + b',"typ":"statuslist+jwt"}'
    token = raw_jws(head, json_dumps(payload), world.credential_signer)
    expect(Result.MALFORMED, with_jwt(sd, token), filled)


def test_duplicate_keys_in_a_disclosure_and_the_kb_jwt(world: World, filled: VerifierCache) -> None:
    from credential.disclosures import digest

    disclosure = b64url_encode(b'["c2FsdHNhbHRzYWx0","cnf2",{"a":1,"a":2}]')
    sd = world.sd_jwt()
    header, payload, _ = split_jwt(issuer_jwt(sd))
    payload["_sd"] = sorted([*payload["_sd"], digest(disclosure)])
    token = jws(header, payload, world.credential_signer)
    expect(Result.MALFORMED, with_jwt(sd, token)[:-1] + disclosure + "~", filled)
    head, kb = world.presentation().rsplit("~", 1)
    kb_header, kb_payload, _ = split_jwt(kb)
    body = json_dumps(kb_payload)[:-1] + b',"nonce":"other"}'
    expect(Result.MALFORMED, f"{head}~{raw_jws(json_dumps(kb_header), body, world.holder)}", filled)


def test_duplicate_keys_in_the_qr_pass(world: World, filled: VerifierCache) -> None:
    protected, claims = pass_parts(world.cose_pass())
    pairs = [*claims.items(), (4, claims[4] + 100 * 365 * 86400)]  # exp twice
    forged = cose_sign1(protected, cbor_map_with_pairs(pairs), world.credential_signer)
    expect(Result.MALFORMED, qr_text(forged), filled)
    dup_header = cbor_map_with_pairs([*protected.items(), (16, 65002)])  # typ twice
    payload = cbor2.dumps(claims)
    signature = raw(world.credential_signer).sign(cbor2.dumps(["Signature1", dup_header, b"", payload]))
    expect(Result.MALFORMED, qr_text(cbor2.CBORTag(18, [dup_header, {}, payload, signature])), filled)


def test_duplicate_keys_in_status_and_trust_lists(world: World, filled: VerifierCache) -> None:
    header, payload, _ = split_jwt(world.status_token(now=T0 - 60))
    body = json_dumps(payload)[:-1] + b',"sub":"https://attacker.example/1"}'
    with pytest.raises(MalformedError, match="duplicate"):
        filled.accept_status_list(STATUS_URI, raw_jws(json_dumps(header), body, world.status_signer), T0)
    header, payload, _ = split_jwt(world.trust_token(version=2))
    body = json_dumps(payload)[:-1] + b',"version":99}'
    with pytest.raises(MalformedError, match="duplicate"):
        filled.accept_trust_list(raw_jws(json_dumps(header), body, world.ring.root), T0)
