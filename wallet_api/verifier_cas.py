"""The CAs whose online verifiers the wallet PWA trusts (OpenID4VP x509_san_dns), served at /wallet/verifiers.json.

Where the wallet gets them must itself be trusted: they come from the wallet's own origin — the origin that
serves the wallet's code, so no less trusted than the code that checks them — from an operator setting
(``WalletApiSettings.verifier_ca_file``, EPERMIT_VERIFIER_CA_FILE: a PEM bundle). The file is read on each
request (an operator adds or withdraws a CA without a restart; the service worker never caches the answer),
size-capped before parsing, and served as base64 DER (RFC 7515 x5c encoding) so the page parses no PEM.
Only CA certificates are accepted: a leaf in the bundle would let its holder vouch for any host it names.

Beside the bundle, when the residents' login is signed under a certificate from the office's own root (a real
deployment: keys/login.py), the answer names that root as the anchor of this issuer's login only::

    {"certificates": [<bundle>], "issuer_login": {"client_id": "x509_san_dns:<host>", "certificates": [<root>]}}

A wallet trusts ``issuer_login.certificates`` for a request whose client_id is exactly that one, never for
another verifier: the root vouches for the bureau's own service, not for employers. It is not added to the
bundle for the same reason. The demo's login (a loopback CA, epermit.tls) names no such anchor.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding

from credential.jwk import PublicKey
from credential.trustlist import check_certificate_signature
from issuer.errors import SettingsError

MAX_BUNDLE = 256 * 1024
MAX_CAS = 64


def read_verifier_cas(path: Path) -> list[str]:
    """The bundle's CA certificates as base64 DER; SettingsError (naming the setting) when it cannot be used."""
    try:
        with path.open("rb") as bundle:
            pem = bundle.read(MAX_BUNDLE + 1)
    except OSError as exc:
        raise SettingsError("verifier_ca_file", f"cannot be read: {exc.strerror}") from exc
    if len(pem) > MAX_BUNDLE:
        raise SettingsError("verifier_ca_file", f"is larger than {MAX_BUNDLE} bytes")
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise SettingsError("verifier_ca_file", "holds no PEM certificate") from exc
    if len(certificates) > MAX_CAS:
        raise SettingsError("verifier_ca_file", f"holds more than {MAX_CAS} certificates")
    for certificate in certificates:
        try:
            is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            raise SettingsError("verifier_ca_file", f"holds a certificate that is not a CA: {certificate.subject.rfc4514_string()}")
    return [_der(c) for c in certificates]


def _der(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")


def issuer_login_anchor(client_id: str, leaf: x509.Certificate, root: x509.Certificate) -> dict[str, object] | None:
    """``{"client_id", "certificates": [root]}`` when the login's certificate ``leaf`` is issued by the office's
    ``root``, else None (module docstring)."""
    root_key = root.public_key()
    if leaf.issuer != root.subject or not isinstance(root_key, PublicKey):
        return None
    try:
        check_certificate_signature(leaf, root_key)
    except InvalidSignature:
        return None
    return {"client_id": client_id, "certificates": [_der(root)]}


__all__ = ["MAX_BUNDLE", "issuer_login_anchor", "read_verifier_cas"]
