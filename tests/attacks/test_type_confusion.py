"""Type confusion: one signed thing presented where another is expected. Each entry point accepts exactly
one ``typ`` (credential dc+sd-jwt / vc+sd-jwt, KB-JWT kb+jwt, QR pass 65001, live proof 65002,
statuslist+jwt, trustlist+jwt) and one key purpose, so a genuine signature in the wrong place is refused."""

from __future__ import annotations

import cbor2
import pytest

from credential.errors import MalformedError, UntrustedIssuerError, WrongTypeError
from credential.qrpass import decode_qr_text
from tests.attacks.forge import cose_sign1, pass_parts, qr_text, raw, resign
from tests.attacks.support import expect, issuer_jwt, with_jwt
from tests.conftest import T0
from tests.verifier.conftest import STATUS_URI, World
from verifier.cache import VerifierCache
from verifier.result import Result


@pytest.mark.parametrize("suffix", ["", "~"])
def test_status_list_token_as_credential(world: World, filled: VerifierCache, suffix: str) -> None:
    expect(Result.MALFORMED, world.status_token() + suffix, filled)


@pytest.mark.parametrize("suffix", ["", "~"])
def test_kb_jwt_as_credential(world: World, filled: VerifierCache, suffix: str) -> None:
    kb = world.presentation().rsplit("~", 1)[1]
    expect(Result.MALFORMED, kb + suffix, filled)


@pytest.mark.parametrize("suffix", ["", "~"])
def test_trust_list_as_credential(world: World, filled: VerifierCache, suffix: str) -> None:
    expect(Result.MALFORMED, world.trust_token() + suffix, filled)


def test_kb_jwt_in_place_of_the_issuer_jwt(world: World, filled: VerifierCache) -> None:
    """The holder signs a KB-JWT-shaped token carrying credential claims: wrong typ, and no trusted key."""
    sd = world.sd_jwt()
    kb = world.presentation().rsplit("~", 1)[1]
    expect(Result.MALFORMED, with_jwt(sd, kb), filled)


@pytest.mark.parametrize("typ", ["statuslist+jwt", "trustlist+jwt", "kb+jwt", "JWT", "application/dc+sd-jwt",
                                 "DC+SD-JWT", "dc+sd-jwt ", None])
def test_genuine_credential_signature_under_another_typ(world: World, filled: VerifierCache,
                                                        typ: str | None) -> None:
    """The issuer's real key signing the real claims, but declaring another type: refused on typ alone."""
    sd = world.sd_jwt()
    forged = resign(issuer_jwt(sd), world.credential_signer, header={"typ": typ})
    expect(Result.MALFORMED, with_jwt(sd, forged), filled)


def test_legacy_vc_sd_jwt_typ_is_accepted_on_input(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    forged = resign(issuer_jwt(sd), world.credential_signer, header={"typ": "vc+sd-jwt"})
    expect(Result.VALID, with_jwt(sd, forged), filled)


def test_credential_as_status_list(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    credential = issuer_jwt(sd)
    with pytest.raises(WrongTypeError):
        filled.accept_status_list(STATUS_URI, credential, T0)
    with pytest.raises(MalformedError):
        filled.accept_token(credential, T0)


def test_credential_key_signing_a_status_list(world: World, filled: VerifierCache) -> None:
    """Right typ, wrong key purpose: a credential key cannot vouch for revocation data."""
    forged = resign(world.status_token(now=T0 - 60), world.credential_signer,
                    header={"kid": world.credential_signer.kid})
    with pytest.raises(UntrustedIssuerError):
        filled.accept_status_list(STATUS_URI, forged, T0)


def test_status_list_and_credential_as_trust_list(world: World, filled: VerifierCache) -> None:
    sd = world.sd_jwt()
    for token in (world.status_token(), issuer_jwt(sd)):
        with pytest.raises(WrongTypeError):
            filled.accept_trust_list(token, T0)
    # the right typ under a non-root key
    forged = resign(world.trust_token(version=2), world.credential_signer,
                    header={"kid": world.credential_signer.kid})
    with pytest.raises(UntrustedIssuerError):
        filled.accept_trust_list(forged, T0)


def test_live_proof_presented_as_a_pass(world: World, filled: VerifierCache) -> None:
    proof = decode_qr_text(world.live_qr()).proof
    assert proof is not None
    expect(Result.MALFORMED, qr_text(proof), filled)  # tagged like a pass, but no kid
    expect(Result.MALFORMED, qr_text(cbor2.loads(proof).value), filled)  # untagged


def test_holder_signed_pass_with_the_issuer_kid(world: World, filled: VerifierCache) -> None:
    """The holder's device key signs a typ 65001 pass naming the issuer's kid: the signature fails."""
    protected, claims = pass_parts(world.cose_pass())
    forged = cose_sign1(protected, cbor2.dumps(claims), world.holder)
    expect(Result.BAD_SIGNATURE, qr_text(forged), filled)


def test_pass_presented_as_a_live_proof(world: World, filled: VerifierCache) -> None:
    genuine = cbor2.loads(world.cose_pass())
    expect(Result.MALFORMED, qr_text([genuine, genuine.value]), filled)  # the proof slot holds a typ 65001 pass


def test_proof_typ_on_a_pass(world: World, filled: VerifierCache) -> None:
    """The issuer key signing a pass under the live-proof typ (65002): refused on typ."""
    protected, claims = pass_parts(world.cose_pass())
    forged = cose_sign1({**protected, 16: 65002}, cbor2.dumps(claims), raw(world.credential_signer))
    expect(Result.MALFORMED, qr_text(forged), filled)


def test_proof_with_pass_typ_by_the_holder(world: World, filled: VerifierCache) -> None:
    """A genuine proof body, signed by the right holder key over the right pass, but typed as a pass."""
    from credential.qrpass import pass_digest

    cose_pass = world.cose_pass()
    proof = cose_sign1({1: -7, 16: 65001}, cbor2.dumps({1: T0}), world.holder, external_aad=pass_digest(cose_pass))
    expect(Result.MALFORMED, qr_text([cbor2.loads(cose_pass), proof]), filled)


def test_authority_name_put_back_into_a_genuine_pass_is_malformed(world: World, filled: VerifierCache) -> None:
    """Key 12 (the authority's name) is retired: the trust list names the authority. A pass still carrying
    it, even signed by the real key and naming the right authority, is a second encoding: refused."""
    for name in ("北京市公安局朝阳分局", "上海市公安局黄浦分局"):
        protected, claims = pass_parts(world.cose_pass())
        claims[-70001][12] = name
        outcome = expect(Result.MALFORMED, qr_text(cose_sign1(protected, cbor2.dumps(claims),
                                                               world.credential_signer)), filled)
        assert "authority name" in outcome.reason and outcome.claims == {}


@pytest.mark.parametrize("code", [310101, 110000, 110106])
def test_genuine_key_signing_for_another_authority_is_untrusted(world: World, filled: VerifierCache,
                                                                code: int) -> None:
    """The real 朝阳分局 key (110105) signing a pass whose authority code (key 11) is another's."""
    protected, claims = pass_parts(world.cose_pass())
    claims[-70001][11] = code
    outcome = expect(Result.UNTRUSTED_ISSUER, qr_text(cose_sign1(protected, cbor2.dumps(claims),
                                                                  world.credential_signer)), filled)
    assert f"may not sign for authority {code}" in outcome.reason and outcome.claims == {}
