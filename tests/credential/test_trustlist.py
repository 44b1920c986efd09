"""The signed trust list: root pinning, rollback, entry shape, X.509 chain, and key_for's reasons."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from credential.eku import DEFAULT_EKU_ARC
from credential.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from credential.errors import (
    BadSignatureError,
    InvalidClaimError,
    MalformedError,
    MissingClaimError,
    RollbackError,
    TooLargeError,
    UntrustedIssuerError,
    WrongTypeError,
)
from credential.jose import sign_compact
from credential.jwk import public_jwk
from credential.trustlist import (
    CREDENTIAL_TYPES,
    TrustedKey,
    TrustList,
    sign_trust_list,
    verify_trust_list,
)
from keys.certificates import Authority, root_certificate, signing_certificate
from keys.signers import KeySigner
from tests.conftest import T0

DAY = 86400
AUTHORITY = Authority("110105", "北京市公安局朝阳分局")


@dataclasses.dataclass
class Hierarchy:
    root: KeySigner
    root_cert: x509.Certificate

    def issue(self, signer: KeySigner, purpose: str, *, now: int = T0, days: int = 365) -> x509.Certificate:
        return signing_certificate(signer.public_key, purpose=purpose, root_key=self.root.private_key,
                                   root_cert=self.root_cert, authority=AUTHORITY, now=now, validity_days=days)


def make_hierarchy(alg: str = "ES256") -> Hierarchy:
    root = KeySigner.generate(alg)
    return Hierarchy(root, root_certificate(root.private_key, authority=AUTHORITY, now=T0 - DAY))


def entry(signer: KeySigner, cert: x509.Certificate | None, purpose: str, **changes: Any) -> TrustedKey:
    key = TrustedKey(
        kid=signer.kid,
        public_key=signer.public_key,
        purpose=purpose,
        state="active",
        not_before=T0,
        not_after=T0 + 365 * DAY,
        types=CREDENTIAL_TYPES,
        authority_code=AUTHORITY.code,
        authority_name=AUTHORITY.name,
        certificate=None if cert is None else cert.public_bytes(Encoding.DER),
    )
    return dataclasses.replace(key, **changes)


def trust_list(*keys: TrustedKey, version: int = 3) -> TrustList:
    return TrustList(issuer="https://permits.example", version=version, iat=T0, exp=T0 + 30 * DAY,
                     keys=keys, status_lists=("https://permits.example/statuslists/1",),
                     aggregation_uri="https://permits.example/statuslists")


@pytest.fixture
def pki() -> Hierarchy:
    return make_hierarchy()


@pytest.fixture
def signers(pki: Hierarchy) -> dict[str, tuple[KeySigner, x509.Certificate]]:
    out = {}
    for purpose in ("credential", "status"):
        signer = KeySigner.generate()
        out[purpose] = (signer, pki.issue(signer, purpose))
    return out


def standard_list(signers: dict[str, tuple[KeySigner, x509.Certificate]], **kwargs: Any) -> TrustList:
    return trust_list(*(entry(*signers[p], p) for p in ("credential", "status")), **kwargs)


def resign(token: str, root: KeySigner, edit: Any) -> str:
    """Re-sign a token's payload after ``edit(payload)``: tests the checks behind the signature."""
    payload = json_loads(b64url_decode(token.split(".")[1]), max_size=1 << 20)
    edit(payload)
    return sign_compact({"typ": "trustlist+jwt"}, payload, root)


def test_round_trip_keeps_every_field(pki: Hierarchy, signers: Any) -> None:
    original = standard_list(signers)
    verified = verify_trust_list(sign_trust_list(original, root_signer=pki.root), root_key=pki.root.public_key,
                                 now=T0)
    assert verified == original
    credential_signer = signers["credential"][0]
    key = verified.key_for(credential_signer.kid, purpose="credential", now=T0 + DAY,
                           credential_type="residence_permit")
    assert public_jwk(key.public_key) == public_jwk(credential_signer.public_key)


def test_ed25519_root_and_keys() -> None:
    pki = make_hierarchy("EdDSA")
    signer = KeySigner.generate("EdDSA")
    original = trust_list(entry(signer, pki.issue(signer, "status"), "status"))
    token = sign_trust_list(original, root_signer=pki.root)
    assert verify_trust_list(token, root_key=pki.root.public_key, now=T0) == original


def test_another_root_is_untrusted(pki: Hierarchy, signers: Any) -> None:
    token = sign_trust_list(standard_list(signers), root_signer=pki.root)
    with pytest.raises(UntrustedIssuerError, match="pinned root"):
        verify_trust_list(token, root_key=KeySigner.generate().public_key, now=T0)


def test_tampered_payload_fails_the_signature(pki: Hierarchy, signers: Any) -> None:
    header, payload, signature = sign_trust_list(standard_list(signers), root_signer=pki.root).split(".")
    claims = json_loads(b64url_decode(payload), max_size=1 << 20)
    claims["keys"][0]["state"] = "active" if claims["keys"][0]["state"] != "active" else "retiring"
    forged = f"{header}.{b64url_encode(json_dumps(claims))}.{signature}"
    with pytest.raises(BadSignatureError):
        verify_trust_list(forged, root_key=pki.root.public_key, now=T0)


def test_older_version_is_a_rollback(pki: Hierarchy, signers: Any) -> None:
    token = sign_trust_list(standard_list(signers, version=6), root_signer=pki.root)
    assert verify_trust_list(token, root_key=pki.root.public_key, now=T0, min_version=6).version == 6
    with pytest.raises(RollbackError) as caught:
        verify_trust_list(token, root_key=pki.root.public_key, now=T0, min_version=7)
    assert (caught.value.held, caught.value.offered, caught.value.code) == (7, 6, "STATUS_UNKNOWN")


def test_expired_list_still_verifies_and_exposes_exp(pki: Hierarchy, signers: Any) -> None:
    token = sign_trust_list(standard_list(signers), root_signer=pki.root)
    verified = verify_trust_list(token, root_key=pki.root.public_key, now=T0 + 90 * DAY)
    assert verified.exp == T0 + 30 * DAY < T0 + 90 * DAY


def test_wrong_typ_and_oversize(pki: Hierarchy, signers: Any) -> None:
    token = sign_compact({"typ": "JWT"}, standard_list(signers).to_json(), pki.root)
    with pytest.raises(WrongTypeError):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)
    with pytest.raises(TooLargeError):
        verify_trust_list("a" * ((1 << 20) + 1), root_key=pki.root.public_key, now=T0)


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda p: p.pop("version"), MissingClaimError),
        (lambda p: p.update(version=0), InvalidClaimError),
        (lambda p: p.update(version=True), InvalidClaimError),
        (lambda p: p.update(version="7"), InvalidClaimError),
        (lambda p: p.update(exp=p["iat"]), InvalidClaimError),
        (lambda p: p.update(keys={}), InvalidClaimError),
        (lambda p: p.update(status_lists=[""]), InvalidClaimError),
        (lambda p: p.update(iss=""), InvalidClaimError),
        (lambda p: p["keys"][0].update(kid="AAAAAAAAAAA"), MalformedError),
        (lambda p: p["keys"][0].update(purpose="trust_list"), InvalidClaimError),
        (lambda p: p["keys"][0].update(state="suspended"), InvalidClaimError),
        (lambda p: p["keys"][0].update(types=["driving_licence"]), InvalidClaimError),
        (lambda p: p["keys"][0].update(types=[]), InvalidClaimError),
        (lambda p: p["keys"][0].update(not_after="2030"), InvalidClaimError),
        (lambda p: p["keys"][0].pop("not_before"), MissingClaimError),
        (lambda p: p["keys"][0].update(authority={"code": "11010", "name": "x"}), InvalidClaimError),
        (lambda p: p["keys"][0]["jwk"].update(d="AAAA"), MalformedError),
        (lambda p: p["keys"].append(p["keys"][0]), InvalidClaimError),
        (lambda p: p["keys"][0].update(x5c=["not base64!"]), InvalidClaimError),
        (lambda p: p["keys"][0].update(x5c=[p["keys"][0]["x5c"][0]] * 2), InvalidClaimError),
        (lambda p: p["keys"][0].update(x5c=[base64.b64encode(b"junk").decode()]), MalformedError),
    ],
)
def test_malformed_entries_are_refused(pki: Hierarchy, signers: Any, edit: Any, error: type[Exception]) -> None:
    token = resign(sign_trust_list(standard_list(signers), root_signer=pki.root), pki.root, edit)
    with pytest.raises(error):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)


def test_certificate_from_another_root_is_untrusted(pki: Hierarchy) -> None:
    signer = KeySigner.generate()
    foreign = make_hierarchy().issue(signer, "credential")
    token = sign_trust_list(trust_list(entry(signer, foreign, "credential")), root_signer=pki.root)
    with pytest.raises(UntrustedIssuerError, match="not issued by the pinned root"):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)


def test_certificate_for_another_key_is_malformed(pki: Hierarchy) -> None:
    signer, other = KeySigner.generate(), KeySigner.generate()
    token = sign_trust_list(trust_list(entry(signer, pki.issue(other, "credential"), "credential")),
                            root_signer=pki.root)
    with pytest.raises(MalformedError, match="another key"):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)


def test_certificate_purpose_must_match_the_entry(pki: Hierarchy) -> None:
    signer = KeySigner.generate()
    token = sign_trust_list(trust_list(entry(signer, pki.issue(signer, "status"), "credential")),
                            root_signer=pki.root)
    with pytest.raises(UntrustedIssuerError, match="credential signing"):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)


@pytest.mark.parametrize("with_certificate", [True, False])
def test_the_root_cannot_stand_in_for_a_signing_key(pki: Hierarchy, with_certificate: bool) -> None:
    cert = pki.root_cert if with_certificate else None
    token = sign_trust_list(trust_list(entry(pki.root, cert, "credential")), root_signer=pki.root)
    with pytest.raises(InvalidClaimError, match="root key cannot be listed"):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)


def test_a_certificate_without_purpose_is_untrusted(pki: Hierarchy) -> None:
    signer = KeySigner.generate()
    template = pki.issue(signer, "credential")
    builder = x509.CertificateBuilder(
        issuer_name=template.issuer, subject_name=template.subject, public_key=signer.public_key,
        serial_number=x509.random_serial_number(), not_valid_before=template.not_valid_before_utc,
        not_valid_after=template.not_valid_after_utc,
        extensions=[e for e in template.extensions if not isinstance(e.value, x509.ExtendedKeyUsage)],
    )
    bare = builder.sign(pki.root.private_key, hashes.SHA256())
    token = sign_trust_list(trust_list(entry(signer, bare, "credential")), root_signer=pki.root)
    with pytest.raises(UntrustedIssuerError, match="lacks extendedKeyUsage"):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)


def test_a_ca_certificate_cannot_sign_credentials(pki: Hierarchy) -> None:
    signer = KeySigner.generate()
    template = pki.issue(signer, "credential")
    builder = x509.CertificateBuilder(
        issuer_name=template.issuer, subject_name=template.subject, public_key=signer.public_key,
        serial_number=x509.random_serial_number(), not_valid_before=template.not_valid_before_utc,
        not_valid_after=template.not_valid_after_utc,
        extensions=[e if not isinstance(e.value, x509.BasicConstraints)
                    else x509.Extension(e.oid, True, x509.BasicConstraints(ca=True, path_length=None))
                    for e in template.extensions],
    )
    ca_cert = builder.sign(pki.root.private_key, hashes.SHA256())
    token = sign_trust_list(trust_list(entry(signer, ca_cert, "credential")), root_signer=pki.root)
    with pytest.raises(UntrustedIssuerError, match="CA certificate"):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)


def test_window_must_lie_within_the_certificate(pki: Hierarchy) -> None:
    signer = KeySigner.generate()
    cert = pki.issue(signer, "credential", days=30)
    token = sign_trust_list(trust_list(entry(signer, cert, "credential", not_after=T0 + 31 * DAY)),
                            root_signer=pki.root)
    with pytest.raises(InvalidClaimError, match="certificate validity"):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)


def test_key_outside_its_certificate_validity_is_refused_at_use(pki: Hierarchy) -> None:
    signer = KeySigner.generate()
    cert = pki.issue(signer, "credential", days=30)
    window = {"not_after": int(cert.not_valid_after_utc.timestamp())}
    trust = verify_trust_list(
        sign_trust_list(trust_list(entry(signer, cert, "credential", **window)), root_signer=pki.root),
        root_key=pki.root.public_key, now=T0 + 40 * DAY,  # verifies: one expired certificate is not fatal
    )
    trust.key_for(signer.kid, purpose="credential", now=T0 + 29 * DAY)
    with pytest.raises(UntrustedIssuerError, match="past its validity window"):
        trust.key_for(signer.kid, purpose="credential", now=T0 + 31 * DAY)


def key_for_list(signers: Any) -> TrustList:
    (credential, credential_cert), (status, status_cert) = signers["credential"], signers["status"]
    revoked = KeySigner.generate()
    retiring = KeySigner.generate()
    return trust_list(
        entry(credential, credential_cert, "credential", types=frozenset({"residence_permit"})),
        entry(status, status_cert, "status"),
        entry(revoked, None, "credential", state="revoked"),
        entry(retiring, None, "credential", state="retiring"),
    )


@pytest.mark.parametrize(
    ("which", "purpose", "when", "ctype", "reason"),
    [
        ("unknown", "credential", T0, None, "unknown key"),
        ("revoked", "credential", T0, None, "key revoked"),
        ("credential", "status", T0, None, "key signs credential, not status"),
        ("status", "credential", T0, None, "key signs status, not credential"),
        ("credential", "credential", T0, "residence_registration", "may not sign residence_registration"),
        ("credential", "credential", T0 - 1, None, "not yet valid"),
        ("credential", "credential", T0 + 365 * DAY + 1, None, "past its validity window"),
    ],
)
def test_key_for_says_why(pki: Hierarchy, signers: Any, which: str, purpose: str, when: int,
                          ctype: str | None, reason: str) -> None:
    trust = verify_trust_list(sign_trust_list(key_for_list(signers), root_signer=pki.root),
                              root_key=pki.root.public_key, now=T0, require_certificates=False)
    kids = {"unknown": KeySigner.generate().kid, "credential": trust.keys[0].kid, "status": trust.keys[1].kid,
            "revoked": trust.keys[2].kid}
    with pytest.raises(UntrustedIssuerError, match=reason) as caught:
        trust.key_for(kids[which], purpose=purpose, now=when, credential_type=ctype)
    assert caught.value.kid == kids[which] and caught.value.code == "UNTRUSTED_ISSUER"


def test_retiring_keys_still_verify(pki: Hierarchy, signers: Any) -> None:
    trust = key_for_list(signers)
    retiring = trust.keys[3]
    assert trust.key_for(retiring.kid, purpose="credential", now=T0 + DAY) == retiring
    assert trust.key_for(trust.keys[0].kid, purpose="credential", now=T0 + 365 * DAY,
                         credential_type="residence_permit") == trust.keys[0]


def test_an_entry_without_its_certificate_is_untrusted(pki: Hierarchy) -> None:
    signer = KeySigner.generate()
    token = sign_trust_list(trust_list(entry(signer, None, "credential")), root_signer=pki.root)
    with pytest.raises(UntrustedIssuerError, match=r"no X\.509 certificate"):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)
    assert verify_trust_list(token, root_key=pki.root.public_key, now=T0, require_certificates=False).keys


def test_a_certificate_without_digital_signature_is_untrusted(pki: Hierarchy) -> None:
    signer = KeySigner.generate()
    template = pki.issue(signer, "credential")
    no_signing = x509.KeyUsage(digital_signature=False, content_commitment=True, key_encipherment=False,
                               data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                               encipher_only=False, decipher_only=False)
    builder = x509.CertificateBuilder(
        issuer_name=template.issuer, subject_name=template.subject, public_key=signer.public_key,
        serial_number=x509.random_serial_number(), not_valid_before=template.not_valid_before_utc,
        not_valid_after=template.not_valid_after_utc,
        extensions=[x509.Extension(e.oid, True, no_signing) if isinstance(e.value, x509.KeyUsage) else e
                    for e in template.extensions],
    )
    cert = builder.sign(pki.root.private_key, hashes.SHA256())
    token = sign_trust_list(trust_list(entry(signer, cert, "credential")), root_signer=pki.root)
    with pytest.raises(UntrustedIssuerError, match="digitalSignature"):
        verify_trust_list(token, root_key=pki.root.public_key, now=T0)


# --- the EKU arc the list names ------------------------------------------------------------------------


def _under(pki: Hierarchy, signer: KeySigner, purpose: str, arc: str) -> x509.Certificate:
    return signing_certificate(signer.public_key, purpose=purpose, root_key=pki.root.private_key,
                               root_cert=pki.root_cert, authority=AUTHORITY, now=T0, eku_arc=arc)


def test_the_list_names_its_eku_arc_and_certificates_are_checked_against_it(pki: Hierarchy) -> None:
    arc, signer = "1.2.156.112233", KeySigner.generate()
    own = dataclasses.replace(trust_list(entry(signer, _under(pki, signer, "credential", arc), "credential")),
                              eku_arc=arc)
    token = sign_trust_list(own, root_signer=pki.root)
    assert json_loads(b64url_decode(token.split(".")[1]), max_size=1 << 20)["eku_arc"] == arc
    assert verify_trust_list(token, root_key=pki.root.public_key, now=T0) == own
    # The same certificates in a list that names the default arc: their purpose OIDs mean nothing there.
    default = dataclasses.replace(own, eku_arc=DEFAULT_EKU_ARC)
    with pytest.raises(UntrustedIssuerError, match="does not allow credential signing"):
        verify_trust_list(sign_trust_list(default, root_signer=pki.root), root_key=pki.root.public_key, now=T0)


def test_a_list_without_eku_arc_means_the_default(pki: Hierarchy, signers: Any) -> None:
    token = sign_trust_list(standard_list(signers), root_signer=pki.root)
    bare = resign(token, pki.root, lambda payload: payload.pop("eku_arc"))
    assert verify_trust_list(bare, root_key=pki.root.public_key, now=T0).eku_arc == DEFAULT_EKU_ARC


@pytest.mark.parametrize("arc", ["1.3.6.1.4.1.99999.1", "not an oid", 7, ""])
def test_a_bad_eku_arc_is_refused(pki: Hierarchy, signers: Any, arc: object) -> None:
    token = sign_trust_list(standard_list(signers), root_signer=pki.root)
    with pytest.raises(InvalidClaimError, match="eku_arc"):
        verify_trust_list(resign(token, pki.root, lambda payload: payload.update(eku_arc=arc)),
                          root_key=pki.root.public_key, now=T0)
