"""Every Wycheproof vector for the algorithms we accept, run through credential.jose.

`acceptable` cases do not occur in these files (checked below); if a later copy brings some, they must be
rejected: a verifier that says VALID should only ever do so for an unambiguous signature.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key

from credential.errors import CredentialError
from credential.jose import check_header, split_compact, verify_signature
from credential.jwk import PublicKey, load_public_jwk
from tests.vectors_path import WYCHEPROOF_DIR


def cases(filename: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    data = json.loads((WYCHEPROOF_DIR / filename).read_text())
    return [(group, test) for group in data["testGroups"] for test in group["tests"]]


def ids(items: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    return [f"tc{test['tcId']}-{test['result']}" for _, test in items]


def public_key(group: dict[str, Any]) -> PublicKey:
    key = load_der_public_key(bytes.fromhex(group["publicKeyDer"]))
    assert isinstance(key, (ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey))
    return key


def check(alg: str, key: PublicKey, msg: bytes, sig: bytes, expected: str) -> None:
    if expected == "valid":
        verify_signature(alg, key, msg, sig)
    else:
        with pytest.raises(CredentialError):
            verify_signature(alg, key, msg, sig)


P1363 = cases("ecdsa_secp256r1_sha256_p1363_test.json")
EDDSA = cases("ed25519_test.json")
DER = cases("ecdsa_secp256r1_sha256_test.json")
JWS = cases("json_web_signature_test.json")


def test_the_vector_files_have_no_acceptable_cases() -> None:
    assert {test["result"] for _, test in P1363 + EDDSA + DER + JWS} == {"valid", "invalid"}


@pytest.mark.parametrize(("group", "test"), P1363, ids=ids(P1363))
def test_es256_p1363(group: dict[str, Any], test: dict[str, Any]) -> None:
    check("ES256", public_key(group), bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"]), test["result"])


@pytest.mark.parametrize(("group", "test"), EDDSA, ids=ids(EDDSA))
def test_ed25519(group: dict[str, Any], test: dict[str, Any]) -> None:
    check("EdDSA", public_key(group), bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"]), test["result"])


def der_to_raw(sig: bytes) -> bytes:
    """Strict DER -> r||s: anything that does not re-encode to the same bytes is not a DER signature."""
    try:
        r, s = decode_dss_signature(sig)
    except ValueError as exc:
        raise CredentialError("not a DER ECDSA signature") from exc
    if encode_dss_signature(r, s) != sig or r.bit_length() > 256 or s.bit_length() > 256 or r < 0 or s < 0:
        raise CredentialError("non-canonical DER ECDSA signature")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@pytest.mark.parametrize(("group", "test"), DER, ids=ids(DER))
def test_es256_der(group: dict[str, Any], test: dict[str, Any]) -> None:
    # X.509 certificates carry DER signatures; everything else we read carries r||s. Both end in verify_signature.
    key, msg, sig = public_key(group), bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    if test["result"] == "valid":
        verify_signature("ES256", key, msg, der_to_raw(sig))
    else:
        with pytest.raises(CredentialError):
            verify_signature("ES256", key, msg, der_to_raw(sig))


def verify_jws(token: str, key_jwk: dict[str, Any]) -> None:
    """Our compact-JWS path with the key pinned by the verifier (the vectors carry no typ/kid)."""
    jws = split_compact(token, max_size=64 * 1024)
    check_header(jws.header, typ=(jws.header.get("typ"),), algorithms=("ES256", "EdDSA"))
    key = load_public_jwk({k: v for k, v in key_jwk.items() if k != "d"})  # the group gives the private JWK
    verify_signature(jws.header["alg"], key, jws.signing_input, jws.signature)


@pytest.mark.parametrize(("group", "test"), JWS, ids=ids(JWS))
def test_json_web_signature(group: dict[str, Any], test: dict[str, Any]) -> None:
    private = group.get("private", {})
    pinned_es256 = private.get("kty") == "EC" and private.get("crv") == "P-256" and private.get("alg") == "ES256"
    if test["result"] == "valid" and pinned_es256:
        verify_jws(test["jws"], private)
    else:
        # Invalid cases, and valid tokens in algorithms outside our pinned allow-list (HS*, RS*, PS*, ES512):
        # rejected, the latter by policy.
        with pytest.raises(CredentialError):
            verify_jws(test["jws"], private if private.get("kty") in ("EC", "OKP") else {"kty": "none"})
