"""Root and signing certificates: names, constraints, purposes, and the issued-by check."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from credential.eku import DEFAULT_EKU_ARC, purpose_oid
from credential.errors import UntrustedIssuerError
from keys import KeySigner, Purpose, PurposeNotAllowedError
from keys.certificates import (
    Authority,
    certificate_purpose,
    root_certificate,
    signing_certificate,
    verify_issued_by,
)
from tests.conftest import T0

DAY = 86400
AUTHORITY = Authority("110105", "北京市公安局朝阳分局")


def hierarchy(alg: str = "ES256") -> tuple[KeySigner, x509.Certificate]:
    root = KeySigner.generate(alg)
    return root, root_certificate(root.private_key, authority=AUTHORITY, now=T0)


def issue(root: KeySigner, root_cert: x509.Certificate, purpose: Purpose, days: int = 365) -> x509.Certificate:
    return signing_certificate(KeySigner.generate().public_key, purpose=purpose, root_key=root.private_key,
                               root_cert=root_cert, authority=AUTHORITY, now=T0, validity_days=days)


def test_root_is_a_self_signed_ca() -> None:
    _, cert = hierarchy()
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "epermit root — 北京市公安局朝阳分局"
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "110105"
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature  # it signs the trust list too
    assert cert.not_valid_after_utc.timestamp() - cert.not_valid_before_utc.timestamp() == 3650 * DAY
    cert.verify_directly_issued_by(cert)


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
@pytest.mark.parametrize("purpose", [Purpose.CREDENTIAL, Purpose.STATUS])
def test_signing_certificate(alg: str, purpose: Purpose) -> None:
    root, root_cert = hierarchy(alg)
    cert = issue(root, root_cert, purpose)
    cert.verify_directly_issued_by(root_cert)  # cryptography's own check agrees with ours
    verify_issued_by(cert, root_cert, T0 + DAY)
    assert certificate_purpose(cert) == purpose
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == AUTHORITY.name
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == AUTHORITY.code
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CODE_SIGNING not in eku and len(list(eku)) == 1
    assert list(eku) == [purpose_oid(DEFAULT_EKU_ARC, purpose)]  # the default arc: a UUID arc under 2.25
    assert next(iter(eku)).dotted_string.startswith("2.25.")


def test_signing_certificate_under_the_deployments_own_arc() -> None:
    root, root_cert = hierarchy()
    arc = "1.2.156.112233.7"
    cert = signing_certificate(KeySigner.generate().public_key, purpose=Purpose.STATUS, root_key=root.private_key,
                               root_cert=root_cert, authority=AUTHORITY, now=T0, eku_arc=arc)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [oid.dotted_string for oid in eku] == [f"{arc}.2"]
    assert certificate_purpose(cert, arc) == Purpose.STATUS
    with pytest.raises(UntrustedIssuerError, match="exactly one epermit purpose"):  # read under another arc
        certificate_purpose(cert)


def test_signing_certificate_never_outlives_the_root() -> None:
    root, root_cert = hierarchy()
    cert = issue(root, root_cert, Purpose.CREDENTIAL, days=20 * 365)
    assert cert.not_valid_after_utc == root_cert.not_valid_after_utc


def test_outside_validity_is_refused() -> None:
    root, root_cert = hierarchy()
    cert = issue(root, root_cert, Purpose.STATUS, days=30)
    verify_issued_by(cert, root_cert, T0 + 30 * DAY)
    with pytest.raises(UntrustedIssuerError, match="certificate not valid"):
        verify_issued_by(cert, root_cert, T0 + 30 * DAY + 1)
    with pytest.raises(UntrustedIssuerError, match="certificate not valid"):
        verify_issued_by(cert, root_cert, T0 - 1)


def test_a_chain_with_a_wrong_root_is_refused() -> None:
    root, root_cert = hierarchy()
    cert = issue(root, root_cert, Purpose.CREDENTIAL)
    _, other_root_cert = hierarchy()  # same name, another key: only the signature tells them apart
    assert other_root_cert.subject == root_cert.subject
    with pytest.raises(UntrustedIssuerError, match="not signed by the root"):
        verify_issued_by(cert, other_root_cert, T0)
    other_name = root_certificate(KeySigner.generate().private_key, authority=Authority("310101", "上海"), now=T0)
    with pytest.raises(UntrustedIssuerError, match="another issuer"):
        verify_issued_by(cert, other_name, T0)


def test_root_certificate_names_no_purpose() -> None:
    _, root_cert = hierarchy()
    with pytest.raises(UntrustedIssuerError, match="extendedKeyUsage"):
        certificate_purpose(root_cert)


def test_only_signing_purposes_get_a_signing_certificate() -> None:
    root, root_cert = hierarchy()
    for purpose in (Purpose.ROOT, "trust_list"):
        with pytest.raises(PurposeNotAllowedError, match="purpose") as caught:
            issue(root, root_cert, purpose)  # type: ignore[arg-type]
        assert caught.value.purpose == purpose
