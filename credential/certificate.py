"""The fields of an X.509 certificate that a trust list entry and the pinned root are judged on.

Every `epermit verify` re-verifies the trust list, and with it each entry's certificate, in a fresh process.
cryptography's certificate objects cannot be had without importing all of ``cryptography.x509`` (loading one
certificate imports the package: extensions, names, the path-validation API, email.utils), which was a third
of a scan's start-up. The certificate is read here instead with cryptography's strict DER decoder (the same
Rust ASN.1 code its x509 module uses), and only the fields the checks need are taken out of it:

- the signed bytes (``tbsCertificate``), the signature algorithm and the signature, to check the issuer;
- the subject public key (P-256 or Ed25519 only), its validity, and the extensions basicConstraints,
  keyUsage and extendedKeyUsage; an extension present twice is malformed, as cryptography says too.

Anything that does not decode as DER raises MalformedError. Certificates are made (keys.certificates) and
inspected at length elsewhere with cryptography.x509; this module only reads.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Annotated, TypeVar

from cryptography.hazmat import asn1
from cryptography.hazmat.bindings._rust import ObjectIdentifier
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credential.errors import MalformedError

ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
ED25519 = "1.3.101.112"
_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_P256 = "1.2.840.10045.3.1.7"
BASIC_CONSTRAINTS = "2.5.29.19"
KEY_USAGE = "2.5.29.15"
EXTENDED_KEY_USAGE = "2.5.29.37"
_UNDERSTOOD = frozenset({BASIC_CONSTRAINTS, KEY_USAGE, EXTENDED_KEY_USAGE})
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----")

T = TypeVar("T")
Time = asn1.UTCTime | asn1.GeneralizedTime  # RFC 5280 §4.1.2.5


@asn1.sequence
class _AlgorithmIdentifier:
    algorithm: ObjectIdentifier
    # The named curve of an EC key; absent for ECDSA and Ed25519 signatures; NULL for RSA (refused, by name).
    parameters: ObjectIdentifier | asn1.Null | None


@asn1.sequence
class _SubjectPublicKeyInfo:
    algorithm: _AlgorithmIdentifier
    subject_public_key: asn1.BitString


@asn1.sequence
class _Validity:
    not_before: Time
    not_after: Time


@asn1.sequence
class _Extension:
    extn_id: ObjectIdentifier
    critical: Annotated[bool, asn1.Default(False)]
    extn_value: bytes


@asn1.sequence
class _TBSCertificate:
    version: Annotated[int, asn1.Explicit(0), asn1.Default(0)]
    serial_number: int
    signature: _AlgorithmIdentifier
    issuer: asn1.TLV
    validity: _Validity
    subject: asn1.TLV
    subject_public_key_info: _SubjectPublicKeyInfo
    issuer_unique_id: Annotated[asn1.BitString | None, asn1.Implicit(1)]
    subject_unique_id: Annotated[asn1.BitString | None, asn1.Implicit(2)]
    extensions: Annotated[list[_Extension] | None, asn1.Explicit(3)]


@asn1.sequence
class _Certificate:
    tbs_certificate: asn1.TLV  # kept undecoded: its exact bytes are what the issuer signed
    signature_algorithm: _AlgorithmIdentifier
    signature: asn1.BitString


@asn1.sequence
class _BasicConstraints:
    ca: Annotated[bool, asn1.Default(False)]
    path_len_constraint: int | None


@dataclass(frozen=True)
class Certificate:
    """What the checks read of one certificate; ``public_key`` is already known to be P-256 or Ed25519."""

    tbs: bytes
    signature_algorithm: str  # dotted OID
    signature: bytes
    public_key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
    not_before: int  # POSIX seconds
    not_after: int
    extensions: dict[str, bytes]  # dotted OID -> extnValue (the DER inside the OCTET STRING)

    def is_ca(self) -> bool | None:
        """basicConstraints cA; None when the certificate has no basicConstraints."""
        value = self.extensions.get(BASIC_CONSTRAINTS)
        return None if value is None else _decode(_BasicConstraints, value, "basicConstraints").ca

    def allows_digital_signature(self) -> bool | None:
        """keyUsage digitalSignature (bit 0); None when the certificate has no keyUsage."""
        value = self.extensions.get(KEY_USAGE)
        if value is None:
            return None
        bits = _decode(asn1.BitString, value, "keyUsage").as_bytes()
        return bool(bits) and bool(bits[0] & 0x80)

    def extended_key_usages(self) -> frozenset[str] | None:
        """The extendedKeyUsage purposes as dotted OIDs; None when the certificate has none."""
        value = self.extensions.get(EXTENDED_KEY_USAGE)
        if value is None:
            return None
        usages = _decode(list[ObjectIdentifier], value, "extendedKeyUsage")
        if not usages:  # RFC 5280 §4.2.1.12: SIZE (1..MAX)
            raise MalformedError("certificate extendedKeyUsage is empty")
        return frozenset(oid.dotted_string for oid in usages)


def _decode(cls: type[T], der: bytes, what: str) -> T:
    try:
        return asn1.decode_der(cls, der)
    except ValueError as exc:
        raise MalformedError(f"certificate {what} is not valid DER") from exc


def _der_length(length: int) -> bytes:
    """The DER length octets of ``length`` (X.690 §8.1.3, §10.1: definite, fewest octets)."""
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def _seconds(time: object) -> int:
    assert isinstance(time, asn1.UTCTime | asn1.GeneralizedTime)  # the Time CHOICE
    return int(time.as_datetime().timestamp())


def _public_key(info: _SubjectPublicKeyInfo) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey:
    algorithm, parameters = info.algorithm.algorithm.dotted_string, info.algorithm.parameters
    bits = info.subject_public_key
    try:
        if bits.padding_bits() == 0 and algorithm == ED25519 and parameters is None:
            return ed25519.Ed25519PublicKey.from_public_bytes(bits.as_bytes())
        if (bits.padding_bits() == 0 and algorithm == _EC_PUBLIC_KEY and isinstance(parameters, ObjectIdentifier)
                and parameters.dotted_string == _P256):
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bits.as_bytes())
    except ValueError as exc:
        raise MalformedError("certificate key is not a valid P-256 or Ed25519 key") from exc
    raise MalformedError("certificate key is neither P-256 nor Ed25519")


def read_certificate(der: bytes) -> Certificate:
    """The checked fields of the DER certificate ``der``; MalformedError if it is not one (or not v3)."""
    try:
        outer: _Certificate = asn1.decode_der(_Certificate, der)
        tbs: _TBSCertificate = outer.tbs_certificate.parse(_TBSCertificate)
    except ValueError as exc:
        raise MalformedError("invalid X.509 certificate") from exc
    if tbs.version != 2:  # v3: the only version with extensions, and the checks need three of them
        raise MalformedError("X.509 certificate is not version 3")
    if outer.signature.padding_bits() != 0 or tbs.signature.algorithm != outer.signature_algorithm.algorithm:
        raise MalformedError("X.509 certificate signature fields disagree")
    extensions: dict[str, bytes] = {}
    for extension in tbs.extensions or ():
        oid = extension.extn_id.dotted_string
        if oid in extensions:
            raise MalformedError(f"X.509 certificate has extension {oid} twice")
        if extension.critical and oid not in _UNDERSTOOD:  # RFC 5280 §4.2: an unknown critical one is refused
            raise MalformedError(f"X.509 certificate has a critical extension this reader does not know: {oid}")
        extensions[oid] = extension.extn_value
    data = bytes(outer.tbs_certificate.data)
    return Certificate(
        tbs=outer.tbs_certificate.tag_bytes + _der_length(len(data)) + data,
        signature_algorithm=outer.signature_algorithm.algorithm.dotted_string,
        signature=outer.signature.as_bytes(),
        public_key=_public_key(tbs.subject_public_key_info),
        not_before=_seconds(tbs.validity.not_before),
        not_after=_seconds(tbs.validity.not_after),
        extensions=extensions,
    )


def pem_certificate(pem: bytes) -> bytes:
    """The DER of the one certificate in ``pem`` (RFC 7468 strict form); MalformedError otherwise."""
    found = _PEM.findall(pem)
    if len(found) != 1:
        raise MalformedError("root file is not a PEM X.509 certificate")
    try:
        return base64.b64decode(b"".join(found[0].split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedError("root file is not a PEM X.509 certificate") from exc


__all__ = ["ECDSA_WITH_SHA256", "ED25519", "Certificate", "pem_certificate", "read_certificate"]
