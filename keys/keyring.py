"""The key ring of one issuing authority: the root, its certificate, and the credential and status signers.

Purposes stay apart (keys/purpose.py): the root signs certificates and trust lists only; ``signer_for`` gives
PurposeSigner wrappers that refuse any other content, and refuse an ``exp`` past the key's certificate.

Rotation is an ordered list per purpose, newest first. Every listed key is published in the trust list (so
what it signed keeps verifying) until its certificate expires; the key that signs at ``now`` is the newest
*usable* one: not revoked, and inside its certificate's validity. A key rotated in with a lead time has a
certificate that starts in the future, so it is published before it signs its first credential.

A KeyRing is a value in memory: it reads no clock (every choice of key takes the caller's ``now``) and no
file. keys/keydir.py loads and saves it; its keys live in files sealed by keys/keystore.py or in a PKCS#11
token (keys/pkcs11_signer.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credential.eku import DEFAULT_EKU_ARC, check_eku_arc
from credential.errors import InvalidClaimError, UntrustedIssuerError
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
from keys.pkcs11_signer import Pkcs11Location
from keys.purpose import SIGNING_PURPOSES, Purpose, PurposeSigner, SigningKey, signing_purpose
from keys.signers import KeySigner

TRUST_LIST_VALIDITY = 30 * 86400
STORE_SECRET_SIZE = 32
PORTRAIT_KEY_SIZE = 32


@dataclass(frozen=True)
class Revocation:
    reason: str
    at: int


def eku_arc_setting(arc: str) -> str:
    """``arc`` if it can be the key ring's extendedKeyUsage arc (credential.eku); KeyManagementError if not."""
    try:
        return check_eku_arc(arc)
    except InvalidClaimError as exc:
        raise KeyManagementError(f"EKU arc {arc!r}: {exc.reason}") from exc


class KeyRing:
    """Root key and certificate, the signing keys of each purpose newest first, their certificates and
    states (active, retiring, revoked), where token keys live, why revoked keys were revoked, the
    store secret (32 random bytes: the issuer's HMAC key for what its store keeps of codes and tokens), and the
    extendedKeyUsage arc their certificates' purposes are named under (``eku_arc``, credential.eku)."""

    def __init__(self, *, root: KeySigner, root_certificate: x509.Certificate,
                 signers: Mapping[Purpose, Sequence[SigningKey]],
                 certificates: Mapping[str, x509.Certificate], authority_code: str, authority_name: str,
                 states: Mapping[str, str] | None = None, backends: Mapping[str, Pkcs11Location] | None = None,
                 revocations: Mapping[str, Revocation] | None = None, store_secret: bytes,
                 eku_arc: str = DEFAULT_EKU_ARC, portrait_key: bytes | None = None) -> None:
        if set(signers) != set(SIGNING_PURPOSES) or not all(signers.values()):
            raise KeyManagementError("a key ring needs at least one credential and one status signer")
        if not (len(authority_code) == 6 and authority_code.isascii() and authority_code.isdigit()) \
                or not authority_name:
            raise KeyManagementError("authority code must be six digits and the name non-empty")
        self.eku_arc = eku_arc_setting(eku_arc)
        _check_pair(root, root_certificate)
        for purpose in SIGNING_PURPOSES:
            for signer in signers[purpose]:
                cert = certificates.get(signer.kid)
                if cert is None:
                    raise KeyNotFoundError(signer.kid, "no certificate for key")
                _check_pair(signer, cert)
                _check_issued(cert, root, root_certificate, purpose, self.eku_arc)
        if len(store_secret) != STORE_SECRET_SIZE:
            raise KeyManagementError(f"the store secret must be {STORE_SECRET_SIZE} bytes")
        if portrait_key is not None and len(portrait_key) != PORTRAIT_KEY_SIZE:
            raise KeyManagementError(f"the portrait key must be {PORTRAIT_KEY_SIZE} bytes")
        self.root = root
        self.root_certificate = root_certificate
        # The HMAC key of everything the issuer's store keeps of a secret (pickup codes, PINs, tokens): it
        # lives with the keys, never in the store, so a copy of the store alone can test no code or PIN.
        self.store_secret = store_secret
        # The AES-256-GCM data key of the residents' portraits (biometric data) in the store: like the store
        # secret it lives with the keys, sealed, so that a copy of the store shows no face. None: a key
        # directory from before portraits (`epermit keys upgrade` adds one); the issuer then takes none.
        self.portrait_key = portrait_key
        self._signers: dict[Purpose, list[SigningKey]] = {purpose: list(signers[purpose])
                                                          for purpose in SIGNING_PURPOSES}
        self.certificates = dict(certificates)
        self.authority_code = authority_code
        self.authority_name = authority_name
        self.states = {s.kid: (states or {}).get(s.kid, "active") for _, s in self.signers()}
        if not set(self.states.values()) <= STATES:
            raise KeyManagementError("unknown key state")
        self.backends = dict(backends or {})
        self.revocations = dict(revocations or {})

    # --- which key signs -----------------------------------------------------------------------------
    def signers_of(self, purpose: Purpose) -> list[SigningKey]:
        """The keys of a signing purpose, newest first: the ring's own list, which keys/rotation.py edits."""
        return self._signers[signing_purpose(purpose)]

    def signers(self) -> list[tuple[Purpose, SigningKey]]:
        """(purpose, key) of every credential and status key, newest first within each purpose."""
        return [(purpose, signer) for purpose in SIGNING_PURPOSES for signer in self._signers[purpose]]

    def window(self, kid: str) -> tuple[int, int]:
        """(not_before, not_after) of a key: its certificate's validity."""
        cert = self.certificates.get(kid)
        if cert is None:
            raise KeyNotFoundError(kid)
        return int(cert.not_valid_before_utc.timestamp()), int(cert.not_valid_after_utc.timestamp())

    def purpose_of(self, kid: str) -> Purpose:
        for purpose, signer in self.signers():
            if signer.kid == kid:
                return purpose
        raise KeyNotFoundError(kid)

    def signing_key(self, purpose: Purpose, *, now: int) -> SigningKey:
        """The newest key of ``purpose`` that may sign at ``now`` (not revoked, inside its window)."""
        for signer in self.signers_of(purpose):
            not_before, not_after = self.window(signer.kid)
            if self.states[signer.kid] != "revoked" and not_before <= now < not_after:
                return signer
        raise KeyManagementError(f"no {purpose} key may sign at {now}: rotate to a new key")

    def signer_for(self, purpose: Purpose, *, now: int) -> PurposeSigner:
        """The key that signs ``purpose`` documents at ``now``, wrapped so that it signs nothing else."""
        signer = self.signing_key(purpose, now=now)
        return PurposeSigner(signer, purpose, not_after=self.window(signer.kid)[1])

    @property
    def root_signer(self) -> PurposeSigner:
        return PurposeSigner(self.root, Purpose.ROOT,
                             not_after=int(self.root_certificate.not_valid_after_utc.timestamp()))

    # --- construction --------------------------------------------------------------------------------
    @classmethod
    def generate(cls, *, authority_code: str, authority_name: str, now: int, alg: str = "ES256",
                 eku_arc: str = DEFAULT_EKU_ARC) -> KeyRing:
        """A fresh ring in memory: root + certificate, one credential and one status signer, their
        certificates naming their purposes under ``eku_arc``."""
        eku_arc = eku_arc_setting(eku_arc)
        authority = Authority(authority_code, authority_name)
        root = KeySigner.generate(alg)
        root_cert = root_certificate(root.private_key, authority=authority, now=now)
        signers = {purpose: KeySigner.generate(alg) for purpose in SIGNING_PURPOSES}
        certificates = {
            signer.kid: signing_certificate(signer.public_key, purpose=purpose, root_key=root.private_key,
                                            root_cert=root_cert, authority=authority, now=now, eku_arc=eku_arc)
            for purpose, signer in signers.items()
        }
        return cls(root=root, root_certificate=root_cert,
                   signers={purpose: [signer] for purpose, signer in signers.items()}, certificates=certificates,
                   authority_code=authority_code, authority_name=authority_name,
                   store_secret=secrets.token_bytes(STORE_SECRET_SIZE), eku_arc=eku_arc,
                   portrait_key=secrets.token_bytes(PORTRAIT_KEY_SIZE))

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
                purpose=purpose.value,
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
                         status_lists=tuple(status_lists), aggregation_uri=aggregation_uri, eku_arc=self.eku_arc)

    def trust_list_token(self, *, issuer: str, now: int, version: int, status_lists: Sequence[str],
                         aggregation_uri: str | None, validity: int = TRUST_LIST_VALIDITY) -> str:
        trust = self.trust_list(issuer=issuer, now=now, version=version, status_lists=status_lists,
                                aggregation_uri=aggregation_uri, validity=validity)
        return sign_trust_list(trust, root_signer=self.root_signer)


def _check_pair(signer: SigningKey, cert: x509.Certificate) -> None:
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if cert.public_key().public_bytes(*spki) != signer.public_key.public_bytes(*spki):
        raise KeyManagementError(f"certificate does not carry key {signer.kid}")


def _check_issued(cert: x509.Certificate, root: KeySigner, root_cert: x509.Certificate, purpose: Purpose,
                  eku_arc: str) -> None:
    kid = key_id(cert.public_key())  # type: ignore[arg-type]  # the pair check ran first: P-256 or Ed25519
    try:
        check_certificate_signature(cert, root.public_key)
    except InvalidSignature as exc:
        raise KeyManagementError(f"certificate of {kid} was not signed by this root") from exc
    try:
        named: str | None = certificate_purpose(cert, eku_arc)
    except UntrustedIssuerError:  # no purpose under this arc, or several
        named = None
    if cert.issuer != root_cert.subject or named != purpose:
        raise KeyManagementError(f"certificate of {kid} is not a root-issued {purpose} certificate "
                                 f"under EKU arc {eku_arc}")
