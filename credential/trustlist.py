"""The signed trust list: which keys may sign what, chained to the one root a verifier pins.

A JWT (``typ`` "trustlist+jwt") signed by the root key. The verifier pins the root key only, accepts the list
from any channel, keeps the highest version it has seen and refuses older ones (RollbackError).

``exp`` is exposed, not enforced: an expired trust list is still the best knowledge an offline verifier has,
and failing closed on it broke whole countries' verifiers (DCC outages, research/offline-qr.md). The
verifier's policy decides how old is too old and reports the age.

Each entry's ``x5c`` certificate is checked here (same key as the JWK, signed by the pinned root, CA false,
extendedKeyUsage naming the entry's purpose under the list's ``eku_arc``, credential.eku) and the entry's
window must lie inside the certificate's validity; ``key_for`` then judges that window at the time of use, so
one expired certificate disables its own key, not the whole list. A list without ``eku_arc`` means
credential.eku.DEFAULT_EKU_ARC.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credential.certificate import ECDSA_WITH_SHA256, ED25519, Certificate, read_certificate
from credential.eku import DEFAULT_EKU_ARC, check_eku_arc, purpose_dotted
from credential.errors import (
    InvalidClaimError,
    MalformedError,
    MissingClaimError,
    RollbackError,
    UntrustedIssuerError,
)
from credential.jose import Signer, int_claim, sign_compact, verify_compact
from credential.jwk import PublicKey, key_id, load_public_jwk, public_jwk

if TYPE_CHECKING:  # the object layer of cryptography.x509 is for callers that have it loaded (keys, wallet_api)
    from cryptography import x509

TRUST_LIST_TYP = "trustlist+jwt"
TRUST_LIST_ALGORITHMS = ("ES256", "EdDSA")
MAX_TRUST_LIST_SIZE = 1 << 20
MAX_KEYS = 1024
MAX_STATUS_LISTS = 4096
PURPOSES = frozenset({"credential", "status"})
STATES = frozenset({"active", "retiring", "revoked"})
CREDENTIAL_TYPES = frozenset({"residence_permit", "residence_registration"})
_AUTHORITY_CODE = re.compile(r"[0-9]{6}")

__all__ = [
    "CREDENTIAL_TYPES",
    "MAX_TRUST_LIST_SIZE",
    "PURPOSES",
    "STATES",
    "TRUST_LIST_TYP",
    "TrustList",
    "TrustedKey",
    "check_certificate_signature",
    "load_certificate",
    "sign_trust_list",
    "verify_trust_list",
]


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    public_key: PublicKey
    purpose: str                 # "credential" | "status"
    state: str                   # "active" | "retiring" (still verifies, no longer signs) | "revoked"
    not_before: int
    not_after: int
    types: frozenset[str]        # credential types this key may sign
    authority_code: str          # GB/T 2260 code of the issuing authority
    authority_name: str
    certificate: bytes | None    # DER of the X.509 certificate issued by the root, if published

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "kid": self.kid,
            "jwk": public_jwk(self.public_key),
            "purpose": self.purpose,
            "state": self.state,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "types": sorted(self.types),
            "authority": {"code": self.authority_code, "name": self.authority_name},
        }
        if self.certificate is not None:
            entry["x5c"] = [base64.b64encode(self.certificate).decode("ascii")]  # RFC 7517: standard base64
        return entry


@dataclass(frozen=True)
class TrustList:
    issuer: str
    version: int
    iat: int
    exp: int
    keys: tuple[TrustedKey, ...]
    status_lists: tuple[str, ...]
    aggregation_uri: str | None
    eku_arc: str = DEFAULT_EKU_ARC  # the arc of the purpose OIDs in the keys' certificates (credential.eku)

    def key_for(self, kid: str, *, purpose: str, now: int, credential_type: str | None = None) -> TrustedKey:
        """The key that may verify a ``purpose`` signature at ``now``; UntrustedIssuerError says why not."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}")
        key = next((k for k in self.keys if k.kid == kid), None)
        if key is None:
            raise UntrustedIssuerError(kid, "unknown key")
        if key.state == "revoked":
            raise UntrustedIssuerError(kid, "key revoked")
        if key.purpose != purpose:
            raise UntrustedIssuerError(kid, f"key signs {key.purpose}, not {purpose}")
        if credential_type is not None and credential_type not in key.types:
            raise UntrustedIssuerError(kid, f"key may not sign {credential_type}")
        if now < key.not_before:
            raise UntrustedIssuerError(kid, "key not yet valid")
        if now > key.not_after:
            raise UntrustedIssuerError(kid, "key past its validity window")
        return key

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "version": self.version,
            "iat": self.iat,
            "exp": self.exp,
            "keys": [key.to_json() for key in self.keys],
            "status_lists": list(self.status_lists),
            "eku_arc": self.eku_arc,
        }
        if self.aggregation_uri is not None:
            payload["aggregation_uri"] = self.aggregation_uri
        return payload


def sign_trust_list(trust: TrustList, *, root_signer: Signer) -> str:
    """Sign ``trust`` with the root; the ``kid`` in the header is the root's."""
    if type(trust.version) is not int or trust.version < 1:
        raise ValueError("trust list version must be an integer >= 1")
    return sign_compact({"typ": TRUST_LIST_TYP}, trust.to_json(), root_signer)


def verify_trust_list(token: str, *, root_key: PublicKey, now: int, min_version: int = 0,
                      require_certificates: bool = True) -> TrustList:
    """Check a trust list against the pinned root; versions below ``min_version`` raise RollbackError.

    Every key must carry its X.509 certificate (``x5c``) chained to the pinned root, unless
    ``require_certificates`` is False (tests of the JSON shape only). Nothing here depends on ``now`` (see
    the module docstring): time is judged by ``key_for`` and the policy.
    """
    root_kid = key_id(root_key)

    def resolve(kid: str) -> PublicKey:
        if kid != root_kid:
            raise UntrustedIssuerError(kid, "trust list not signed by the pinned root")
        return root_key

    payload = verify_compact(
        token,
        typ=TRUST_LIST_TYP,
        algorithms=TRUST_LIST_ALGORITHMS,
        resolve_key=resolve,
        max_size=MAX_TRUST_LIST_SIZE,
    ).payload
    for claim in ("iss", "version", "iat", "exp", "keys", "status_lists"):
        if claim not in payload:
            raise MissingClaimError(claim)
    version = int_claim(payload, "version")
    if version < 1:
        raise InvalidClaimError("version", "must be >= 1")
    if version < min_version:
        raise RollbackError("trust list version", held=min_version, offered=version)
    iat, exp = int_claim(payload, "iat"), int_claim(payload, "exp")
    if exp <= iat:
        raise InvalidClaimError("exp", "must be after iat")
    eku_arc = check_eku_arc(payload.get("eku_arc", DEFAULT_EKU_ARC))  # signed by the root, like every entry
    keys = _list(payload, "keys", MAX_KEYS)
    parsed = tuple(_parse_key(entry, root_key, require_certificates, eku_arc) for entry in keys)
    if len({key.kid for key in parsed}) != len(parsed):
        raise InvalidClaimError("keys", "duplicate kid")
    aggregation_uri = payload.get("aggregation_uri")
    if aggregation_uri is not None and not _is_text(aggregation_uri):
        raise InvalidClaimError("aggregation_uri", "must be a non-empty string")
    status_lists = _list(payload, "status_lists", MAX_STATUS_LISTS)
    if not all(_is_text(uri) for uri in status_lists):
        raise InvalidClaimError("status_lists", "must be non-empty strings")
    issuer = payload["iss"]
    if not _is_text(issuer):
        raise InvalidClaimError("iss", "must be a non-empty string")
    return TrustList(issuer, version, iat, exp, parsed, tuple(status_lists), aggregation_uri, eku_arc)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _list(obj: dict[str, Any], name: str, limit: int) -> list[Any]:
    value = obj.get(name)
    if not isinstance(value, list):
        raise InvalidClaimError(name, "must be an array")
    if len(value) > limit:
        raise InvalidClaimError(name, f"more than {limit} entries")
    return value


def _text(entry: dict[str, Any], name: str) -> str:
    value = entry.get(name)
    if not _is_text(value):
        raise InvalidClaimError(f"keys.{name}", "must be a non-empty string")
    assert isinstance(value, str)
    return value


def _parse_key(entry: Any, root_key: PublicKey, require_certificate: bool, eku_arc: str) -> TrustedKey:
    if not isinstance(entry, dict):
        raise InvalidClaimError("keys", "entries must be objects")
    public_key = load_public_jwk(entry.get("jwk"))
    kid = _text(entry, "kid")
    if kid != key_id(public_key):
        raise MalformedError(f"kid {kid!r} is not the thumbprint of its jwk")
    if kid == key_id(root_key):  # the root signs certificates and trust lists, nothing a holder carries
        raise InvalidClaimError("keys.kid", "the root key cannot be listed as a signing key")
    purpose, state = _text(entry, "purpose"), _text(entry, "state")
    if purpose not in PURPOSES:
        raise InvalidClaimError("keys.purpose", f"unknown purpose {purpose!r}")
    if state not in STATES:
        raise InvalidClaimError("keys.state", f"unknown state {state!r}")
    types = _list(entry, "types", len(CREDENTIAL_TYPES))
    if not types or not all(isinstance(t, str) and t in CREDENTIAL_TYPES for t in types):
        raise InvalidClaimError("keys.types", "must name known credential types")
    for name in ("not_before", "not_after"):
        if name not in entry:
            raise MissingClaimError(f"keys.{name}")
    not_before, not_after = int_claim(entry, "not_before"), int_claim(entry, "not_after")
    if not_after < not_before:
        raise InvalidClaimError("keys.not_after", "before not_before")
    authority = entry.get("authority")
    if not isinstance(authority, dict):
        raise InvalidClaimError("keys.authority", "must be an object")
    code, name = _text(authority, "code"), _text(authority, "name")
    if not _AUTHORITY_CODE.fullmatch(code):
        raise InvalidClaimError("keys.authority.code", "must be a six-digit GB/T 2260 code")
    certificate = _certificate(entry, kid)
    if certificate is None and require_certificate:
        raise UntrustedIssuerError(kid, "no X.509 certificate (x5c) chained to the root")
    if certificate is not None:
        cert = read_certificate(certificate)
        _check_certificate(cert, kid, public_key, root_key, purpose, eku_arc)
        if not_before < cert.not_before or not_after > cert.not_after:
            raise InvalidClaimError("keys.not_after", f"kid {kid!r}: window exceeds its certificate validity")
    return TrustedKey(kid, public_key, purpose, state, not_before, not_after, frozenset(types), code, name,
                      certificate)


def _certificate(entry: dict[str, Any], kid: str) -> bytes | None:
    if "x5c" not in entry:
        return None
    chain = _list(entry, "x5c", 1)  # the leaf only: its issuer is the pinned root itself
    if len(chain) != 1 or not isinstance(chain[0], str):
        raise InvalidClaimError("keys.x5c", "must hold exactly one certificate")
    try:
        der = base64.b64decode(chain[0], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidClaimError("keys.x5c", f"invalid base64 (kid {kid!r})") from exc
    if base64.b64encode(der).decode("ascii") != chain[0]:
        raise InvalidClaimError("keys.x5c", "non-canonical base64")
    return der


def load_certificate(der: bytes) -> x509.Certificate:
    from cryptography import x509  # callers that want the certificate object; a trust list check does not

    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise MalformedError("invalid X.509 certificate") from exc


def check_certificate_signature(cert: x509.Certificate | Certificate, issuer_key: PublicKey) -> None:
    """Check that ``issuer_key`` signed ``cert`` (ECDSA-SHA256 or Ed25519); InvalidSignature otherwise."""
    if isinstance(cert, Certificate):
        oid, signature, tbs = cert.signature_algorithm, cert.signature, cert.tbs
    else:
        oid, signature, tbs = cert.signature_algorithm_oid.dotted_string, cert.signature, cert.tbs_certificate_bytes
    if isinstance(issuer_key, ed25519.Ed25519PublicKey) and oid == ED25519:
        issuer_key.verify(signature, tbs)
    elif isinstance(issuer_key, ec.EllipticCurvePublicKey) and oid == ECDSA_WITH_SHA256:
        issuer_key.verify(signature, tbs, ec.ECDSA(hashes.SHA256()))
    else:
        raise InvalidSignature("signature algorithm does not match the issuer key")


def _check_certificate(cert: Certificate, kid: str, public_key: PublicKey, root_key: PublicKey,
                       purpose: str, eku_arc: str) -> None:
    """The X.509 chain of one entry: same key as the JWK, issued by the pinned root, for this purpose (its OID
    under the trust list's ``eku_arc``). read_certificate has refused keys other than P-256 and Ed25519."""
    if cert.public_key != public_key:
        raise MalformedError(f"certificate of kid {kid!r} carries another key")
    try:
        check_certificate_signature(cert, root_key)
    except InvalidSignature as exc:
        raise UntrustedIssuerError(kid, "certificate not issued by the pinned root") from exc
    usages, ca, digital_signature = cert.extended_key_usages(), cert.is_ca(), cert.allows_digital_signature()
    if usages is None or ca is None or digital_signature is None:
        raise UntrustedIssuerError(kid, "certificate lacks extendedKeyUsage, basicConstraints or keyUsage")
    if ca:
        raise UntrustedIssuerError(kid, "a CA certificate cannot sign credentials")
    if not digital_signature:
        raise UntrustedIssuerError(kid, "certificate keyUsage does not allow digitalSignature")
    if purpose_dotted(eku_arc, purpose) not in usages:
        raise UntrustedIssuerError(kid, f"certificate does not allow {purpose} signing (EKU arc {eku_arc})")
