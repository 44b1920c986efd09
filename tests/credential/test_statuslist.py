from __future__ import annotations

import base64
import json
import time
import tracemalloc
import zlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credential.encoding import b64url_decode, b64url_encode, json_dumps
from credential.errors import (
    BadSignatureError,
    CredentialError,
    ForbiddenHeaderError,
    InvalidClaimError,
    MalformedError,
    MissingClaimError,
    StatusError,
    TooLargeError,
    UntrustedIssuerError,
    WrongTypeError,
)
from credential.jose import sign_compact
from credential.jwk import PublicKey, load_public_jwk
from credential.statuslist import (
    INVALID,
    SUSPENDED,
    VALID,
    StatusList,
    aggregation_document,
    lsb_to_msb,
    msb_to_lsb,
    parse_aggregation,
    sign_status_list_token,
    status_reference,
    verify_status_list_token,
)
from keys.signers import KeySigner
from tests.conftest import T0
from tests.vectors_path import STATUS_LIST_VECTORS

VECTORS = json.loads(STATUS_LIST_VECTORS.read_text())
URI = "https://permits.example.gov.cn/statuslists/1"


def _resolver(signer: KeySigner) -> Any:
    def resolve(kid: str) -> PublicKey:
        if kid != signer.kid:
            raise UntrustedIssuerError(kid)
        return signer.public_key

    return resolve


@pytest.mark.parametrize("vector", VECTORS["lists"], ids=lambda v: v["name"])
def test_draft_vectors_decode_and_reencode_exactly(vector: dict[str, Any]) -> None:
    lst = StatusList.from_json({"bits": vector["bits"], "lst": vector["lst"]}, max_size=vector["size"])
    assert (lst.size, lst.bits) == (vector["size"], vector["bits"])
    for idx, status in vector["statuses"].items():
        assert lst.get(int(idx)) == status
    # Built from the listed statuses alone: equal bytes prove every other entry is 0, and level-9 zlib
    # reproduces the draft's `lst` byte for byte.
    built = StatusList(vector["size"], vector["bits"])
    for idx, status in vector["statuses"].items():
        built.set(int(idx), status)
    assert built.data == lst.data
    assert built.to_json() == {"bits": vector["bits"], "lst": vector["lst"]}


def test_signed_draft_token_verifies() -> None:
    example = VECTORS["signed_jwt"]
    key = load_public_jwk({k: v for k, v in example["public_jwk"].items() if k != "kid"})

    def resolve(kid: str) -> PublicKey:
        if kid != "12":
            raise UntrustedIssuerError(kid)
        return key

    claims = example["expected_claims"]
    verified = verify_status_list_token(
        example["token"], uri=claims["sub"], resolve_key=resolve, now=claims["iat"] + 3600
    )
    assert (verified.uri, verified.iat, verified.exp, verified.ttl, verified.kid) == (
        claims["sub"], claims["iat"], claims["exp"], claims["ttl"], "12",
    )
    assert [verified.status_list.get(i) for i in range(16)] == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    with pytest.raises(StatusError, match="expired"):
        verify_status_list_token(example["token"], uri=claims["sub"], resolve_key=resolve, now=claims["exp"])
    with pytest.raises(StatusError, match="another URI"):
        verify_status_list_token(example["token"], uri=URI, resolve_key=resolve, now=claims["iat"] + 3600)
    tampered = example["token"][:-4] + ("AAAA" if not example["token"].endswith("AAAA") else "BBBB")
    with pytest.raises(BadSignatureError):
        verify_status_list_token(tampered, uri=claims["sub"], resolve_key=resolve, now=claims["iat"] + 3600)


# research/standards.md §2: the draft's examples written into Redis with SETBIT / BITFIELD u2.
@pytest.mark.parametrize(
    ("bits", "redis_hex", "tsl_hex", "lst"),
    [(1, "9dc5", "b9a3", "eNrbuRgAAhcBXQ"), (2, "63116f", "c944f9", "eNo76fITAAPfAgc")],
)
def test_redis_msb_first_conversion(bits: int, redis_hex: str, tsl_hex: str, lst: str) -> None:
    tsl = msb_to_lsb(bytes.fromhex(redis_hex), bits)
    assert tsl.hex() == tsl_hex
    assert lsb_to_msb(tsl, bits).hex() == redis_hex
    assert StatusList(len(tsl) * 8 // bits, bits, tsl).to_json()["lst"] == lst


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_redis_conversion_matches_msb_numbering(bits: int) -> None:
    # Redis numbers bit 0 as the most significant bit of byte 0; a status v at index i in Redis order
    # must read back as v at index i after the conversion.
    size = 64 // bits
    values = [(i * 7 + 3) % (1 << bits) for i in range(size)]
    redis_bits = "".join(format(v, f"0{bits}b") for v in values)
    redis = int(redis_bits, 2).to_bytes(8, "big")
    lst = StatusList(size, bits, msb_to_lsb(redis, bits))
    assert [lst.get(i) for i in range(size)] == values


def _gigabyte_of_zeros_deflated() -> bytes:
    """A valid zlib stream of 1 GiB of zeros (about 1 MB), built in under a second: after a full flush
    every 1 MiB block of zeros compresses to the same bytes, so one block is repeated."""
    chunk, compressor = bytes(1 << 20), zlib.compressobj(9)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = (compressor.compress(chunk) + compressor.flush())[:-4]  # without its Adler-32 of 3 MiB
    adler = 1
    for _ in range(1024):
        adler = zlib.adler32(chunk, adler)
    return first + block * 1022 + last + adler.to_bytes(4, "big")


def test_deflate_bomb_is_rejected_quickly_with_bounded_memory() -> None:
    bomb = _gigabyte_of_zeros_deflated()
    assert zlib.decompressobj().decompress(bomb, 1 << 20) == bytes(1 << 20)  # it is real zlib
    lst = b64url_encode(bomb)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(TooLargeError):
        StatusList.from_json({"bits": 2, "lst": lst}, max_size=1 << 20)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 8 * len(lst) + (1 << 20)  # the cap (256 KiB here), not the gigabyte

    signer = KeySigner.generate()
    token = sign_compact(
        {"typ": "statuslist+jwt"},
        {"sub": URI, "iat": T0, "exp": T0 + 600, "status_list": {"bits": 2, "lst": lst}},
        signer,
    )
    with pytest.raises(TooLargeError):
        verify_status_list_token(token, uri=URI, resolve_key=_resolver(signer), now=T0)


def test_sign_and_verify_round_trip() -> None:
    signer = KeySigner.generate()
    lst = StatusList(1 << 20, 2)
    lst.set(0, INVALID)
    lst.set(123_456, SUSPENDED)
    lst.set((1 << 20) - 1, INVALID)
    token = sign_status_list_token(lst, uri=URI, signer=signer, now=T0, ttl=300, exp=T0 + 86400)
    verified = verify_status_list_token(token, uri=URI, resolve_key=_resolver(signer), now=T0 + 10)
    assert verified.status_list.data == lst.data
    assert (verified.iat, verified.exp, verified.ttl, verified.kid) == (T0, T0 + 86400, 300, signer.kid)
    assert verified.status_list.get(123_456) == SUSPENDED and verified.status_list.get(1) == VALID
    with pytest.raises(StatusError, match="expired"):
        verify_status_list_token(token, uri=URI, resolve_key=_resolver(signer), now=T0 + 86400)
    with pytest.raises(StatusError):
        verify_status_list_token(token, uri=URI + "0", resolve_key=_resolver(signer), now=T0)
    with pytest.raises(UntrustedIssuerError):
        verify_status_list_token(token, uri=URI, resolve_key=_resolver(KeySigner.generate()), now=T0)
    with pytest.raises(TooLargeError):  # a list larger than the verifier accepts
        verify_status_list_token(token, uri=URI, resolve_key=_resolver(signer), now=T0, max_entries=1 << 19)


def test_eddsa_status_list() -> None:
    signer = KeySigner.generate("EdDSA")
    token = sign_status_list_token(StatusList(16, 1), uri=URI, signer=signer, now=T0, ttl=60, exp=T0 + 60)
    assert verify_status_list_token(token, uri=URI, resolve_key=_resolver(signer), now=T0).status_list.size == 16


def _token(signer: KeySigner, claims: dict[str, Any], typ: str = "statuslist+jwt") -> str:
    return sign_compact({"typ": typ}, claims, signer)


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"iat": T0, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}, MissingClaimError),
        ({"sub": URI, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}, MissingClaimError),
        ({"sub": URI, "iat": T0}, MissingClaimError),
        ({"sub": URI, "iat": "1767600000", "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}, InvalidClaimError),
        ({"sub": URI, "iat": True, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}, InvalidClaimError),
        ({"sub": URI, "iat": T0, "status_list": {"bits": 3, "lst": "eNrbuRgAAhcBXQ"}}, InvalidClaimError),
        ({"sub": URI, "iat": T0, "status_list": {"bits": True, "lst": "eNrbuRgAAhcBXQ"}}, InvalidClaimError),
        ({"sub": URI, "iat": T0, "status_list": {"bits": 1}}, MissingClaimError),
        ({"sub": URI, "iat": T0, "status_list": {"bits": 1, "lst": "!!"}}, MalformedError),
        ({"sub": URI, "iat": T0, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBX"}}, MalformedError),
        ({"sub": URI, "iat": T0, "status_list": {"bits": 1, "lst": b64url_encode(zlib.compress(b""))}},
         InvalidClaimError),
        ({"sub": URI, "iat": T0, "status_list": [1]}, InvalidClaimError),
        ({"sub": URI, "iat": T0 + 3600, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}, StatusError),
        ({"sub": 7, "iat": T0, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}, InvalidClaimError),
        ({"sub": URI, "iat": T0, "exp": -1, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}},
         InvalidClaimError),
    ],
)
def test_bad_claims_are_rejected(claims: dict[str, Any], error: type[CredentialError]) -> None:
    signer = KeySigner.generate()
    with pytest.raises(error):
        verify_status_list_token(_token(signer, claims), uri=URI, resolve_key=_resolver(signer), now=T0)


def test_wrong_typ_is_rejected() -> None:
    signer = KeySigner.generate()
    claims = {"sub": URI, "iat": T0, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}
    for typ in ("dc+sd-jwt", "JWT", "statuslist+cwt"):
        with pytest.raises(WrongTypeError):
            verify_status_list_token(_token(signer, claims, typ), uri=URI, resolve_key=_resolver(signer), now=T0)


def test_bounds() -> None:
    lst = StatusList(12, 2)
    for idx in (-1, 12, 1 << 40, True, "1"):
        with pytest.raises(StatusError, match="index out of range"):
            lst.get(idx)  # type: ignore[arg-type]
    with pytest.raises(StatusError):
        lst.set(0, 4)
    with pytest.raises(StatusError):
        lst.set(12, 1)
    with pytest.raises(InvalidClaimError):
        StatusList(8, 3)
    with pytest.raises(MalformedError):
        StatusList(16, 1, b"\x00")
    with pytest.raises(ValueError):
        StatusList(0, 1)


@given(st.integers(0, 3).map(lambda n: 1 << n), st.data())
def test_set_get_round_trip(bits: int, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, 200))
    values = data.draw(st.lists(st.integers(0, (1 << bits) - 1), min_size=size, max_size=size))
    lst = StatusList(size, bits)
    for idx, value in enumerate(values):
        lst.set(idx, value)
    assert [lst.get(i) for i in range(size)] == values
    again = StatusList.from_json(lst.to_json(), max_size=size + 8)
    assert [again.get(i) for i in range(size)] == values
    # msb/lsb conversion is its own inverse
    assert msb_to_lsb(msb_to_lsb(lst.data, bits), bits) == lst.data


def test_status_reference() -> None:
    assert status_reference({"status_list": {"idx": 5, "uri": URI}}) == (URI, 5)
    bad: object
    for bad in (
        {"status_list": {"idx": -1, "uri": URI}},
        {"status_list": {"idx": True, "uri": URI}},
        {"status_list": {"idx": "5", "uri": URI}},
        {"status_list": {"idx": 5, "uri": ""}},
        {"status_list": {"idx": 5}},
        {"status_list": [5, URI]},
        {},
        [],
    ):
        with pytest.raises(InvalidClaimError):
            status_reference(bad)


def test_aggregation() -> None:
    uris = [URI, "https://permits.example.gov.cn/statuslists/2"]
    doc = aggregation_document(uris)
    assert doc == {"status_lists": uris}
    assert parse_aggregation(json_dumps(doc)) == uris
    for bad in (b"[]", b'{"status_lists": "x"}', b'{"status_lists": [1]}', b'{"status_lists": [""]}',
                b'{"status_lists": [], "status_lists": []}', b"{"):
        with pytest.raises(MalformedError):
            parse_aggregation(bad)
    with pytest.raises(TooLargeError):
        parse_aggregation(b" " * (256 * 1024 + 1))


def test_an_x5c_chain_is_accepted_and_never_trusted() -> None:
    """Issue 14: generic verifiers resolve the key by x5c, so our lists carry one; ours still resolve by kid."""
    signer, attacker = KeySigner.generate(), KeySigner.generate()
    lst = StatusList(16, 1)
    lst.set(3, INVALID)
    token = sign_status_list_token(lst, uri=URI, signer=signer, now=T0, ttl=60, exp=T0 + 60,
                                   x5c=[b"not even a certificate"])
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header["x5c"] == [base64.b64encode(b"not even a certificate").decode()]  # base64, not base64url
    assert verify_status_list_token(token, uri=URI, resolve_key=_resolver(signer), now=T0).status_list.get(3) == 1
    # A chain for the attacker's own key buys the attacker nothing: their kid is not a trusted key.
    forged = sign_status_list_token(StatusList(16, 1), uri=URI, signer=attacker, now=T0, ttl=60, exp=T0 + 60,
                                    x5c=[b"attacker certificate", b"attacker root"])
    with pytest.raises(UntrustedIssuerError):
        verify_status_list_token(forged, uri=URI, resolve_key=_resolver(signer), now=T0)
    with pytest.raises(ForbiddenHeaderError):  # the other headers that name a key stay refused
        verify_status_list_token(sign_compact({"typ": "statuslist+jwt", "jwk": {}}, {}, signer), uri=URI,
                                 resolve_key=_resolver(signer), now=T0)


def test_aggregation_uri_is_written_and_read() -> None:
    signer = KeySigner.generate()
    aggregation = "https://permits.example.gov.cn/statuslists"
    token = sign_status_list_token(StatusList(16, 1), uri=URI, signer=signer, now=T0, ttl=60, exp=T0 + 60,
                                   aggregation_uri=aggregation)
    payload = json.loads(b64url_decode(token.split(".")[1]))
    assert payload["status_list"] == {"bits": 1, "lst": StatusList(16, 1).to_json()["lst"],
                                      "aggregation_uri": aggregation}
    verified = verify_status_list_token(token, uri=URI, resolve_key=_resolver(signer), now=T0)
    assert verified.aggregation_uri == aggregation
    for bad in (5, "", "x" * 2049):
        claims = {"sub": URI, "iat": T0, "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ", "aggregation_uri": bad}}
        with pytest.raises(InvalidClaimError):
            verify_status_list_token(_token(signer, claims), uri=URI, resolve_key=_resolver(signer), now=T0)
