"""credential.certificate reads what cryptography.x509 reads, and refuses what is not a v3 DER certificate.

Certificates come from keys.certificates (what the deployment issues), and from a small DER builder here for
what cryptography's builder will not make (version 1, an extension twice, non-DER lengths): the builder's own
output is checked to be accepted by both readers, so each refusal is the one change it names.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credential.certificate import ECDSA_WITH_SHA256, ED25519, pem_certificate, read_certificate
from credential.eku import DEFAULT_EKU_ARC, purpose_dotted
from credential.errors import MalformedError
from credential.trustlist import check_certificate_signature
from keys import Purpose
from keys.certificates import Authority, root_certificate, signing_certificate
from keys.signers import KeySigner
from tests.conftest import T0

AUTHORITY = Authority("110105", "北京市公安局朝阳分局")
ECDSA_OID = bytes.fromhex("2a8648ce3d040302")  # 1.2.840.10045.4.3.2
ED25519_OID = bytes.fromhex("2b6570")  # 1.3.101.112


def der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + der_length(len(body)) + body


def extension(value: x509.ExtensionType, *, critical: bool = False) -> bytes:
    return tlv(0x30, tlv(0x06, _oid(value.oid.dotted_string))
               + (tlv(0x01, b"\xff") if critical else b"") + tlv(0x04, value.public_bytes()))


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


@dataclass
class Parts:
    """The pieces of one hand-built certificate, each replaceable by a test."""

    version: bytes = tlv(0xA0, tlv(0x02, b"\x02"))
    algorithm: bytes = tlv(0x30, tlv(0x06, ECDSA_OID))
    outer_algorithm: bytes | None = None  # None: the same as the inner one
    not_before: bytes = tlv(0x17, b"260101000000Z")
    not_after: bytes = tlv(0x18, b"20510101000000Z")  # after 2049: GeneralizedTime (RFC 5280 §4.1.2.5)
    extensions: tuple[bytes, ...] = ()
    spki: bytes | None = None


class Builder:
    def __init__(self) -> None:
        self.root = KeySigner.generate("ES256")
        self.root_cert = root_certificate(self.root.private_key, authority=AUTHORITY, now=T0)
        self.subject = KeySigner.generate("ES256")

    def good_extensions(self) -> tuple[bytes, ...]:
        return (extension(x509.BasicConstraints(ca=False, path_length=None), critical=True),
                extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True),
                extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(purpose_dotted(DEFAULT_EKU_ARC, "status"))])))

    def build(self, parts: Parts) -> bytes:
        name = self.root_cert.subject.public_bytes()
        spki = parts.spki or self.subject.public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        tbs = tlv(0x30, parts.version + tlv(0x02, b"\x01\x23") + parts.algorithm + name
                  + tlv(0x30, parts.not_before + parts.not_after) + name + spki
                  + (tlv(0xA3, tlv(0x30, b"".join(parts.extensions))) if parts.extensions else b""))
        signature = self.root.private_key.sign(tbs, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
        outer = parts.outer_algorithm or parts.algorithm
        return tlv(0x30, tbs + outer + tlv(0x03, b"\x00" + signature))


@pytest.fixture(scope="module")
def builder() -> Builder:
    return Builder()


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_reads_what_cryptography_reads(alg: str) -> None:
    root = KeySigner.generate(alg)
    root_cert = root_certificate(root.private_key, authority=AUTHORITY, now=T0)
    signer = KeySigner.generate()
    issued = signing_certificate(signer.public_key, purpose=Purpose.CREDENTIAL, root_key=root.private_key,
                                 root_cert=root_cert, authority=AUTHORITY, now=T0)
    cert = read_certificate(issued.public_bytes(Encoding.DER))
    assert cert.tbs == issued.tbs_certificate_bytes and cert.signature == issued.signature
    assert cert.signature_algorithm == issued.signature_algorithm_oid.dotted_string
    assert cert.signature_algorithm == (ED25519 if alg == "EdDSA" else ECDSA_WITH_SHA256)
    assert cert.public_key == signer.public_key
    assert cert.not_before == int(issued.not_valid_before_utc.timestamp()) == T0
    assert cert.not_after == int(issued.not_valid_after_utc.timestamp())
    assert (cert.is_ca(), cert.allows_digital_signature()) == (False, True)
    assert cert.extended_key_usages() == frozenset({purpose_dotted(DEFAULT_EKU_ARC, "credential")})
    check_certificate_signature(cert, root.public_key)  # the same check as for cryptography's object
    check_certificate_signature(issued, root.public_key)
    root_read = read_certificate(pem_certificate(root_cert.public_bytes(Encoding.PEM)))
    assert root_read.public_key == root.public_key and root_read.is_ca() is True
    usage = root_cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert root_read.allows_digital_signature() is usage.digital_signature
    assert root_read.extended_key_usages() is None


def test_the_hand_built_certificate_is_accepted_by_both_readers(builder: Builder) -> None:
    der = builder.build(Parts(extensions=builder.good_extensions()))
    theirs = x509.load_der_x509_certificate(der)
    ours = read_certificate(der)
    assert ours.tbs == theirs.tbs_certificate_bytes and ours.public_key == builder.subject.public_key
    assert ours.not_after == int(theirs.not_valid_after_utc.timestamp()) == int(
        datetime.datetime(2051, 1, 1, tzinfo=datetime.UTC).timestamp())
    assert (ours.is_ca(), ours.allows_digital_signature()) == (False, True)
    assert ours.extended_key_usages() == frozenset({purpose_dotted(DEFAULT_EKU_ARC, "status")})
    check_certificate_signature(ours, builder.root.public_key)


def test_missing_extensions_read_as_none(builder: Builder) -> None:
    cert = read_certificate(builder.build(Parts()))
    assert (cert.is_ca(), cert.allows_digital_signature(), cert.extended_key_usages()) == (None, None, None)


@pytest.mark.parametrize(("change", "reason"), [
    ("version 1", "not version 3"), ("extension twice", "extension 2.5.29.19 twice"),
    ("algorithms disagree", "signature fields disagree"), ("trailing byte", "invalid X.509"),
    ("long-form short length", "invalid X.509"), ("RSA key", "neither P-256 nor Ed25519"),
    ("P-384 key", "neither P-256 nor Ed25519"), ("not a certificate", "invalid X.509"),
])
def test_refused(builder: Builder, change: str, reason: str) -> None:
    good = builder.good_extensions()
    if change == "version 1":
        der = builder.build(Parts(version=b"", extensions=good))
    elif change == "extension twice":
        der = builder.build(Parts(extensions=(*good, good[0])))
    elif change == "algorithms disagree":
        der = builder.build(Parts(extensions=good, outer_algorithm=tlv(0x30, tlv(0x06, ED25519_OID))))
    elif change == "trailing byte":
        der = builder.build(Parts(extensions=good)) + b"\x00"
    elif change == "long-form short length":  # BER allows it, DER does not (X.690 §10.1)
        der = builder.build(Parts(extensions=good, not_before=b"\x17\x81\x0d260101000000Z"))
    elif change == "RSA key":
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
        der = builder.build(Parts(extensions=good, spki=key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)))
    elif change == "P-384 key":
        key384 = ec.generate_private_key(ec.SECP384R1()).public_key()
        der = builder.build(Parts(extensions=good, spki=key384.public_bytes(Encoding.DER,
                                                                            PublicFormat.SubjectPublicKeyInfo)))
    else:
        der = b"\x30\x03\x02\x01\x01"
    with pytest.raises(MalformedError, match=re.escape(reason)):
        read_certificate(der)


def test_an_empty_or_undecodable_extension_is_malformed(builder: Builder) -> None:
    empty_eku = tlv(0x30, tlv(0x06, _oid("2.5.29.37")) + tlv(0x04, tlv(0x30, b"")))
    bad_usage = tlv(0x30, tlv(0x06, _oid("2.5.29.15")) + tlv(0x04, b"\x05\x00"))  # a NULL, not a BIT STRING
    cert = read_certificate(builder.build(Parts(extensions=(empty_eku, bad_usage))))
    with pytest.raises(MalformedError, match="empty"):
        cert.extended_key_usages()
    with pytest.raises(MalformedError, match="keyUsage"):
        cert.allows_digital_signature()


def test_an_unknown_critical_extension_is_refused_and_a_non_critical_one_ignored(builder: Builder) -> None:
    good = builder.good_extensions()
    policy = tlv(0x06, _oid("2.5.29.32")) + tlv(0x04, tlv(0x30, b""))  # certificatePolicies, a body never read
    read_certificate(builder.build(Parts(extensions=(*good, tlv(0x30, policy)))))
    critical = tlv(0x30, tlv(0x06, _oid("2.5.29.32")) + b"\x01\x01\xff" + tlv(0x04, tlv(0x30, b"")))
    with pytest.raises(MalformedError, match=re.escape("critical extension this reader does not know: 2.5.29.32")):
        read_certificate(builder.build(Parts(extensions=(*good, critical))))
    x509.load_der_x509_certificate(builder.build(Parts(extensions=(*good, critical))))  # the DER itself is fine


def test_pem_holds_exactly_one_certificate(builder: Builder) -> None:
    pem = builder.root_cert.public_bytes(Encoding.PEM)
    assert pem_certificate(pem) == builder.root_cert.public_bytes(Encoding.DER)
    for bad in (pem + pem, b"not a certificate", pem.replace(b"M", b"!", 1), b""):
        with pytest.raises(MalformedError):
            pem_certificate(bad)


@pytest.mark.parametrize("tag", [0x31, 0x04, 0xA0])
def test_the_signed_part_must_be_a_sequence(builder: Builder, tag: int) -> None:
    der = builder.build(Parts(extensions=builder.good_extensions()))
    start = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)  # past the outer tag and length
    assert der[start] == 0x30
    with pytest.raises(MalformedError, match=r"invalid X\.509"):
        read_certificate(der[:start] + bytes([tag]) + der[start + 1:])
