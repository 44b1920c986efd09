"""The key ring of one issuing authority: the root, its certificate, and the credential and status signers.

Rotation is an ordered list: the newest signer (``[0]``) signs, every listed signer is published in the trust
list so what it signed keeps verifying. A key directory holds::

    keyring.json                     order, states and authority (public; no key material)
    root.key.json  root.crt.pem      the root: signs certificates and trust lists only
    credential-<kid>.key.json .crt.pem
    status-<kid>.key.json     .crt.pem

Key files are keys/keystore.py envelopes; every file is written 0600 and the directory 0700.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credential.encoding import json_dumps, json_loads
from credential.errors import MalformedError
from credential.jwk import key_id
from credential.trustlist import (
    CREDENTIAL_TYPES,
    STATES,
    TrustedKey,
    TrustList,
    check_certificate_signature,
    sign_trust_list,
)
from keys.certificates import (
    Authority,
    certificate_purpose,
    root_certificate,
    signing_certificate,
)
from keys.errors import KeyManagementError, KeyNotFoundError
from keys.keystore import (
    SCRYPT_N,
    read_key_file,
    read_passphrase,
    read_small_file,
    write_key_file,
    write_private_file,
)
from keys.signers import KeySigner

__all__ = ["KEYRING_FILE", "KeyRing", "init_keys", "read_passphrase"]

KEYRING_FILE = "keyring.json"
KEYRING_FORMAT = "epermit-keyring-v1"
MAX_KEYRING_FILE_SIZE = 256 * 1024
MAX_CERTIFICATE_FILE_SIZE = 16 * 1024
TRUST_LIST_VALIDITY = 30 * 86400
_KID = re.compile(r"[A-Za-z0-9_-]{11}")  # also keeps a tampered keyring.json from naming paths outside the dir
_AUTHORITY_CODE = re.compile(r"[0-9]{6}")


class KeyRing:
    def __init__(self, *, root: KeySigner, root_certificate: x509.Certificate,
                 credential_signers: Sequence[KeySigner], status_signers: Sequence[KeySigner],
                 certificates: Mapping[str, x509.Certificate], authority_code: str, authority_name: str,
                 states: Mapping[str, str] | None = None) -> None:
        if not credential_signers or not status_signers:
            raise KeyManagementError("a key ring needs at least one credential and one status signer")
        if not _AUTHORITY_CODE.fullmatch(authority_code) or not authority_name:
            raise KeyManagementError("authority code must be six digits and the name non-empty")
        _check_pair(root, root_certificate)
        for purpose, signers in (("credential", credential_signers), ("status", status_signers)):
            for signer in signers:
                cert = certificates.get(signer.kid)
                if cert is None:
                    raise KeyNotFoundError(signer.kid, "no certificate for key")
                _check_pair(signer, cert)
                _check_issued(cert, root, root_certificate, purpose)
        self.root = root
        self.root_certificate = root_certificate
        self.credential_signers = list(credential_signers)
        self.status_signers = list(status_signers)
        self.certificates = dict(certificates)
        self.authority_code = authority_code
        self.authority_name = authority_name
        self.states = {s.kid: (states or {}).get(s.kid, "active") for _, s in self._signers()}
        if not set(self.states.values()) <= STATES:
            raise KeyManagementError("unknown key state")

    @property
    def credential_signer(self) -> KeySigner:
        return self.credential_signers[0]

    @property
    def status_signer(self) -> KeySigner:
        return self.status_signers[0]

    def _signers(self) -> list[tuple[str, KeySigner]]:
        return [("credential", s) for s in self.credential_signers] + [("status", s) for s in self.status_signers]

    @classmethod
    def generate(cls, *, authority_code: str, authority_name: str, now: int, alg: str = "ES256") -> KeyRing:
        """A fresh ring in memory: root + certificate, one credential and one status signer."""
        authority = Authority(authority_code, authority_name)
        root = KeySigner.generate(alg)
        root_cert = root_certificate(root.private_key, authority=authority, now=now)
        signers = {purpose: KeySigner.generate(alg) for purpose in ("credential", "status")}
        certificates = {
            signer.kid: signing_certificate(signer.public_key, purpose=purpose, root_key=root.private_key,
                                            root_cert=root_cert, authority=authority, now=now)
            for purpose, signer in signers.items()
        }
        return cls(root=root, root_certificate=root_cert, credential_signers=[signers["credential"]],
                   status_signers=[signers["status"]], certificates=certificates,
                   authority_code=authority_code, authority_name=authority_name)

    @classmethod
    def load(cls, directory: Path, passphrase: bytes) -> KeyRing:
        """Open a key directory; KeyUnlockError on a wrong passphrase, KeyNotFoundError for a missing key."""
        try:
            doc = json_loads(read_small_file(directory / KEYRING_FILE, MAX_KEYRING_FILE_SIZE),
                             max_size=MAX_KEYRING_FILE_SIZE)
        except MalformedError as exc:
            raise KeyManagementError(f"{KEYRING_FILE}: {exc.reason}") from exc
        if not isinstance(doc, dict) or doc.get("format") != KEYRING_FORMAT:
            raise KeyManagementError(f"{directory / KEYRING_FILE} is not an {KEYRING_FORMAT} file")
        authority = doc.get("authority")
        if not isinstance(authority, dict):
            raise KeyManagementError(f"{KEYRING_FILE} lacks the authority")
        root = KeySigner(read_key_file(directory / "root.key.json", passphrase=passphrase, purpose="root"))
        signers: dict[str, list[KeySigner]] = {}
        certificates: dict[str, x509.Certificate] = {}
        states: dict[str, str] = {}
        for purpose in ("credential", "status"):
            signers[purpose] = []
            for entry in _entries(doc, purpose):
                kid, key_file = entry["kid"], directory / f"{purpose}-{entry['kid']}.key.json"
                if not key_file.exists():
                    raise KeyNotFoundError(kid, f"{key_file.name} missing")
                signer = KeySigner(read_key_file(key_file, passphrase=passphrase, purpose=purpose))
                if signer.kid != kid:
                    raise KeyManagementError(f"{key_file.name} holds key {signer.kid}")
                signers[purpose].append(signer)
                certificates[kid] = _read_certificate(directory / f"{purpose}-{kid}.crt.pem")
                states[kid] = entry["state"]
        return cls(root=root, root_certificate=_read_certificate(directory / "root.crt.pem"),
                   credential_signers=signers["credential"], status_signers=signers["status"],
                   certificates=certificates, authority_code=str(authority.get("code", "")),
                   authority_name=str(authority.get("name", "")), states=states)

    def save(self, directory: Path, passphrase: bytes, *, scrypt_n: int = SCRYPT_N,
             overwrite: bool = False) -> None:
        """Write every key sealed under ``passphrase``; ``keyring.json`` last, so a crash leaves the old ring."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if (directory / KEYRING_FILE).exists() and not overwrite:
            raise KeyManagementError(f"{directory} already holds a key ring")
        self._write_key(directory, "root", self.root, self.root_certificate, passphrase, scrypt_n, overwrite)
        for purpose, signer in self._signers():
            self._write_key(directory, f"{purpose}-{signer.kid}", signer, self.certificates[signer.kid],
                            passphrase, scrypt_n, overwrite)
        doc = {
            "format": KEYRING_FORMAT,
            "authority": {"code": self.authority_code, "name": self.authority_name},
            "root": self.root.kid,
            **{purpose: [{"kid": s.kid, "state": self.states[s.kid]} for s in signers]
               for purpose, signers in (("credential", self.credential_signers),
                                        ("status", self.status_signers))},
        }
        write_private_file(directory / KEYRING_FILE, json_dumps(doc) + b"\n", overwrite=overwrite)

    @staticmethod
    def _write_key(directory: Path, stem: str, signer: KeySigner, cert: x509.Certificate, passphrase: bytes,
                   scrypt_n: int, overwrite: bool) -> None:
        purpose = stem.split("-", 1)[0]
        write_key_file(directory / f"{stem}.key.json", signer.private_key, passphrase=passphrase,
                       purpose=purpose, scrypt_n=scrypt_n, overwrite=overwrite)
        write_private_file(directory / f"{stem}.crt.pem", cert.public_bytes(Encoding.PEM), overwrite=overwrite)

    def trust_list(self, *, issuer: str, now: int, version: int, status_lists: Sequence[str],
                   aggregation_uri: str | None, validity: int = TRUST_LIST_VALIDITY) -> TrustList:
        """Every signer of the ring, with its certificate and the certificate's validity as its window."""
        keys = tuple(
            TrustedKey(
                kid=signer.kid,
                public_key=signer.public_key,
                purpose=purpose,
                state=self.states[signer.kid],
                not_before=int(self.certificates[signer.kid].not_valid_before_utc.timestamp()),
                not_after=int(self.certificates[signer.kid].not_valid_after_utc.timestamp()),
                types=CREDENTIAL_TYPES,
                authority_code=self.authority_code,
                authority_name=self.authority_name,
                certificate=self.certificates[signer.kid].public_bytes(Encoding.DER),
            )
            for purpose, signer in self._signers()
        )
        return TrustList(issuer=issuer, version=version, iat=now, exp=now + validity, keys=keys,
                         status_lists=tuple(status_lists), aggregation_uri=aggregation_uri)

    def trust_list_token(self, *, issuer: str, now: int, version: int, status_lists: Sequence[str],
                         aggregation_uri: str | None, validity: int = TRUST_LIST_VALIDITY) -> str:
        trust = self.trust_list(issuer=issuer, now=now, version=version, status_lists=status_lists,
                                aggregation_uri=aggregation_uri, validity=validity)
        return sign_trust_list(trust, root_signer=self.root)


def init_keys(directory: Path, passphrase: bytes, authority_code: str, authority_name: str, now: int, *,
              scrypt_n: int = SCRYPT_N) -> KeyRing:
    """Create a new key directory (``epermit keys init``); refuses a directory that is not empty."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise KeyManagementError(f"{directory} exists and is not empty; refusing to overwrite keys")
    ring = KeyRing.generate(authority_code=authority_code, authority_name=authority_name, now=now)
    ring.save(directory, passphrase, scrypt_n=scrypt_n)
    return ring


def _check_pair(signer: KeySigner, cert: x509.Certificate) -> None:
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if cert.public_key().public_bytes(*spki) != signer.public_key.public_bytes(*spki):
        raise KeyManagementError(f"certificate does not carry key {signer.kid}")


def _check_issued(cert: x509.Certificate, root: KeySigner, root_cert: x509.Certificate, purpose: str) -> None:
    kid = key_id(cert.public_key())  # type: ignore[arg-type]  # the pair check ran first: P-256 or Ed25519
    try:
        check_certificate_signature(cert, root.public_key)
    except InvalidSignature as exc:
        raise KeyManagementError(f"certificate of {kid} was not signed by this root") from exc
    if cert.issuer != root_cert.subject or certificate_purpose(cert) != purpose:
        raise KeyManagementError(f"certificate of {kid} is not a root-issued {purpose} certificate")


def _entries(doc: dict[str, Any], purpose: str) -> list[dict[str, str]]:
    entries = doc.get(purpose)
    if not isinstance(entries, list) or not entries:
        raise KeyManagementError(f"{KEYRING_FILE} lists no {purpose} keys")
    for entry in entries:
        if (not isinstance(entry, dict) or not isinstance(entry.get("kid"), str)
                or not _KID.fullmatch(entry["kid"]) or entry.get("state") not in STATES):
            raise KeyManagementError(f"{KEYRING_FILE} has an invalid {purpose} entry")
    return entries


def _read_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(read_small_file(path, MAX_CERTIFICATE_FILE_SIZE))
    except ValueError as exc:
        raise KeyManagementError(f"{path.name} is not a PEM certificate") from exc
