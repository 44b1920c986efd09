"""Key headers of the SD-JWT VC: x5c beside kid in the issuer-signed JWT, nothing but typ and alg in the KB-JWT.

x5c is for peers that resolve the issuer key by X.509 (HAIP 1.0 §6.1.1); our verifier picks the key by kid
among its trusted keys and must never let the chain choose it.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from credential.errors import BadSignatureError, ForbiddenHeaderError, MalformedError, UntrustedIssuerError
from credential.jose import parse_compact, x5c_header
from credential.samples import sample_permit
from credential.sdjwt import MAX_SD_JWT, issue_sd_jwt_vc, present, split_sd_jwt, verify_sd_jwt_vc
from keys.certificates import Authority, root_certificate, signing_certificate
from keys.purpose import Purpose
from keys.signers import KeySigner
from tests.conftest import T0
from tests.credential.sdjwt_support import HOLDER, ISS, ISSUER, OTHER, STATUS_URI, base_payload, forge, resolve

AUTHORITY = Authority("110105", "北京市公安局朝阳分局")
ROOT = KeySigner.generate("ES256")
ROOT_CERT = root_certificate(ROOT.private_key, authority=AUTHORITY, now=T0 - 86400)
# An attacker's own little PKI: a root of their own and a certificate for OTHER under it.
ATTACKER_ROOT = KeySigner.generate("ES256")
ATTACKER_ROOT_CERT = root_certificate(ATTACKER_ROOT.private_key, authority=AUTHORITY, now=T0 - 86400)


def _certificate(signer: KeySigner, root: KeySigner, root_cert: x509.Certificate) -> x509.Certificate:
    return signing_certificate(signer.public_key, purpose=Purpose.CREDENTIAL, root_key=root.private_key,
                               root_cert=root_cert, authority=AUTHORITY, now=T0 - 86400)


ISSUER_CERT = _certificate(ISSUER, ROOT, ROOT_CERT)
OTHER_CERT = _certificate(OTHER, ATTACKER_ROOT, ATTACKER_ROOT_CERT)


def _b64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")


def issue_with_chain() -> str:
    return issue_sd_jwt_vc(sample_permit(), issuer=ISS, signer=ISSUER, holder_key=HOLDER.public_key,
                           status_uri=STATUS_URI, status_idx=7, now=T0, exp=T0 + 86400,
                           certificates=(ISSUER_CERT,))


def header_of(token: str) -> dict[str, Any]:
    return parse_compact(token.split("~")[0], max_size=MAX_SD_JWT).header


def verify(text: str, *, require_key_binding: bool = False, **kw: Any) -> Any:
    return verify_sd_jwt_vc(text, resolve_key=resolve, now=T0, require_key_binding=require_key_binding, **kw)


# --- what we send -----------------------------------------------------------------------------------------


def test_issuer_jwt_carries_the_signing_certificate_in_x5c_beside_kid() -> None:
    token = issue_with_chain()
    header = header_of(token)
    assert header == {"alg": "ES256", "kid": ISSUER.kid, "typ": "dc+sd-jwt", "x5c": [_b64(ISSUER_CERT)]}
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    assert leaf == ISSUER_CERT and leaf.issuer == ROOT_CERT.subject  # leaf first; the root is not sent
    assert verify(token).issuer_kid == ISSUER.kid


def test_x5c_header_refuses_chains_that_break_haip() -> None:
    with pytest.raises(ValueError, match="self-signed"):  # the trust anchor is never part of x5c
        x5c_header([ISSUER_CERT, ROOT_CERT], kid=ISSUER.kid)
    with pytest.raises(ValueError, match="signing key"):  # the first certificate must be the signer's
        x5c_header([OTHER_CERT], kid=ISSUER.kid)
    with pytest.raises(ValueError, match="issued by the next"):
        x5c_header([ISSUER_CERT, OTHER_CERT], kid=ISSUER.kid)
    with pytest.raises(ValueError):
        x5c_header([], kid=ISSUER.kid)
    with pytest.raises(ValueError):  # issuance refuses too, before signing anything
        issue_sd_jwt_vc(sample_permit(), issuer=ISS, signer=ISSUER, holder_key=HOLDER.public_key,
                        status_uri=STATUS_URI, status_idx=7, now=T0, exp=T0 + 86400, certificates=(OTHER_CERT,))


def test_kb_jwt_header_is_typ_and_alg_only() -> None:
    """RFC 9901 §4.3: a peer matching a header kid against cnf.jwk (which has none) found no key."""
    presentation = present(issue_with_chain(), disclose={"name"}, holder_signer=HOLDER, aud="a", nonce="n", now=T0)
    _, _, kb = split_sd_jwt(presentation)
    assert kb is not None
    assert parse_compact(kb, max_size=MAX_SD_JWT).header == {"alg": "ES256", "typ": "kb+jwt"}
    assert header_of(presentation)["kid"] == ISSUER.kid  # the issuer JWT keeps its kid and chain
    assert verify(presentation, require_key_binding=True, aud="a", nonce="n").key_bound


# --- what our verifier makes of x5c ------------------------------------------------------------------------


def test_forged_x5c_is_ignored_the_key_is_still_the_kid() -> None:
    """A genuine token whose x5c was swapped for another key's chain verifies by kid, as if x5c were absent."""
    forged = forge(base_payload(), header={"typ": "dc+sd-jwt", "x5c": [_b64(OTHER_CERT), _b64(ATTACKER_ROOT_CERT)]})
    assert header_of(forged)["kid"] == ISSUER.kid
    assert verify(forged).issuer_kid == ISSUER.kid


def test_a_chain_for_the_signing_key_does_not_make_an_untrusted_key_trusted() -> None:
    chain = [_b64(OTHER_CERT)]
    # Signed by OTHER, naming OTHER: unknown kid, whatever the chain says.
    with pytest.raises(UntrustedIssuerError):
        verify(forge(base_payload(), signer=OTHER, header={"typ": "dc+sd-jwt", "x5c": chain}))
    # Signed by OTHER, naming a trusted kid: the trusted key does not verify it; the chain's key is never tried.
    with pytest.raises(BadSignatureError):
        verify(forge(base_payload(), signer=OTHER, header={"typ": "dc+sd-jwt", "kid": ISSUER.kid, "x5c": chain}))


def test_x5c_without_kid_is_still_refused() -> None:
    with pytest.raises(MalformedError, match="kid"):
        verify(forge(base_payload(), header={"typ": "dc+sd-jwt", "kid": None, "x5c": [_b64(ISSUER_CERT)]}))


@pytest.mark.parametrize("x5c", [
    [], "MIIB", [""], [42], ["not base64!"], ["TUlJQg"],  # unpadded: not RFC 4648 standard base64
    [base64.urlsafe_b64encode(b"\xfb\xff" * 10).decode()], ["MIIB"] * 9,
])
def test_x5c_of_the_wrong_shape_is_malformed(x5c: Any) -> None:
    with pytest.raises(MalformedError):
        verify(forge(base_payload(), header={"typ": "dc+sd-jwt", "x5c": x5c}))


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5t", "x5t#S256"])
def test_other_key_source_headers_stay_forbidden(name: str) -> None:
    with pytest.raises(ForbiddenHeaderError):
        verify(forge(base_payload(), header={"typ": "dc+sd-jwt", name: "https://attacker.example/k"}))


def test_x5c_in_the_kb_jwt_is_forbidden() -> None:
    """The holder key comes from cnf only: a KB-JWT bringing a chain is refused like one bringing a jwk."""
    from credential.jose import sign_compact

    presentation = present(issue_with_chain(), disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0)
    head, kb = presentation.rsplit("~", 1)
    payload = parse_compact(kb, max_size=MAX_SD_JWT).payload
    forged = sign_compact({"typ": "kb+jwt", "x5c": [_b64(ISSUER_CERT)]}, payload, HOLDER, with_kid=False)
    with pytest.raises(ForbiddenHeaderError):
        verify(f"{head}~{forged}", require_key_binding=True, aud="a", nonce="n")
