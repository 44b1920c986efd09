"""X.509 certificates of the key hierarchy: a self-signed root, and signing certificates it issues.

Names: the root is ``C=CN, serialNumber=<code>, CN=epermit root — <authority name>``; a signing certificate is
``C=CN, serialNumber=<code>, CN=<authority name>``. The GB/T 2260 code of the authority goes in
``serialNumber`` (X.520 2.5.4.5, "an identifier of the entity"), not in OU, which would read as a department.

Purpose: a signing certificate carries keyUsage digitalSignature only, basicConstraints CA false, and an
extendedKeyUsage with one OID per purpose under the deployment's arc (credential.eku: ``<arc>.1`` credential
signing, ``.2`` status signing; the arc is a key-directory setting, by default a UUID arc under 2.25). So a
status-list key can never pass for a credential key, in the trust list or in any X.509 tool. The root's
keyUsage is keyCertSign and cRLSign for the certificates, and digitalSignature because it signs the trust
list (a JWS) with the same key.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from credential.eku import DEFAULT_EKU_ARC, purpose_oid, purposes_named
from credential.errors import UntrustedIssuerError
from credential.jwk import PublicKey, key_id
from credential.trustlist import check_certificate_signature
from keys.purpose import Purpose, signing_purpose
from keys.signers import PrivateKey

ROOT_VALIDITY_DAYS = 10 * 365
# One year of signing plus the lifetime of what was signed in it (credentials default to 365 days).
SIGNING_VALIDITY_DAYS = 3 * 365


@dataclass(frozen=True)
class Authority:
    code: str    # GB/T 2260 six-digit code, e.g. "110105"
    name: str    # e.g. 北京市公安局朝阳分局


def _name(authority: Authority, common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, authority.code),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _time(unix: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(unix, tz=datetime.UTC)


def _sign(builder: x509.CertificateBuilder, issuer_key: PrivateKey) -> x509.Certificate:
    # Ed25519 signs the message itself (no separate hash); ECDSA P-256 pairs with SHA-256.
    algorithm = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(issuer_key, algorithm)


def root_certificate(root_key: PrivateKey, *, authority: Authority, now: int,
                     validity_days: int = ROOT_VALIDITY_DAYS) -> x509.Certificate:
    """The self-signed CA certificate verifiers may pin instead of the bare root key."""
    name = _name(authority, f"epermit root — {authority.name}")
    public_key = root_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_time(now))
        .not_valid_after(_time(now + validity_days * 86400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True, digital_signature=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    return _sign(builder, root_key)


def signing_certificate(public_key: PublicKey, *, purpose: Purpose, root_key: PrivateKey,
                        root_cert: x509.Certificate, authority: Authority, now: int,
                        validity_days: int = SIGNING_VALIDITY_DAYS, eku_arc: str = DEFAULT_EKU_ARC,
                        ) -> x509.Certificate:
    """A credential- or status-signing certificate issued by the root; never outlives the root. Its
    extendedKeyUsage is the purpose's OID under ``eku_arc`` (credential.eku).

    Any other purpose (the root's, or a name that is no Purpose) raises PurposeNotAllowedError.
    """
    purpose = signing_purpose(purpose)
    not_after = min(now + validity_days * 86400, int(root_cert.not_valid_after_utc.timestamp()))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(authority, authority.name))
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_time(now))
        .not_valid_after(_time(not_after))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False, digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([purpose_oid(eku_arc, purpose)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
    )
    return _sign(builder, root_key)


def _key_usage(*, cert_sign: bool, digital_signature: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def certificate_purpose(cert: x509.Certificate, eku_arc: str = DEFAULT_EKU_ARC) -> str:
    """The one epermit purpose named in extendedKeyUsage under ``eku_arc``; UntrustedIssuerError if none or
    several."""
    kid = _kid(cert)
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise UntrustedIssuerError(kid, "certificate has no extendedKeyUsage") from exc
    purposes = purposes_named(usages, eku_arc)
    if len(purposes) != 1:
        raise UntrustedIssuerError(kid, f"certificate must name exactly one epermit purpose under {eku_arc}")
    return purposes[0]


def verify_issued_by(cert: x509.Certificate, root_cert: x509.Certificate, now: int) -> None:
    """Check that the root issued ``cert`` and that both are valid at ``now``; UntrustedIssuerError if not."""
    kid = _kid(cert)
    if cert.issuer != root_cert.subject:
        raise UntrustedIssuerError(kid, "certificate names another issuer")
    root_key = root_cert.public_key()
    if not isinstance(root_key, PublicKey):
        raise UntrustedIssuerError(kid, "root key is neither P-256 nor Ed25519")
    try:
        check_certificate_signature(cert, root_key)
    except InvalidSignature as exc:
        raise UntrustedIssuerError(kid, "certificate not signed by the root") from exc
    for which, checked in (("certificate", cert), ("root certificate", root_cert)):
        if not checked.not_valid_before_utc.timestamp() <= now <= checked.not_valid_after_utc.timestamp():
            raise UntrustedIssuerError(kid, f"{which} not valid at this time")


def _kid(cert: x509.Certificate) -> str:
    key = cert.public_key()
    return key_id(key) if isinstance(key, PublicKey) else "?"
