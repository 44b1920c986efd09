"""A loopback TLS certificate authority for the demo: https on 127.0.0.1 and localhost with no outside CA.

OpenID4VCI 1.0 requires an https Credential Issuer Identifier, and browsers give WebCrypto, the camera and
service workers only to secure origins, so the demo serves both APIs over TLS. ``LoopbackCA`` makes a
P-256 CA (its private key stays in this process's memory and is never written anywhere) and a server
certificate for the loopback names; the CA certificate is what a wallet, a verifier (`epermit verify sync
--ca FILE`) or ``curl --cacert`` trusts. A real deployment uses its own certificate (`epermit serve
--tls-cert/--tls-key`) or terminates TLS at a proxy.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from keys import KeySigner
from verifier.openid4vp import VerifierIdentity

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
VALIDITY = datetime.timedelta(days=30)  # a demo runs for hours; a month leaves room for a long session


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "epermit demo"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _dns_names(names: Sequence[str]) -> list[x509.GeneralName]:
    listed: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    return listed + [g for g in map(_general_name, names) if isinstance(g, x509.IPAddress)]


@dataclass(frozen=True)
class ServerCertificate:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def ssl_context(self) -> ssl.SSLContext:
        """A server context (TLS 1.2+) holding this certificate; the key passes through a 0600 temporary file
        that is removed at once (the ssl module loads keys only from files)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        fd, path = tempfile.mkstemp(prefix="epermit-tls-", suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file 0600
                handle.write(self.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
                handle.write(self.certificate.public_bytes(Encoding.PEM))
            context.load_cert_chain(path)
        finally:
            os.unlink(path)
        return context


class LoopbackCA:
    """A throw-away CA for one demo run; ``now`` is unix seconds."""

    def __init__(self, *, now: int) -> None:
        self._now = datetime.datetime.fromtimestamp(now, datetime.UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = _name("epermit demo loopback CA")
        self.certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(self._now - datetime.timedelta(minutes=5)).not_valid_after(self._now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(Encoding.PEM)

    def write_pem(self, path: Path) -> Path:
        path.write_bytes(self.pem)  # public: what clients trust
        return path

    def issue_server(self, names: Sequence[str] = LOOPBACK_NAMES, *, dns_only: bool = False) -> ServerCertificate:
        """``dns_only``: every name as a dNSName, addresses too (an OpenID4VP x509_san_dns signing certificate),
        an address also as an iPAddress (the Web PKI profile matches an address only there)."""
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(self.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(self._now - datetime.timedelta(minutes=5)).not_valid_after(self._now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName(
                _dns_names(names) if dns_only else [_general_name(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return ServerCertificate(certificate, key)


def verifier_identity(ca: LoopbackCA, host: str, *, name_zh: str, name_en: str) -> VerifierIdentity:
    """An OpenID4VP verifier identity (x509_san_dns) for ``host`` from ``ca``: its own key (the TLS key signs
    no request objects), its certificate naming ``host`` as a dNSName — even a loopback address, since
    x509_san_dns compares the client_id's host with the leaf's dNSNames only."""
    certificate = ca.issue_server((host,), dns_only=True)
    return VerifierIdentity(host, KeySigner(certificate.key), (certificate.certificate,), name_zh=name_zh,
                            name_en=name_en)


def client_context(cafile: Path | None) -> ssl.SSLContext:
    """A client context that trusts ``cafile`` (a private CA such as the demo's), else the system's roots."""
    return ssl.create_default_context(cafile=str(cafile) if cafile is not None else None)
