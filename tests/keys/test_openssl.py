"""The key hierarchy as OpenSSL sees it: ``openssl verify -x509_strict`` and ``openssl x509 -text``.

The root verifies as a self-signed CA and every signing certificate chains to it, under RFC 5280 as OpenSSL's
strict mode reads it; the root's keyUsage includes Digital Signature (it signs the trust list, a JWS), and each
signing certificate's extendedKeyUsage is its purpose's OID under the ring's arc.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from credential.eku import DEFAULT_EKU_ARC
from keys import KeyRing, Purpose
from keys.rotation import rotate

NOW = 1_780_000_000


@pytest.fixture(scope="module")
def openssl() -> str:
    found = shutil.which("openssl")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is not installed")
        pytest.skip("openssl is not installed")
    return found


def _pem(cert: x509.Certificate, path: Path) -> Path:
    path.write_bytes(cert.public_bytes(Encoding.PEM))
    return path


def _verify(openssl: str, ca: Path, cert: Path, at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([openssl, "verify", "-x509_strict", "-attime", str(at), "-CAfile", str(ca), str(cert)],
                          capture_output=True, text=True, check=False, timeout=30)


def _text(openssl: str, cert: Path) -> str:
    return subprocess.run([openssl, "x509", "-in", str(cert), "-noout", "-text"], capture_output=True, text=True,
                          check=True, timeout=30).stdout


def _key_usage(text: str) -> str:
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "X509v3 Key Usage" in line)
    return lines[at + 1].strip()


def _extended_key_usage(text: str) -> str:
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "X509v3 Extended Key Usage" in line)
    return lines[at + 1].strip()


@pytest.mark.parametrize(("alg", "arc"), [("ES256", DEFAULT_EKU_ARC), ("EdDSA", DEFAULT_EKU_ARC),
                                          ("ES256", "1.2.156.112233.9")])
def test_openssl_verifies_the_hierarchy_strictly(openssl: str, tmp_path: Path, alg: str, arc: str) -> None:
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=NOW, alg=alg,
                            eku_arc=arc)
    rotate(ring, Purpose.STATUS, now=NOW + 60)  # a certificate made after init: the same rules hold
    at = NOW + 3600
    root = _pem(ring.root_certificate, tmp_path / "root.pem")
    result = _verify(openssl, root, root, at)
    assert result.returncode == 0 and result.stdout.strip() == f"{root}: OK", result.stderr
    root_text = _text(openssl, root)
    assert _key_usage(root_text) == "Digital Signature, Certificate Sign, CRL Sign"
    assert "X509v3 Extended Key Usage" not in root_text
    for purpose, signer in ring.signers():
        cert = _pem(ring.certificates[signer.kid], tmp_path / f"{purpose}-{signer.kid}.pem")
        result = _verify(openssl, root, cert, at)
        assert result.returncode == 0 and result.stdout.strip() == f"{cert}: OK", result.stderr
        text = _text(openssl, cert)
        assert _key_usage(text) == "Digital Signature"
        suffix = 1 if purpose is Purpose.CREDENTIAL else 2
        assert _extended_key_usage(text) == f"{arc}.{suffix}"
        assert "99999" not in text


def test_openssl_refuses_a_certificate_from_another_root(openssl: str, tmp_path: Path) -> None:
    """The check above can fail: a signing certificate of one ring does not chain to another ring's root."""
    ours = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=NOW)
    theirs = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=NOW)
    root = _pem(ours.root_certificate, tmp_path / "root.pem")
    signer = theirs.signers_of(Purpose.CREDENTIAL)[0]
    result = _verify(openssl, root, _pem(theirs.certificates[signer.kid], tmp_path / "theirs.pem"), NOW + 3600)
    assert result.returncode != 0
