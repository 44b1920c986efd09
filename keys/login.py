"""The login key: what the bureau's online service signs its residents' OpenID4VP login requests with.

At the residents' login the wallet API is its own verifier (wallet_api.login; client identifier prefix
x509_san_dns): its request objects are signed by a key whose certificate names the public host as a SAN
dNSName, and a wallet believes them only through a chain to a CA it trusts. That CA is the office's root —
the root that signs the trust list, which the resident's wallet pinned at pickup — so a wallet needs no other
CA to log in to its own issuer, and nobody but this office can make a login request its wallets believe.

Two files in the key directory, beside the others and sealed the same way (keys/keystore.py)::

    login.key.json    the P-256 key (ES256: the one algorithm of OpenID4VP request objects here), purpose login
    login.crt.pem     its certificate, issued by the root

The certificate is made to pass the Web PKI profile wallets validate it under (cryptography.x509.verification,
the server verifier for the host: RFC 5280 and the CA/Browser Forum's server certificate profile):
subjectAltName with the host as its one dNSName, basicConstraints CA false, keyUsage digitalSignature (both
critical), extendedKeyUsage serverAuth (the profile wants it of a leaf validated for a host), and the key
identifiers (AKI = the root's SKI). It is valid 397 days, the longest that profile allows a server
certificate, and never past the root; `epermit keys login` makes a new key and certificate (a new host, or a
year on). The login key is not listed in keyring.json and never in the trust list: it signs no credential and
no status list (keys.purpose: only request objects), so a verifier of credentials never meets it.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from credential.jwk import PublicKey, key_id
from credential.trustlist import check_certificate_signature
from keys.errors import KeyManagementError
from keys.keystore import SCRYPT_N, read_key_file, read_small_file, write_key_file, write_private_file
from keys.purpose import Purpose, PurposeSigner
from keys.signers import KeySigner, PrivateKey

LOGIN_KEY_FILE = "login.key.json"
LOGIN_CERT_FILE = "login.crt.pem"
LOGIN_VALIDITY_DAYS = 397
MAX_CERTIFICATE_FILE = 16 * 1024
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?")  # what an x509_san_dns client_id may name


class LoginKeyError(KeyManagementError):
    """The login key or its certificate cannot serve this office's login (``problem`` says which check)."""

    def __init__(self, problem: str, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem  # "host", "issuer", "validity", "pair", "missing"


def checked_host(host: str) -> str:
    """``host`` as a certificate's dNSName: lower case, a DNS name; LoginKeyError otherwise. An IP address is
    refused: x509_san_dns names a DNS host, and the Web PKI validation wallets run refuses an address written
    as a dNSName (cryptography 51 raises on it) — a deployment is reached by name (``localhost`` locally)."""
    name = host.strip().lower().rstrip(".")
    if not _HOST.fullmatch(name) or ".." in name:
        raise LoginKeyError("host", f"{host!r} is not a host name for the login certificate")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name
    raise LoginKeyError("host", f"{host} is an IP address: the login certificate (x509_san_dns) names a DNS host; "
                                "give the public URL by its host name")


@dataclass(frozen=True)
class LoginKey:
    signer: KeySigner
    certificate: x509.Certificate

    @property
    def host(self) -> str:
        """The dNSName the certificate names (the first: it names one)."""
        try:
            names = self.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except x509.ExtensionNotFound:
            return ""
        found = names.get_values_for_type(x509.DNSName)
        return found[0] if found else ""

    @property
    def not_after(self) -> int:
        return int(self.certificate.not_valid_after_utc.timestamp())

    def purpose_signer(self) -> PurposeSigner:
        """The key as a signer of request objects only, none expiring past the certificate."""
        return PurposeSigner(self.signer, Purpose.LOGIN, not_after=self.not_after)


def _time(unix: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(unix, tz=datetime.UTC)


def login_certificate(public_key: PublicKey, *, host: str, root_key: PrivateKey, root_cert: x509.Certificate,
                      now: int, validity_days: int = LOGIN_VALIDITY_DAYS) -> x509.Certificate:
    """The login certificate for ``host`` (module docstring), issued by the root; subject: the root's authority
    code (serialNumber) and the host."""
    host = checked_host(host)
    code = root_cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                         *([x509.NameAttribute(NameOID.SERIAL_NUMBER, str(code[0].value))] if code else []),
                         x509.NameAttribute(NameOID.COMMON_NAME, host)])
    not_after = min(now + validity_days * 86400, int(root_cert.not_valid_after_utc.timestamp()))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(_time(now - 300))  # a wallet whose clock is a little behind still takes it
        .not_valid_after(_time(not_after))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
    )
    algorithm = None if isinstance(root_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(root_key, algorithm)


def new_login_key(root: KeySigner, root_cert: x509.Certificate, *, host: str, now: int) -> LoginKey:
    """A fresh P-256 login key and its certificate for ``host``, in memory."""
    signer = KeySigner.generate("ES256")
    return LoginKey(signer, login_certificate(signer.public_key, host=host, root_key=root.private_key,
                                              root_cert=root_cert, now=now))


def check_login_key(login: LoginKey, root_cert: x509.Certificate, *, host: str, now: int) -> None:
    """That ``login`` can serve the login of ``host`` now: issued by this root, naming ``host``, valid at
    ``now``; LoginKeyError (its ``problem`` the check) otherwise."""
    root_key = root_cert.public_key()
    try:
        if login.certificate.issuer != root_cert.subject or not isinstance(root_key, PublicKey):
            raise InvalidSignature
        check_certificate_signature(login.certificate, root_key)
    except InvalidSignature:
        raise LoginKeyError("issuer", f"the login certificate ({login.certificate.issuer.rfc4514_string()}) is not "
                                      "issued by this office's root") from None
    if login.host != checked_host(host):
        raise LoginKeyError("host", f"the login certificate names {login.host or 'no host'}, not {host}")
    certificate = login.certificate
    if not certificate.not_valid_before_utc.timestamp() <= now <= certificate.not_valid_after_utc.timestamp():
        raise LoginKeyError("validity", f"the login certificate is not valid now (valid "
                                        f"{certificate.not_valid_before_utc:%Y-%m-%d} to "
                                        f"{certificate.not_valid_after_utc:%Y-%m-%d})")


def has_login_key(directory: Path) -> bool:
    return (directory / LOGIN_CERT_FILE).exists() or (directory / LOGIN_KEY_FILE).exists()


def load_login_key(directory: Path, passphrase: bytes) -> LoginKey | None:
    """The directory's login key, unsealed, or None when it has none (made before logins, or without a
    public URL); LoginKeyError when only half of it is there or the certificate is not the key's."""
    if not has_login_key(directory):
        return None
    for name in (LOGIN_KEY_FILE, LOGIN_CERT_FILE):
        if not (directory / name).exists():
            raise LoginKeyError("missing", f"{directory / name} is missing: make the login key again with "
                                           f"`epermit keys login --dir {directory} --public-url https://…`")
    signer = KeySigner(read_key_file(directory / LOGIN_KEY_FILE, passphrase=passphrase, purpose=Purpose.LOGIN))
    try:
        certificate = x509.load_pem_x509_certificate(read_small_file(directory / LOGIN_CERT_FILE,
                                                                     MAX_CERTIFICATE_FILE))
    except ValueError as exc:
        raise LoginKeyError("pair", f"{LOGIN_CERT_FILE} is not a PEM certificate") from exc
    public = certificate.public_key()
    if not isinstance(public, PublicKey) or key_id(public) != signer.kid:
        raise LoginKeyError("pair", f"{LOGIN_CERT_FILE} is not the certificate of {LOGIN_KEY_FILE}: make the login "
                                    f"key again with `epermit keys login --dir {directory} --public-url https://…`")
    return LoginKey(signer, certificate)


def write_login_key(directory: Path, login: LoginKey, passphrase: bytes, *, scrypt_n: int = SCRYPT_N,
                    overwrite: bool = False) -> None:
    """Seal the key and write its certificate (0600); ``overwrite`` replaces each file atomically."""
    write_key_file(directory / LOGIN_KEY_FILE, login.signer.private_key, passphrase=passphrase, purpose=Purpose.LOGIN,
                   scrypt_n=scrypt_n, overwrite=overwrite)
    write_private_file(directory / LOGIN_CERT_FILE, login.certificate.public_bytes(Encoding.PEM), overwrite=overwrite)


__all__ = ["LOGIN_CERT_FILE", "LOGIN_KEY_FILE", "LOGIN_VALIDITY_DAYS", "LoginKey", "LoginKeyError",
           "check_login_key", "checked_host", "has_login_key", "load_login_key", "login_certificate",
           "new_login_key", "write_login_key"]
