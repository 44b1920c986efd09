"""Key purposes kept apart: a signer refuses content outside its purpose; verifiers check purpose too."""

from __future__ import annotations

import dataclasses

import pytest

from credential.errors import CredentialError, UntrustedIssuerError
from credential.qrpass import encode_pass
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc, present
from credential.statuslist import StatusList, sign_status_list_token, verify_status_list_token
from credential.trustlist import sign_trust_list, verify_trust_list
from keys import KeyPurposeError, KeyRing, KeySigner, Purpose, PurposeNotAllowedError, PurposeSigner
from keys.purpose import describe_signing_input
from tests.conftest import T0

URI = "https://i.example/statuslists/1"


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0 - 86400)


def signer(ring: KeyRing, purpose: Purpose) -> PurposeSigner:
    return ring.root_signer if purpose is Purpose.ROOT else ring.signer_for(purpose, now=T0)


def sd_jwt(signer: object) -> str:
    return issue_sd_jwt_vc(sample_permit(), issuer="https://i.example", signer=signer,  # type: ignore[arg-type]
                           holder_key=KeySigner.generate().public_key, status_uri=URI, status_idx=1, now=T0,
                           exp=T0 + 86400)


def qr(signer: object) -> bytes:
    return encode_pass(sample_permit(), signer=signer, holder_key=KeySigner.generate().public_key,  # type: ignore[arg-type]
                       status_uri=URI, status_idx=1, now=T0)


def status(signer: object) -> str:
    return sign_status_list_token(StatusList(16, 2), uri=URI, signer=signer, now=T0, ttl=300,  # type: ignore[arg-type]
                                  exp=T0 + 86400)


def trust(ring: KeyRing, signer: object) -> str:
    tl = ring.trust_list(issuer="https://i.example", now=T0, version=1, status_lists=[URI], aggregation_uri=None)
    return sign_trust_list(tl, root_signer=signer)  # type: ignore[arg-type]


def test_each_signer_signs_its_own_content(ring: KeyRing) -> None:
    sd_jwt(signer(ring, Purpose.CREDENTIAL))
    qr(signer(ring, Purpose.CREDENTIAL))
    status(signer(ring, Purpose.STATUS))
    verify_trust_list(trust(ring, ring.root_signer), root_key=ring.root.public_key, now=T0)


@pytest.mark.parametrize(("which", "make"), [
    (Purpose.STATUS, sd_jwt), (Purpose.STATUS, qr), (Purpose.CREDENTIAL, status), (Purpose.ROOT, sd_jwt),
    (Purpose.ROOT, status),
])
def test_signers_refuse_other_content(ring: KeyRing, which: Purpose, make: object) -> None:
    with pytest.raises(KeyPurposeError) as caught:
        make(signer(ring, which))  # type: ignore[operator]
    # A refusal is a key management error, not a verification result: it carries no credential code.
    assert caught.value.purpose == which.value and not isinstance(caught.value, CredentialError)


@pytest.mark.parametrize("which", [Purpose.CREDENTIAL, Purpose.STATUS])
def test_signing_keys_cannot_sign_a_trust_list(ring: KeyRing, which: Purpose) -> None:
    with pytest.raises(KeyPurposeError, match="trustlist"):
        trust(ring, ring.signer_for(which, now=T0))


def test_a_credential_key_cannot_sign_a_holder_proof(ring: KeyRing) -> None:
    issued = sd_jwt(signer(ring, Purpose.CREDENTIAL))
    with pytest.raises(KeyPurposeError, match="kb\\+jwt"):
        present(issued, disclose=None, holder_signer=signer(ring, Purpose.CREDENTIAL), aud="a", nonce="n", now=T0)


def test_unrecognised_input_is_refused(ring: KeyRing) -> None:
    for data in (b"", b"hello", b"\x84\x01\x02\x03\x04", b"e30.e30", b"a" * (3 << 20)):
        assert describe_signing_input(data)[0] is None
        with pytest.raises(KeyPurposeError):
            signer(ring, Purpose.CREDENTIAL).sign(data)
    with pytest.raises(PurposeNotAllowedError, match="purpose 'holder' is not one of root, credential, status"):
        PurposeSigner(ring.root, "holder")  # type: ignore[arg-type]


def test_a_status_list_signed_by_a_credential_key_is_rejected_by_verifiers(ring: KeyRing) -> None:
    # Forged with the raw key (our signers would refuse); the trust list says the key is for credentials.
    raw = ring.signers_of(Purpose.CREDENTIAL)[0]
    token = sign_status_list_token(StatusList(16, 2), uri=URI, signer=raw, now=T0, ttl=300, exp=T0 + 86400)
    tl = verify_trust_list(trust(ring, ring.root_signer), root_key=ring.root.public_key, now=T0)
    with pytest.raises(UntrustedIssuerError, match="not status"):
        verify_status_list_token(token, uri=URI, now=T0,
                                 resolve_key=lambda kid: tl.key_for(kid, purpose="status", now=T0).public_key)


def test_a_trust_list_entry_cannot_claim_another_purpose_than_its_certificate(ring: KeyRing) -> None:
    tl = ring.trust_list(issuer="https://i.example", now=T0, version=1, status_lists=[], aggregation_uri=None)
    # The status key's entry relabelled as a credential key: its certificate's EKU says status.
    relabelled = tuple(dataclasses.replace(k, purpose="credential") if k.purpose == "status" else k for k in tl.keys)
    token = sign_trust_list(dataclasses.replace(tl, keys=relabelled), root_signer=ring.root_signer)
    with pytest.raises(UntrustedIssuerError, match="does not allow credential signing"):
        verify_trust_list(token, root_key=ring.root.public_key, now=T0)
