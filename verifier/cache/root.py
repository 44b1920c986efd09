"""The pinned root certificate (root.pem): set once with ``--root``, never replaced by a sync.

Pinning reads the certificate with cryptography.x509 (``load_root_certificate``: it is stored in canonical
form and compared with what is held). Every scan only needs the root's key, read from the same file with
credential.certificate (``load_root_key``), which does not import cryptography's x509 package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credential.certificate import pem_certificate, read_certificate
from credential.errors import MalformedError, TooLargeError
from credential.jwk import PublicKey

if TYPE_CHECKING:
    from cryptography import x509

MAX_ROOT_PEM = 64 * 1024


def load_root_certificate(pem: bytes) -> x509.Certificate:
    """Read the root certificate a verifier pins; only P-256 and Ed25519 keys are accepted."""
    from cryptography import x509  # pinning and showing the root, not scanning

    if len(pem) > MAX_ROOT_PEM:
        raise TooLargeError("root certificate", MAX_ROOT_PEM)
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise MalformedError("root file is not a PEM X.509 certificate") from exc
    key = cert.public_key()
    if not (
        isinstance(key, ed25519.Ed25519PublicKey)
        or (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1))
    ):
        raise MalformedError("root certificate key must be P-256 or Ed25519")
    load_root_key(pem)  # what a scan will read of it must read: a root pinned is a root scans can use
    return cert


def load_root_key(pem: bytes) -> PublicKey:
    """The key of the pinned root certificate ``pem`` (P-256 or Ed25519; MalformedError otherwise)."""
    if len(pem) > MAX_ROOT_PEM:
        raise TooLargeError("root certificate", MAX_ROOT_PEM)
    try:
        return read_certificate(pem_certificate(pem)).public_key
    except MalformedError as exc:
        raise MalformedError(f"root certificate: {exc}") from exc


__all__ = ["MAX_ROOT_PEM", "load_root_certificate", "load_root_key"]
