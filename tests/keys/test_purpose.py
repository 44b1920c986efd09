"""Key purposes kept apart: a signer refuses content outside its purpose; verifiers check purpose too."""

from __future__ import annotations

import dataclasses

import pytest

from credential.errors import UntrustedIssuerError
from credential.qrpass import encode_pass
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc, present
from credential.statuslist import StatusList, sign_status_list_token, verify_status_list_token
from credential.trustlist import sign_trust_list, verify_trust_list
from keys.keyring import KeyRing
from keys.purpose import KeyPurposeError, PurposeSigner, describe_signing_input
from keys.signers import KeySigner
from tests.conftest import T0

URI = "https://i.example/statuslists/1"


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(authority_code="110105", authority_name="朝阳分局", now=T0 - 86400, clock=lambda: T0)


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
    sd_jwt(ring.credential_signer)
    qr(ring.credential_signer)
    status(ring.status_signer)
    verify_trust_list(trust(ring, ring.root_signer), root_key=ring.root.public_key, now=T0)


@pytest.mark.parametrize(("which", "make"), [
    ("status", sd_jwt), ("status", qr), ("credential", status), ("root", sd_jwt), ("root", status),
])
def test_signers_refuse_other_content(ring: KeyRing, which: str, make: object) -> None:
    signer = {"status": ring.status_signer, "credential": ring.credential_signer, "root": ring.root_signer}[which]
    with pytest.raises(KeyPurposeError) as caught:
        make(signer)  # type: ignore[operator]
    assert caught.value.purpose == which and caught.value.code == "MALFORMED"


@pytest.mark.parametrize("which", ["credential", "status"])
def test_signing_keys_cannot_sign_a_trust_list(ring: KeyRing, which: str) -> None:
    with pytest.raises(KeyPurposeError, match="trustlist"):
        trust(ring, ring.signer_for(which, T0))


def test_a_credential_key_cannot_sign_a_holder_proof(ring: KeyRing) -> None:
    issued = sd_jwt(ring.credential_signer)
    with pytest.raises(KeyPurposeError, match="kb\\+jwt"):
        present(issued, disclose=None, holder_signer=ring.credential_signer, aud="a", nonce="n", now=T0)


def test_unrecognised_input_is_refused(ring: KeyRing) -> None:
    for data in (b"", b"hello", b"\x84\x01\x02\x03\x04", b"e30.e30", b"a" * (3 << 20)):
        assert describe_signing_input(data)[0] is None
        with pytest.raises(KeyPurposeError):
            ring.credential_signer.sign(data)
    with pytest.raises(ValueError, match="purpose"):
        PurposeSigner(ring.root, "holder")


def test_a_status_list_signed_by_a_credential_key_is_rejected_by_verifiers(ring: KeyRing) -> None:
    # Forged with the raw key (our signers would refuse); the trust list says the key is for credentials.
    token = sign_status_list_token(StatusList(16, 2), uri=URI, signer=ring.credential_signers[0], now=T0, ttl=300,
                                   exp=T0 + 86400)
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
