"""Compact JWS, strict: the verifier pins algorithm, type and key; the token chooses none of them.

PyJWT checks neither ``typ`` nor duplicate keys and has no size limit (DESIGN §9), so parsing and the
header policy live here; signatures are checked with cryptography directly, over the exact bytes received.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from credential.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from credential.errors import (
    BadSignatureError,
    ExpiredError,
    ForbiddenHeaderError,
    InvalidClaimError,
    MalformedError,
    MissingClaimError,
    NotYetValidError,
    TooLargeError,
    UnsupportedAlgorithmError,
    WrongTypeError,
)
from credential.jwk import PublicKey, key_id

if TYPE_CHECKING:  # an issuer signing with a chain has cryptography.x509 loaded; a verifier never needs it
    from cryptography import x509

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
DEFAULT_SKEW = 300
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())  # immutable; built once instead of per verification
# Headers that would let a token pick its own key or extend the rules; never honoured.
_KEY_SOURCE_HEADERS = ("jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256")
_KNOWN_HEADERS = frozenset({"alg", "typ", "kid", "cty", "crit", *_KEY_SOURCE_HEADERS})
MAX_X5C = 8  # certificates in one x5c chain: a leaf and a few intermediates, never a bundle


class Signer(Protocol):
    """Something that signs with a private key it may never reveal (a file key, an HSM)."""

    @property
    def kid(self) -> str: ...

    @property
    def alg(self) -> str: ...

    def sign(self, data: bytes) -> bytes:
        """Return the raw signature: r||s (64 bytes) for ES256, 64 bytes for EdDSA."""
        ...


@dataclass(frozen=True, slots=True)
class JWS:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def sign_compact(header: dict[str, Any], payload: dict[str, Any], signer: Signer, *, with_kid: bool = True) -> str:
    """A compact JWS whose header is alg, the signer's kid (unless ``with_kid`` is False), then ``header``.

    ``with_kid=False`` is for a JWS whose verification key is already fixed by context (a KB-JWT: the cnf
    key of the credential it follows), where a kid would only be one more thing for a peer to match."""
    full_header = {"alg": signer.alg, **({"kid": signer.kid} if with_kid else {}), **header}
    signing_input = (b64url_encode(json_dumps(full_header)) + "." + b64url_encode(json_dumps(payload))).encode("ascii")
    return signing_input.decode("ascii") + "." + b64url_encode(signer.sign(signing_input))


# Concrete classes known to subclass EllipticCurvePublicKey: isinstance against that ABC runs Python code
# (abc.__instancecheck__) on every signature; a class is added only once issubclass has said yes.
_EC_PUBLIC_TYPES: set[type] = set()


def is_ec_public_key(key: object) -> TypeGuard[ec.EllipticCurvePublicKey]:
    """Exactly isinstance(key, ec.EllipticCurvePublicKey), cheaper for the classes already seen."""
    kind = type(key)
    if kind in _EC_PUBLIC_TYPES:
        return True
    if issubclass(kind, ec.EllipticCurvePublicKey):
        _EC_PUBLIC_TYPES.add(kind)
        return True
    return isinstance(key, ec.EllipticCurvePublicKey)


def verify_signature(alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> None:
    """Check a raw JWS/COSE signature with the algorithm the verifier pinned, not the one the token names."""
    try:
        if alg == "ES256":
            if not is_ec_public_key(key) or not isinstance(key.curve, ec.SECP256R1):
                raise BadSignatureError("ES256 needs a P-256 key")
            if len(signature) != 64:
                raise BadSignatureError("ES256 signature must be 64 bytes")
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            if not (0 < r < P256_ORDER and 0 < s < P256_ORDER):  # r = s = 0: the "psychic signature"
                raise BadSignatureError("ES256 signature out of range")
            key.verify(encode_dss_signature(r, s), signing_input, _ECDSA_SHA256)
        elif alg == "EdDSA":
            if not isinstance(key, ed25519.Ed25519PublicKey):
                raise BadSignatureError("EdDSA needs an Ed25519 key")
            key.verify(signature, signing_input)
        else:
            raise UnsupportedAlgorithmError(alg)
    except InvalidSignature as exc:
        raise BadSignatureError() from exc


@dataclass(frozen=True, slots=True)
class CompactParts:
    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes


def _split(token: str, max_size: int) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    if not isinstance(token, str):
        raise MalformedError("token must be text")
    if len(token) > max_size:
        raise TooLargeError("token", max_size)
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedError("a compact JWS has three parts")
    encoded_header, encoded_payload, encoded_signature = parts
    header = json_loads(b64url_decode(encoded_header), max_size=max_size)
    if not isinstance(header, dict):
        raise MalformedError("JWS header must be a JSON object")
    payload = b64url_decode(encoded_payload)
    # The signed bytes are the token up to its second dot, which b64url_decode has just shown to be ASCII.
    signing_input = token[: len(encoded_header) + 1 + len(encoded_payload)].encode("ascii")
    return header, payload, signing_input, b64url_decode(encoded_signature)


def split_compact(token: str, *, max_size: int) -> CompactParts:
    """Split a compact JWS and decode its header, trusting nothing in it; the payload stays bytes."""
    return CompactParts(*_split(token, max_size))


def parse_compact(token: str, *, max_size: int) -> JWS:
    """A compact JWS whose payload is a JSON object (every token epermit reads)."""
    header, encoded, signing_input, signature = _split(token, max_size)
    payload = json_loads(encoded, max_size=max_size)
    if not isinstance(payload, dict):
        raise MalformedError("JWS payload must be a JSON object")
    return JWS(header, payload, signing_input, signature)


def x5c_header(chain: Sequence[x509.Certificate], *, kid: str) -> list[str]:
    """The ``x5c`` value (RFC 7515 §4.1.6) for a JWS signed by key ``kid``: standard base64 DER, the signing
    key's certificate first, then the one that issued it, and so on.

    HAIP 1.0 §6.1.1 (and §6.1 for status list tokens): the trust anchor's certificate is not included and
    the signing certificate is not self-signed, so no certificate in the chain may be self-issued; each one
    must be issued by the next. A chain that breaks these rules raises ValueError: it is the issuer's bug.
    """
    if not 1 <= len(chain) <= MAX_X5C:
        raise ValueError(f"an x5c chain holds 1..{MAX_X5C} certificates")
    leaf_key = chain[0].public_key()
    if not isinstance(leaf_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) or key_id(leaf_key) != kid:
        raise ValueError(f"the first certificate does not carry the signing key {kid}")
    for cert, issuer in zip(chain, [*chain[1:], None], strict=True):
        if cert.issuer == cert.subject:
            raise ValueError("x5c must not include a self-signed (trust anchor) certificate")
        if issuer is not None and cert.issuer != issuer.subject:
            raise ValueError("each x5c certificate must be issued by the next")
    from cryptography.hazmat.primitives.serialization import Encoding

    return [base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii") for cert in chain]


def _check_x5c(value: object) -> None:
    """The shape RFC 7515 §4.1.6 gives x5c: a non-empty array of standard-base64 strings, canonical."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_X5C:
        raise MalformedError(f"x5c must be an array of 1..{MAX_X5C} certificates")
    for entry in value:
        if not isinstance(entry, str) or not entry:
            raise MalformedError("x5c entries must be non-empty strings")
        try:
            der = base64.b64decode(entry, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedError("x5c entry is not standard base64") from exc
        if base64.b64encode(der).decode("ascii") != entry:
            raise MalformedError("x5c entry is not canonical base64")


def check_header(
    header: dict[str, Any],
    *,
    typ: str | tuple[str, ...],
    algorithms: tuple[str, ...],
    allow_jwk: bool = False,
    allow_x5c: bool = False,
) -> None:
    """Type, algorithm and key-source policy of a JWS header.

    ``allow_x5c``: an ``x5c`` chain is tolerated (shape-checked) for peers that resolve keys by X.509, but
    nothing here reads it: the caller still takes the key by ``kid`` from its own trusted keys only.
    """
    accepted = (typ,) if isinstance(typ, str) else typ
    if header.get("typ") not in accepted:
        raise WrongTypeError(typ, header.get("typ"))
    alg = header.get("alg")
    if alg not in algorithms:
        raise UnsupportedAlgorithmError(alg)
    for name in _KEY_SOURCE_HEADERS:
        if name in header and not (allow_jwk and name == "jwk") and not (allow_x5c and name == "x5c"):
            raise ForbiddenHeaderError(name)
    if "x5c" in header:
        _check_x5c(header["x5c"])
    if "crit" in header:  # we understand no extension, so any critical one must be refused (RFC 7515 §4.1.11)
        raise ForbiddenHeaderError("crit")


def verify_compact(
    token: str,
    *,
    typ: str | tuple[str, ...],
    algorithms: tuple[str, ...],
    resolve_key: Callable[[str], PublicKey],
    max_size: int,
    allow_x5c: bool = False,
) -> JWS:
    """Parse, apply the header policy, find the key by ``kid`` among trusted keys only, verify.

    ``allow_x5c`` tolerates an x5c chain in the header (see check_header); it never chooses the key."""
    jws = parse_compact(token, max_size=max_size)
    check_header(jws.header, typ=typ, algorithms=algorithms, allow_x5c=allow_x5c)
    kid = jws.header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedError("header lacks a kid")
    key = resolve_key(kid)
    verify_signature(jws.header["alg"], key, jws.signing_input, jws.signature)
    return jws


def int_claim(payload: dict[str, Any], name: str) -> int:
    value = payload[name]
    # bool is an int in Python and PyJWT accepts "123": neither is a NumericDate here.
    if type(value) is not int:
        raise InvalidClaimError(name, "must be an integer NumericDate")
    return value


def check_time_claims(
    payload: dict[str, Any], *, now: int, skew: int = DEFAULT_SKEW, require: tuple[str, ...] = ("iat", "exp")
) -> None:
    """Judge iat/nbf/exp at ``now`` with at most ``skew`` seconds of tolerance."""
    for name in require:
        if name not in payload:
            raise MissingClaimError(name)
    if "exp" in payload:
        exp = int_claim(payload, "exp")
        if now - skew >= exp:
            raise ExpiredError(exp)
    if "nbf" in payload:
        nbf = int_claim(payload, "nbf")
        if nbf > now + skew:
            raise NotYetValidError(nbf)
    if "iat" in payload:
        iat = int_claim(payload, "iat")
        if iat > now + skew:
            raise NotYetValidError(iat)
