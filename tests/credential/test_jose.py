"""Named regression tests for the JOSE attacks our verification layer must stop (research/security.md §1)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credential.encoding import b64url_encode, json_dumps
from credential.errors import (
    BadSignatureError,
    ExpiredError,
    ForbiddenHeaderError,
    InvalidClaimError,
    MalformedError,
    MissingClaimError,
    NotYetValidError,
    TooLargeError,
    UnsupportedAlgorithmError,
    UntrustedIssuerError,
    WrongTypeError,
)
from credential.jose import check_time_claims, sign_compact, verify_compact
from credential.jwk import PublicKey, key_id, load_public_jwk, public_jwk, thumbprint
from keys.signers import KeySigner
from tests.conftest import T0

TYP = "example+jwt"


@pytest.fixture
def signer() -> KeySigner:
    return KeySigner.generate()


def resolver(*signers: KeySigner) -> Callable[[str], PublicKey]:
    keys = {s.kid: s.public_key for s in signers}

    def resolve(kid: str) -> PublicKey:
        if kid not in keys:
            raise UntrustedIssuerError(kid)
        return keys[kid]

    return resolve


def forge(header: dict[str, object], payload: dict[str, object], signature: bytes = b"") -> str:
    return f"{b64url_encode(json_dumps(header))}.{b64url_encode(json_dumps(payload))}.{b64url_encode(signature)}"


def verify(token: str, *signers: KeySigner) -> dict[str, object]:
    return verify_compact(
        token, typ=TYP, algorithms=("ES256", "EdDSA"), resolve_key=resolver(*signers), max_size=16384
    ).payload


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_round_trip(alg: str) -> None:
    signer = KeySigner.generate(alg)
    token = sign_compact({"typ": TYP}, {"sub": "张伟"}, signer)
    assert verify(token, signer) == {"sub": "张伟"}
    assert "\\u" not in token  # UTF-8, not ASCII escapes


def test_alg_none_is_rejected(signer: KeySigner) -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        verify(forge({"alg": "none", "typ": TYP, "kid": signer.kid}, {"a": 1}), signer)


def test_hs256_signed_with_the_public_key_is_rejected(signer: KeySigner) -> None:
    # Algorithm confusion: an attacker MACs with the issuer's public key bytes.
    secret = signer.public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header, payload = {"alg": "HS256", "typ": TYP, "kid": signer.kid}, {"a": 1}
    signing_input = f"{b64url_encode(json_dumps(header))}.{b64url_encode(json_dumps(payload))}".encode()
    mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
    with pytest.raises(UnsupportedAlgorithmError):
        verify(signing_input.decode() + "." + b64url_encode(mac), signer)


def test_psychic_signature_r_s_zero_is_rejected(signer: KeySigner) -> None:
    with pytest.raises(BadSignatureError):
        verify(forge({"alg": "ES256", "typ": TYP, "kid": signer.kid}, {"a": 1}, bytes(64)), signer)


def test_tampered_payload_is_rejected(signer: KeySigner) -> None:
    header, _, sig = sign_compact({"typ": TYP}, {"a": 1}, signer).split(".")
    with pytest.raises(BadSignatureError):
        verify(f"{header}.{b64url_encode(json_dumps({'a': 2}))}.{sig}", signer)


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c"])
def test_key_source_headers_are_rejected(signer: KeySigner, header: str) -> None:
    token = sign_compact({"typ": TYP, header: "https://attacker.example/keys"}, {"a": 1}, signer)
    with pytest.raises(ForbiddenHeaderError):
        verify(token, signer)


def test_unknown_crit_is_rejected(signer: KeySigner) -> None:
    token = sign_compact({"typ": TYP, "crit": ["exp"], "exp": 1}, {"a": 1}, signer)
    with pytest.raises(ForbiddenHeaderError):
        verify(token, signer)


@pytest.mark.parametrize("kid", ["unknown", "../../etc/passwd", "' OR 1=1 --", ""])
def test_kid_only_selects_among_trusted_keys(signer: KeySigner, kid: str) -> None:
    token = sign_compact({"typ": TYP, "kid": kid}, {"a": 1}, signer)
    with pytest.raises((UntrustedIssuerError, MalformedError)):
        verify(token, signer)


def test_another_trusted_key_cannot_stand_in(signer: KeySigner) -> None:
    other = KeySigner.generate()
    token = sign_compact({"typ": TYP, "kid": other.kid}, {"a": 1}, signer)
    with pytest.raises(BadSignatureError):
        verify(token, signer, other)


@pytest.mark.parametrize("typ", [None, "JWT", "statuslist+jwt", "EXAMPLE+JWT"])
def test_typ_must_match_exactly(signer: KeySigner, typ: str | None) -> None:
    header = {} if typ is None else {"typ": typ}
    token = sign_compact(header, {"a": 1}, signer)
    with pytest.raises(WrongTypeError):
        verify(token, signer)


def test_oversized_token_is_rejected_before_parsing(signer: KeySigner) -> None:
    token = sign_compact({"typ": TYP}, {"pad": "x" * 20000}, signer)
    with pytest.raises(TooLargeError):
        verify(token, signer)


def test_duplicate_claims_are_rejected(signer: KeySigner) -> None:
    header = b64url_encode(json_dumps({"alg": "ES256", "typ": TYP, "kid": signer.kid}))
    payload = b64url_encode(b'{"exp":1,"exp":9999999999}')
    sig = b64url_encode(signer.sign(f"{header}.{payload}".encode()))
    with pytest.raises(MalformedError, match="duplicate"):
        verify(f"{header}.{payload}.{sig}", signer)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30", "W10.e30.AA"])
def test_garbage_is_malformed(signer: KeySigner, token: str) -> None:
    with pytest.raises(MalformedError):
        verify(token, signer)


def test_time_claims() -> None:
    check_time_claims({"iat": T0, "exp": T0 + 10}, now=T0)
    check_time_claims({"iat": T0, "exp": T0 - 100}, now=T0)  # within the 300 s skew
    with pytest.raises(ExpiredError):
        check_time_claims({"iat": T0 - 1000, "exp": T0 - 300}, now=T0)
    with pytest.raises(NotYetValidError):
        check_time_claims({"iat": T0, "exp": T0 + 9999, "nbf": T0 + 301}, now=T0)
    with pytest.raises(NotYetValidError):
        check_time_claims({"iat": T0 + 301, "exp": T0 + 9999}, now=T0)
    with pytest.raises(MissingClaimError):
        check_time_claims({"iat": T0}, now=T0)


@pytest.mark.parametrize("value", ["1900000000", 1.9e9, True, None])
def test_time_claims_must_be_integers(value: object) -> None:
    # PyJWT accepts "exp" as a numeric string (DESIGN §9); a NumericDate here is an integer.
    with pytest.raises(InvalidClaimError):
        check_time_claims({"iat": T0, "exp": value}, now=T0)


def test_jwk_thumbprint_matches_rfc7638_example() -> None:
    # RFC 7638 §3.1 uses an RSA key; the EC member order rule is checked here on a P-256 key instead.
    signer = KeySigner.generate()
    jwk = public_jwk(signer.public_key)
    canonical = f'{{"crv":"P-256","kty":"EC","x":"{jwk["x"]}","y":"{jwk["y"]}"}}'.encode()
    assert thumbprint(signer.public_key) == hashlib.sha256(canonical).digest()
    assert key_id(signer.public_key) == b64url_encode(hashlib.sha256(canonical).digest()[:8])


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "P-256", "x": b64url_encode(bytes(32)), "y": b64url_encode(bytes(32))},
        {"kty": "EC", "crv": "P-256"},
        "not a dict",
    ],
    ids=["p384", "rsa", "off-curve", "no-coordinates", "not-object"],
)
def test_load_public_jwk_rejects_what_we_do_not_accept(jwk: object) -> None:
    with pytest.raises(MalformedError):
        load_public_jwk(jwk)


def test_load_public_jwk_rejects_private_keys() -> None:
    signer = KeySigner.generate()
    with pytest.raises(MalformedError):
        load_public_jwk({**public_jwk(signer.public_key), "d": "AAAA"})
