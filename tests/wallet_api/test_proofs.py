"""Key proof checks on their own (wallet_api.proofs), cross-checked against the openid4vci package."""

from __future__ import annotations

import pytest

from credential.encoding import b64url_encode, json_dumps
from credential.jwk import public_jwk
from keys.signers import KeySigner
from tests.conftest import T0
from tests.wallet_api.support import make_proof, sign_jws
from wallet_api.errors import ProtocolError
from wallet_api.proofs import ProofPolicy, verify_key_proof, verify_key_proofs

AUD = "https://permits.example.gov.cn"
POLICY = ProofPolicy(audience=AUD, algorithms=("ES256", "EdDSA"), max_age=300, future_skew=60, max_size=8192)


@pytest.fixture
def signer() -> KeySigner:
    return KeySigner.generate("ES256")


def rejects(proof: object, error: str = "invalid_proof") -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        verify_key_proof(proof, POLICY, now=T0)
    assert info.value.error == error
    return info.value


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_a_good_proof_yields_its_key_and_nonce(alg: str) -> None:
    signer = KeySigner.generate(alg)
    proof = verify_key_proof(make_proof(signer, aud=AUD, nonce="n-1", iat=T0), POLICY, now=T0)
    assert public_jwk(proof.key) == public_jwk(signer.public_key)
    assert (proof.nonce, proof.iat) == ("n-1", T0)


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        ({"typ": "JWT"}, {}),
        ({"typ": "openid4vci-proof+JWT"}, {}),  # typ compared exactly
        ({"typ": None}, {}),
        ({"alg": "none"}, {}),
        ({"alg": "ES384"}, {}),
        ({"alg": "HS256"}, {}),
        ({"jwk": None, "kid": "device-1"}, {}),  # key by reference, not embedded
        ({"kid": "device-1"}, {}),  # jwk with a kid alongside
        ({"x5c": ["MIIB"]}, {}),
        ({"jku": "https://evil.example/jwks"}, {}),
        ({"crit": ["exp"]}, {}),
        ({"jwk": None}, {}),
        ({"jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, {}),
        ({}, {"aud": "https://other.example"}),
        ({}, {"aud": [AUD]}),  # aud is a string here
        ({}, {"aud": None}),
        ({}, {"iat": T0 - 301}),  # stale
        ({}, {"iat": T0 + 61}),  # from the future
        ({}, {"iat": None}),
        ({}, {"iat": str(T0)}),
        ({}, {"iat": True}),
        ({}, {"nonce": None}),  # every proof must carry the c_nonce
    ],
)
def test_bad_proofs_are_invalid_proof(signer: KeySigner, header: dict[str, object], payload: dict[str, object]) -> None:
    rejects(make_proof(signer, aud=AUD, nonce="n-1", iat=T0, header=header, payload=payload))


def test_edge_of_the_time_window_is_accepted(signer: KeySigner) -> None:
    for iat in (T0 - 300, T0 + 60):
        verify_key_proof(make_proof(signer, aud=AUD, nonce="n", iat=iat), POLICY, now=T0)


def test_a_private_jwk_is_refused(signer: KeySigner) -> None:
    jwk = {**public_jwk(signer.public_key), "d": "AAAA"}
    rejects(make_proof(signer, aud=AUD, nonce="n", iat=T0, header={"jwk": jwk}))


def test_a_signature_by_another_key_is_refused(signer: KeySigner) -> None:
    other = KeySigner.generate("ES256")
    header = {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": public_jwk(other.public_key)}
    rejects(sign_jws(header, {"aud": AUD, "iat": T0, "nonce": "n"}, signer))


def test_an_ed25519_key_cannot_carry_es256(signer: KeySigner) -> None:
    ed = KeySigner.generate("EdDSA")
    header = {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": public_jwk(ed.public_key)}
    rejects(sign_jws(header, {"aud": AUD, "iat": T0, "nonce": "n"}, ed))


@pytest.mark.parametrize("proof", [None, 7, "", "a.b", "a.b.c.d", "e30.e30.", "x" * 9000])
def test_malformed_proofs_are_invalid_proof(proof: object) -> None:
    rejects(proof)


def test_duplicate_json_keys_in_the_header_are_refused(signer: KeySigner) -> None:
    jwk = json_dumps(public_jwk(signer.public_key)).decode()
    raw_header = f'{{"typ":"openid4vci-proof+jwt","alg":"ES256","alg":"none","jwk":{jwk}}}'
    signing_input = f"{b64url_encode(raw_header.encode())}.{b64url_encode(json_dumps({'aud': AUD, 'iat': T0, 'nonce': 'n'}))}"
    rejects(signing_input + "." + b64url_encode(signer.sign(signing_input.encode())))


def test_a_non_string_nonce_is_invalid_nonce(signer: KeySigner) -> None:
    rejects(make_proof(signer, aud=AUD, nonce=None, iat=T0, payload={"nonce": 12}), "invalid_nonce")


def test_two_proofs_for_one_key_are_refused(signer: KeySigner) -> None:
    proofs = [make_proof(signer, aud=AUD, nonce="n", iat=T0), make_proof(signer, aud=AUD, nonce="n", iat=T0 - 1)]
    with pytest.raises(ProtocolError) as info:
        verify_key_proofs(proofs, POLICY, now=T0)
    assert info.value.error == "invalid_proof"


def test_openid4vci_package_accepts_our_proof_and_binds_the_same_key(signer: KeySigner) -> None:
    proofs = pytest.importorskip("openid4vci.crypto.proofs")
    proof = make_proof(signer, aud=AUD, nonce="n-42", iat=T0)
    theirs = proofs.validate_jwt_proof(
        proof, credential_issuer=AUD, c_nonce="n-42", supported_algorithms=["ES256", "EdDSA"], now=T0
    )
    ours = verify_key_proof(proof, POLICY, now=T0)
    assert theirs.bound_key == public_jwk(ours.key)


def test_a_stale_proof_that_openid4vci_accepts_is_refused_here(signer: KeySigner) -> None:
    # openid4vci 1.0.0a1 only checks that iat is present (it leans on the nonce); we also bound its age.
    proofs = pytest.importorskip("openid4vci.crypto.proofs")
    proof = make_proof(signer, aud=AUD, nonce="n", iat=T0 - 3600)
    proofs.validate_jwt_proof(proof, credential_issuer=AUD, c_nonce="n", now=T0)
    rejects(proof)


def test_openid4vci_package_and_ours_both_refuse_wrong_aud_and_alg_none(signer: KeySigner) -> None:
    proofs = pytest.importorskip("openid4vci.crypto.proofs")
    exceptions = pytest.importorskip("openid4vci.exceptions")
    for proof in (
        make_proof(signer, aud="https://other.example", nonce="n", iat=T0),
        make_proof(signer, aud=AUD, nonce="n", iat=T0, header={"alg": "none"}),
        make_proof(signer, aud=AUD, nonce="n", iat=T0, header={"typ": "JWT"}),
    ):
        with pytest.raises(exceptions.CredentialRequestError):
            proofs.validate_jwt_proof(proof, credential_issuer=AUD, c_nonce="n", now=T0)
        rejects(proof)
