"""The pinned root certificate (root.pem): set once with ``--root``, never replaced by a sync."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credential.errors import MalformedError, TooLargeError

MAX_ROOT_PEM = 64 * 1024


def load_root_certificate(pem: bytes) -> x509.Certificate:
    """Read the root certificate a verifier pins; only P-256 and Ed25519 keys are accepted."""
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
    return cert


__all__ = ["MAX_ROOT_PEM", "load_root_certificate"]
