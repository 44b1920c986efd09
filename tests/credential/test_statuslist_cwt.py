"""The Status List Token as a CWT: round trip, the draft's example, and every rejection of the JWT path."""

from __future__ import annotations

import dataclasses
import json
import time
import tracemalloc
import zlib
from typing import Any

import cbor2
import pytest

from credential.cose import HEADER_ALG, HEADER_KID, HEADER_TYP, Sign1, sig_structure, sign1
from credential.errors import (
    BadSignatureError,
    CredentialError,
    ForbiddenHeaderError,
    InvalidClaimError,
    MalformedError,
    MissingClaimError,
    StatusError,
    TooLargeError,
    UnsupportedAlgorithmError,
    UntrustedIssuerError,
    WrongTypeError,
)
from credential.jose import verify_signature
from credential.jwk import kid_bytes, load_public_jwk
from credential.statuslist import (
    CWT_EXP,
    CWT_IAT,
    CWT_STATUS_LIST,
    CWT_SUB,
    CWT_TTL,
    INVALID,
    MAX_STATUS_LIST_TOKEN,
    STATUS_LIST_CWT_TYP,
    SUSPENDED,
    StatusList,
    cwt_from_token,
    is_cwt,
    parse_status_list_cwt,
    sign_status_list_cwt,
    sign_status_list_token,
    unverified_cwt_claim,
    verify_status_list_cwt,
    verify_status_list_token,
)
from keys import Purpose, PurposeSigner
from keys.errors import KeyPurposeError
from keys.signers import KeySigner
from tests.conftest import T0
from tests.credential.test_statuslist import _gigabyte_of_zeros_deflated, _resolver
from tests.vectors_path import STATUS_LIST_VECTORS

URI = "https://permits.example.gov.cn/statuslists/1"
AGGREGATION = "https://permits.example.gov.cn/statuslists"
SMALL = {"bits": 1, "lst": bytes.fromhex("78dadbb918000217015d")}  # the draft's 1-bit, 16-entry list

# The draft's Status List Token in CWT form (oauth-wg/draft-ietf-oauth-status-list, examples/status_list_cwt.md at
# commit 13fbd9fc43cfa5f22112716d618f1fc6161d8a8f), signed by the key of the draft's JWT example (kid "12").
DRAFT_CWT = bytes.fromhex(
    "d2845820a2012610781a6170706c69636174696f6e2f7374617475736c6973742b63"
    "7774a1044231325850a502782168747470733a2f2f6578616d706c652e636f6d2f73"
    "74617475736c697374732f31061a648c5bea041a8898dfea19fffe19a8c019fffda2"
    "646269747301636c73744a78dadbb918000217015d584093fa4d01032b18c35e2fe1"
    "101b77fd6cc9440022caa4694450c4e4e9feab4e99d1fa6d9772ce2bf3a12e0323de"
    "d7c982c5e101a5e67f0cbc1e2b6f57ce99c279"
)


def _claims(**changes: Any) -> dict[int, Any]:
    claims: dict[int, Any] = {CWT_SUB: URI, CWT_IAT: T0, CWT_EXP: T0 + 600, CWT_TTL: 300, CWT_STATUS_LIST: SMALL}
    for label, value in changes.items():
        key = {"sub": CWT_SUB, "iat": CWT_IAT, "exp": CWT_EXP, "ttl": CWT_TTL, "status_list": CWT_STATUS_LIST}[label]
        if value is None:
            del claims[key]
        else:
            claims[key] = value
    return claims


def _cwt(signer: KeySigner, claims: dict[int, Any], *, typ: int | str = STATUS_LIST_CWT_TYP) -> bytes:
    return sign1(cbor2.dumps(claims), signer=signer, typ=typ, kid=kid_bytes(signer.kid)).encode()


def _with_protected(signer: KeySigner, protected: dict[int, Any], unprotected: dict[int, Any] | None = None) -> bytes:
    """A CWT whose protected header is exactly ``protected``, correctly signed over it."""
    protected_bytes = cbor2.dumps(protected)
    payload = cbor2.dumps(_claims())
    signature = signer.sign(sig_structure(protected_bytes, payload))
    return bytes(cbor2.dumps(cbor2.CBORTag(18, [protected_bytes, unprotected or {}, payload, signature])))


def _verify(data: bytes, signer: KeySigner, **options: Any) -> Any:
    return verify_status_list_cwt(data, uri=options.pop("uri", URI), resolve_key=_resolver(signer),
                                  now=options.pop("now", T0), **options)


def test_round_trip_names_the_draft_labels() -> None:
    signer = KeySigner.generate()
    lst = StatusList(1 << 20, 2)
    lst.set(0, INVALID)
    lst.set(123_456, SUSPENDED)
    data = sign_status_list_cwt(lst, uri=URI, signer=signer, now=T0, ttl=300, exp=T0 + 86400,
                                aggregation_uri=AGGREGATION)
    assert is_cwt(data) and data[:1] == b"\xd2"  # COSE_Sign1 tag 18, not the CWT tag 61 (0xd8 0x3d)
    message, claims = parse_status_list_cwt(data)
    assert message.protected == {HEADER_ALG: -7, HEADER_KID: kid_bytes(signer.kid), HEADER_TYP: STATUS_LIST_CWT_TYP}
    assert list(claims) == [CWT_SUB, CWT_IAT, CWT_EXP, CWT_TTL, CWT_STATUS_LIST]
    assert claims[CWT_STATUS_LIST] == {"bits": 2, "lst": zlib.compress(lst.data, 9), "aggregation_uri": AGGREGATION}
    verified = _verify(data, signer, now=T0 + 10)
    assert verified.status_list.data == lst.data
    assert (verified.uri, verified.iat, verified.exp, verified.ttl, verified.kid, verified.aggregation_uri) == (
        URI, T0, T0 + 86400, 300, signer.kid, AGGREGATION)
    assert unverified_cwt_claim(data, CWT_IAT) == T0


def test_eddsa_and_a_purpose_signer() -> None:
    signer = KeySigner.generate("EdDSA")
    data = sign_status_list_cwt(StatusList(16, 1), uri=URI, signer=signer, now=T0, ttl=60, exp=T0 + 60)
    assert _verify(data, signer).status_list.size == 16
    status = PurposeSigner(KeySigner.generate(), Purpose.STATUS, not_after=T0 + 60)
    assert sign_status_list_cwt(StatusList(16, 1), uri=URI, signer=status, now=T0, ttl=60, exp=T0 + 60)
    credential = PurposeSigner(KeySigner.generate(), Purpose.CREDENTIAL)
    with pytest.raises(KeyPurposeError):
        sign_status_list_cwt(StatusList(16, 1), uri=URI, signer=credential, now=T0, ttl=60, exp=T0 + 60)


def test_the_draft_example_encodes_as_ours_and_is_refused_for_its_unprotected_kid() -> None:
    vectors = json.loads(STATUS_LIST_VECTORS.read_text())
    key = load_public_jwk({k: v for k, v in vectors["signed_jwt"]["public_jwk"].items() if k != "kid"})
    protected, unprotected, payload, signature = cbor2.loads(DRAFT_CWT).value
    verify_signature("ES256", key, sig_structure(protected, payload), signature)  # our Sig_structure, their key
    assert cbor2.loads(protected) == {HEADER_ALG: -7, HEADER_TYP: STATUS_LIST_CWT_TYP}
    # The same claims signed here give the draft's payload byte for byte: labels, order, lst as a bstr.
    draft = cbor2.loads(payload)
    lst = StatusList.from_cbor(draft[CWT_STATUS_LIST], max_size=16)
    ours = sign_status_list_cwt(lst, uri=draft[CWT_SUB], signer=KeySigner.generate(), now=draft[CWT_IAT],
                                ttl=draft[CWT_TTL], exp=draft[CWT_EXP])
    assert parse_status_list_cwt(ours)[0].payload == payload
    # The draft puts its kid in the unprotected header, which nothing signs: our profile refuses that.
    assert unprotected == {HEADER_KID: b"12"}
    with pytest.raises(ForbiddenHeaderError):
        verify_status_list_cwt(DRAFT_CWT, uri=draft[CWT_SUB], resolve_key=lambda kid: key, now=draft[CWT_IAT])


def test_cwt_from_token_keeps_the_claims_and_the_very_zlib_bytes() -> None:
    signer = KeySigner.generate()
    lst = StatusList(4096, 2)
    lst.set(9, INVALID)
    token = sign_status_list_token(lst, uri=URI, signer=signer, now=T0, ttl=300, exp=T0 + 86400,
                                   aggregation_uri=AGGREGATION, x5c=[b"leaf", b"root"])
    asked: list[str] = []

    def signer_for(kid: str) -> KeySigner:
        asked.append(kid)
        return signer

    data = cwt_from_token(token, signer_for=signer_for)
    assert asked == [signer.kid]
    from_jwt = verify_status_list_token(token, uri=URI, resolve_key=_resolver(signer), now=T0)
    from_cwt = _verify(data, signer)
    assert dataclasses.replace(from_cwt, status_list=lst) == dataclasses.replace(from_jwt, status_list=lst)
    assert (from_cwt.status_list.bits, from_cwt.status_list.data) == (2, from_jwt.status_list.data)
    assert parse_status_list_cwt(data)[1][CWT_STATUS_LIST]["lst"] == zlib.compress(lst.data, 9)


# --- every rejection of the JWT path, in CBOR -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"sub": None}, MissingClaimError),
        ({"iat": None}, MissingClaimError),
        ({"status_list": None}, MissingClaimError),
        ({"iat": "1767600000"}, InvalidClaimError),
        ({"iat": True}, InvalidClaimError),
        ({"exp": -1}, InvalidClaimError),
        ({"ttl": "300"}, InvalidClaimError),
        ({"sub": 7}, InvalidClaimError),
        ({"status_list": {"bits": 3, "lst": SMALL["lst"]}}, InvalidClaimError),
        ({"status_list": {"bits": True, "lst": SMALL["lst"]}}, InvalidClaimError),
        ({"status_list": {"bits": 1}}, MissingClaimError),
        ({"status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}, InvalidClaimError),  # the JSON spelling
        ({"status_list": {"bits": 1, "lst": b"\x78\xda"}}, MalformedError),  # truncated zlib
        ({"status_list": {"bits": 1, "lst": zlib.compress(b"")}}, InvalidClaimError),
        ({"status_list": {**SMALL, "aggregation_uri": 5}}, InvalidClaimError),
        ({"status_list": [1]}, InvalidClaimError),
        ({"iat": T0 + 3600}, StatusError),  # issued in the future
        ({"exp": T0}, StatusError),  # expired
        ({"sub": URI + "0"}, StatusError),  # another list's token
    ],
)
def test_bad_claims_are_rejected(changes: dict[str, Any], error: type[CredentialError]) -> None:
    signer = KeySigner.generate()
    with pytest.raises(error):
        _verify(_cwt(signer, _claims(**changes)), signer)


def test_wrong_typ_is_rejected() -> None:
    signer = KeySigner.generate()
    for typ in ("statuslist+cwt", "application/statuslist+jwt", "application/cwt", 65001, 61):
        with pytest.raises(WrongTypeError):
            _verify(_cwt(signer, _claims(), typ=typ), signer)
    with pytest.raises(WrongTypeError):  # no typ at all
        _verify(_with_protected(signer, {HEADER_ALG: -7, HEADER_KID: kid_bytes(signer.kid)}), signer)


def test_algorithm_is_pinned() -> None:
    signer = KeySigner.generate()
    kid = kid_bytes(signer.kid)
    for alg in (-35, -257, 0):  # ES384, RS256, none of ours
        with pytest.raises(UnsupportedAlgorithmError):
            _verify(_with_protected(signer, {HEADER_ALG: alg, HEADER_KID: kid, HEADER_TYP: STATUS_LIST_CWT_TYP}),
                    signer)
    with pytest.raises(UnsupportedAlgorithmError):  # no alg: a status list never leaves it implicit
        _verify(_with_protected(signer, {HEADER_KID: kid, HEADER_TYP: STATUS_LIST_CWT_TYP}), signer)


def test_headers_that_would_bring_a_key_or_an_extension_are_refused() -> None:
    signer = KeySigner.generate()
    base = {HEADER_ALG: -7, HEADER_KID: kid_bytes(signer.kid), HEADER_TYP: STATUS_LIST_CWT_TYP}
    for label in (33, 34, 32, 2):  # x5chain, x5t, x5bag, crit
        with pytest.raises(ForbiddenHeaderError):
            _verify(_with_protected(signer, {**base, label: b"x"}), signer)
    with pytest.raises(ForbiddenHeaderError):  # unsigned, so anyone could have put it there
        _verify(_with_protected(signer, base, unprotected={HEADER_KID: kid_bytes(signer.kid)}), signer)
    with pytest.raises(MalformedError, match="kid"):
        _verify(_with_protected(signer, {HEADER_ALG: -7, HEADER_TYP: STATUS_LIST_CWT_TYP}), signer)
    with pytest.raises(MalformedError, match="8 bytes"):
        _verify(_with_protected(signer, {**base, HEADER_KID: b"12"}), signer)


def test_bad_signature_and_untrusted_kid() -> None:
    signer = KeySigner.generate()
    data = _cwt(signer, _claims())
    tampered = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(BadSignatureError):
        _verify(tampered, signer)
    resigned = _cwt(signer, _claims(sub=URI.replace("1", "2")))
    message = parse_status_list_cwt(data)[0]
    swapped = Sign1(message.protected, message.protected_bytes, parse_status_list_cwt(resigned)[0].payload,
                    message.signature).encode()
    with pytest.raises(BadSignatureError):  # another payload under this signature
        _verify(swapped, signer, uri=URI.replace("1", "2"))
    with pytest.raises(UntrustedIssuerError):
        verify_status_list_cwt(data, uri=URI, resolve_key=_resolver(KeySigner.generate()), now=T0)
    with pytest.raises(BadSignatureError):  # a trusted key, but not the one that signed
        verify_status_list_cwt(data, uri=URI, resolve_key=lambda kid: KeySigner.generate().public_key, now=T0)


def test_envelope_must_be_strict_cbor_with_tag_18() -> None:
    signer = KeySigner.generate()
    data = _cwt(signer, _claims())
    body = cbor2.loads(data).value
    for bad in (
        cbor2.dumps(list(body)),  # untagged
        cbor2.dumps(cbor2.CBORTag(61, cbor2.CBORTag(18, list(body)))),  # the CWT tag 61 the draft rules out
        cbor2.dumps(cbor2.CBORTag(17, list(body))),  # COSE_Mac0: not accepted here
        data + b"\x00",  # trailing bytes
        data[:-3],  # truncated
        b"\xd2\x9f" + data[2:],  # an indefinite-length array
        b"eyJhbGciOiJFUzI1NiJ9.e30.c2ln",  # a JWT is not a CWT
    ):
        with pytest.raises(MalformedError):
            _verify(bad, signer)
    with pytest.raises(MalformedError):
        verify_status_list_cwt("not bytes", uri=URI, resolve_key=_resolver(signer), now=T0)  # type: ignore[arg-type]


def test_claims_must_be_strict_cbor() -> None:
    signer = KeySigner.generate()
    good = cbor2.dumps(_claims())
    assert good[0] == 0xA5 and good[1] == CWT_SUB  # map(5), first key 2 (sub)
    duplicate = b"\xa6\x02" + cbor2.dumps(URI.replace("1", "9")) + good[1:]  # sub twice, first another URI
    longer = b"\xa5\x18\x02" + good[2:]  # key 2 as a one-byte argument: not the preferred serialisation
    for payload in (duplicate, longer, cbor2.dumps([1, 2]), good + b"\x00", cbor2.dumps({**_claims(), 9: 1.5})):
        message = sign1(payload, signer=signer, typ=STATUS_LIST_CWT_TYP, kid=kid_bytes(signer.kid))
        with pytest.raises(MalformedError):
            _verify(message.encode(), signer)
    message = sign1(cbor2.dumps({**_claims(), 99: "other claims are allowed"}), signer=signer,
                    typ=STATUS_LIST_CWT_TYP, kid=kid_bytes(signer.kid))
    assert _verify(message.encode(), signer).uri == URI  # as in the JWT: other claims are allowed


def test_oversized_input_is_refused_before_parsing() -> None:
    signer = KeySigner.generate()
    huge = b"\xd2" + b"\x00" * MAX_STATUS_LIST_TOKEN  # one byte over the cap, and not CBOR at all
    with pytest.raises(TooLargeError):
        _verify(huge, signer)
    lst = StatusList(1 << 20, 2)
    data = sign_status_list_cwt(lst, uri=URI, signer=signer, now=T0, ttl=300, exp=T0 + 600)
    with pytest.raises(TooLargeError):  # a list larger than the verifier accepts
        _verify(data, signer, max_entries=1 << 19)


def test_deflate_bomb_is_rejected_quickly_with_bounded_memory() -> None:
    signer = KeySigner.generate()
    bomb = _gigabyte_of_zeros_deflated()
    data = _cwt(signer, _claims(status_list={"bits": 2, "lst": bomb}))
    assert len(data) < MAX_STATUS_LIST_TOKEN
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(TooLargeError):
        _verify(data, signer)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 8 * len(data) + (1 << 20)  # the cap and the input, not the gigabyte


def test_is_cwt_tells_the_forms_apart() -> None:
    signer = KeySigner.generate()
    lst = StatusList(16, 1)
    token = sign_status_list_token(lst, uri=URI, signer=signer, now=T0, ttl=60, exp=T0 + 60)
    assert not is_cwt(token) and not is_cwt(token.encode()) and not is_cwt(b"") and not is_cwt(b"\xd2")
    assert is_cwt(sign_status_list_cwt(lst, uri=URI, signer=signer, now=T0, ttl=60, exp=T0 + 60))
