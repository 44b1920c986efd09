"""The key ring of one issuing authority: the root, its certificate, and the credential and status signers.

Purposes stay apart (keys/purpose.py): the root signs certificates and trust lists only; ``credential_signer``
and ``status_signer`` are PurposeSigner wrappers that refuse any other content, and refuse an ``exp`` past the
key's certificate.

Rotation is an ordered list, newest first. Every listed key is published in the trust list (so what it signed
keeps verifying) until its certificate expires; the key that signs is the newest *usable* one at the ring's
clock: not revoked, and inside its certificate's validity. A key rotated in with a lead time has a
certificate that starts in the future, so it is published before it signs its first credential.

Keys live in files sealed by keys/keystore.py or in a PKCS#11 token (keys/pkcs11_signer.py); the directory
format is keys/keydir.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credential.jwk import key_id
from credential.trustlist import (
    CREDENTIAL_TYPES,
    STATES,
    TrustedKey,
    TrustList,
    check_certificate_signature,
    sign_trust_list,
)
from keys.certificates import Authority, certificate_purpose, root_certificate, signing_certificate
from keys.errors import KeyManagementError, KeyNotFoundError
from keys.keystore import SCRYPT_N, read_passphrase
from keys.pkcs11_signer import Pkcs11Location
from keys.purpose import PurposeSigner, SigningKey
from keys.signers import KeySigner

__all__ = ["KEYRING_FILE", "KeyRing", "Revocation", "init_keys", "read_passphrase"]

KEYRING_FILE = "keyring.json"
TRUST_LIST_VALIDITY = 30 * 86400
SIGNING_PURPOSES = ("credential", "status")


def _system_clock() -> int:
    return int(time.time())


@dataclass(frozen=True)
class Revocation:
    reason: str
    at: int


class KeyRing:
    def __init__(self, *, root: KeySigner, root_certificate: x509.Certificate,
                 credential_signers: Sequence[SigningKey], status_signers: Sequence[SigningKey],
                 certificates: Mapping[str, x509.Certificate], authority_code: str, authority_name: str,
                 states: Mapping[str, str] | None = None, backends: Mapping[str, Pkcs11Location] | None = None,
                 revocations: Mapping[str, Revocation] | None = None,
                 clock: Callable[[], int] = _system_clock) -> None:
        if not credential_signers or not status_signers:
            raise KeyManagementError("a key ring needs at least one credential and one status signer")
        if not (len(authority_code) == 6 and authority_code.isascii() and authority_code.isdigit()) \
                or not authority_name:
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
        self.credential_signers: list[SigningKey] = list(credential_signers)
        self.status_signers: list[SigningKey] = list(status_signers)
        self.certificates = dict(certificates)
        self.authority_code = authority_code
        self.authority_name = authority_name
        self.states = {s.kid: (states or {}).get(s.kid, "active") for _, s in self.signers()}
        if not set(self.states.values()) <= STATES:
            raise KeyManagementError("unknown key state")
        self.backends = dict(backends or {})
        self.revocations = dict(revocations or {})
        self.clock = clock

    # --- which key signs -----------------------------------------------------------------------------
    def signers(self) -> list[tuple[str, SigningKey]]:
        """(purpose, key) of every credential and status key, newest first within each purpose."""
        return [("credential", s) for s in self.credential_signers] + [("status", s) for s in self.status_signers]

    def window(self, kid: str) -> tuple[int, int]:
        """(not_before, not_after) of a key: its certificate's validity."""
        cert = self.certificates.get(kid)
        if cert is None:
            raise KeyNotFoundError(kid)
        return int(cert.not_valid_before_utc.timestamp()), int(cert.not_valid_after_utc.timestamp())

    def purpose_of(self, kid: str) -> str:
        for purpose, signer in self.signers():
            if signer.kid == kid:
                return purpose
        raise KeyNotFoundError(kid)

    def signing_key(self, purpose: str, now: int) -> SigningKey:
        """The newest key of ``purpose`` that may sign at ``now`` (not revoked, inside its window)."""
        if purpose not in SIGNING_PURPOSES:
            raise ValueError(f"unknown signing purpose {purpose!r}")
        for signer in self.credential_signers if purpose == "credential" else self.status_signers:
            not_before, not_after = self.window(signer.kid)
            if self.states[signer.kid] != "revoked" and not_before <= now < not_after:
                return signer
        raise KeyManagementError(f"no {purpose} key may sign at {now}: rotate to a new key")

    def signer_for(self, purpose: str, now: int) -> PurposeSigner:
        signer = self.signing_key(purpose, now)
        return PurposeSigner(signer, purpose, not_after=self.window(signer.kid)[1])

    @property
    def credential_signer(self) -> PurposeSigner:
        return self.signer_for("credential", self.clock())

    @property
    def status_signer(self) -> PurposeSigner:
        return self.signer_for("status", self.clock())

    @property
    def root_signer(self) -> PurposeSigner:
        return PurposeSigner(self.root, "root", not_after=int(self.root_certificate.not_valid_after_utc.timestamp()))

    # --- construction and storage --------------------------------------------------------------------
    @classmethod
    def generate(cls, *, authority_code: str, authority_name: str, now: int, alg: str = "ES256",
                 clock: Callable[[], int] = _system_clock) -> KeyRing:
        """A fresh ring in memory: root + certificate, one credential and one status signer."""
        authority = Authority(authority_code, authority_name)
        root = KeySigner.generate(alg)
        root_cert = root_certificate(root.private_key, authority=authority, now=now)
        signers = {purpose: KeySigner.generate(alg) for purpose in SIGNING_PURPOSES}
        certificates = {
            signer.kid: signing_certificate(signer.public_key, purpose=purpose, root_key=root.private_key,
                                            root_cert=root_cert, authority=authority, now=now)
            for purpose, signer in signers.items()
        }
        return cls(root=root, root_certificate=root_cert, credential_signers=[signers["credential"]],
                   status_signers=[signers["status"]], certificates=certificates,
                   authority_code=authority_code, authority_name=authority_name, clock=clock)

    @classmethod
    def load(cls, directory: Path, passphrase: bytes, *, pkcs11_pin: str | None = None,
             clock: Callable[[], int] = _system_clock) -> KeyRing:
        """Open a key directory; KeyUnlockError on a wrong passphrase or PIN, KeyNotFoundError for a missing key.

        The PIN of PKCS#11 keys is ``pkcs11_pin``, else the environment variable EPERMIT_PKCS11_PIN.
        """
        from keys.keydir import load_keyring

        return load_keyring(directory, passphrase, pkcs11_pin=pkcs11_pin, clock=clock)

    def save(self, directory: Path, passphrase: bytes, *, scrypt_n: int = SCRYPT_N,
             overwrite: bool = False, update: bool = False) -> None:
        """Write every file key sealed under ``passphrase``; ``keyring.json`` last (keys/keydir.py)."""
        from keys.keydir import save_keyring

        save_keyring(self, directory, passphrase, scrypt_n=scrypt_n, overwrite=overwrite, update=update)

    # --- the trust list ------------------------------------------------------------------------------
    def trust_list(self, *, issuer: str, now: int, version: int, status_lists: Sequence[str],
                   aggregation_uri: str | None, validity: int = TRUST_LIST_VALIDITY) -> TrustList:
        """Every key whose certificate has not expired at ``now``, its certificate's validity as its window.

        A key past its certificate can verify nothing any more (it never signed an ``exp`` beyond it), so it
        drops out of the list by itself; ``keys prune`` then removes it from the ring.
        """
        keys = tuple(
            TrustedKey(
                kid=signer.kid,
                public_key=signer.public_key,
                purpose=purpose,
                state=self.states[signer.kid],
                not_before=self.window(signer.kid)[0],
                not_after=self.window(signer.kid)[1],
                types=CREDENTIAL_TYPES,
                authority_code=self.authority_code,
                authority_name=self.authority_name,
                certificate=self.certificates[signer.kid].public_bytes(Encoding.DER),
            )
            for purpose, signer in self.signers()
            if self.window(signer.kid)[1] >= now
        )
        return TrustList(issuer=issuer, version=version, iat=now, exp=now + validity, keys=keys,
                         status_lists=tuple(status_lists), aggregation_uri=aggregation_uri)

    def trust_list_token(self, *, issuer: str, now: int, version: int, status_lists: Sequence[str],
                         aggregation_uri: str | None, validity: int = TRUST_LIST_VALIDITY) -> str:
        trust = self.trust_list(issuer=issuer, now=now, version=version, status_lists=status_lists,
                                aggregation_uri=aggregation_uri, validity=validity)
        return sign_trust_list(trust, root_signer=self.root_signer)


def init_keys(directory: Path, passphrase: bytes, authority_code: str, authority_name: str, now: int, *,
              scrypt_n: int = SCRYPT_N, token: tuple[str, str, str] | None = None) -> KeyRing:
    """Create a new key directory (``epermit keys init``); refuses a directory that is not empty.

    ``token`` = (PKCS#11 library path, token label, PIN): the credential and status keys are then created
    inside the token (non-extractable); the root stays a sealed file, kept offline.
    """
    from keys.keydir import new_token_signer

    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise KeyManagementError(f"{directory} exists and is not empty; refusing to overwrite keys")
    ring = KeyRing.generate(authority_code=authority_code, authority_name=authority_name, now=now)
    if token is not None:
        authority = Authority(authority_code, authority_name)
        for purpose in SIGNING_PURPOSES:
            signer = new_token_signer(token, purpose)
            ring.certificates[signer.kid] = signing_certificate(
                signer.public_key, purpose=purpose, root_key=ring.root.private_key,
                root_cert=ring.root_certificate, authority=authority, now=now)
            ring.backends[signer.kid] = signer.location
            ring.states[signer.kid] = "active"
            file_signer = (ring.credential_signers if purpose == "credential" else ring.status_signers)[0]
            del ring.certificates[file_signer.kid], ring.states[file_signer.kid]
            (ring.credential_signers if purpose == "credential" else ring.status_signers)[:] = [signer]
    ring.save(directory, passphrase, scrypt_n=scrypt_n)
    return ring


def _check_pair(signer: SigningKey, cert: x509.Certificate) -> None:
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
