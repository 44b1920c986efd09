"""A minimal, strict COSE_Sign1 (RFC 9052) built on cbor2, verified with credential.jose.

pycose cannot decode COSE with cbor2 6.x (DESIGN §9), and we need only one structure, so the
Sig_structure is built here and the signature is checked with cryptography via jose.verify_signature.
The verifier pins algorithm, type and key: the message names none of them on its own authority, and
the unprotected header, which nothing signs, must be empty.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credential.errors import (
    ForbiddenHeaderError,
    MalformedError,
    TooLargeError,
    UnsupportedAlgorithmError,
    WrongTypeError,
)
from credential.jose import Signer, verify_signature
from credential.jwk import PublicKey, p256_point

COSE_SIGN1_TAG = 18
HEADER_ALG, HEADER_CRIT, HEADER_KID, HEADER_TYP = 1, 2, 4, 16
ALGORITHMS = {"ES256": -7, "EdDSA": -8}
_ALG_NAMES = {value: name for name, value in ALGORITHMS.items()}
# x5bag, x5chain, x5t, x5u, kcwt, kccs, c5*: headers that would let a message bring its own key.
_KEY_SOURCE_HEADERS = frozenset({32, 33, 34, 35, 13, 14, 22, 23, 24, 25})
_PROTECTED_LABELS = frozenset({HEADER_ALG, HEADER_KID, HEADER_TYP})
DEFAULT_MAX_DEPTH = 8


def _reject_tag(value: object, immutable: bool) -> object:
    raise MalformedError("CBOR semantic tags are not accepted")


# Tags cbor2 would turn into Python objects (datetimes, regexes, MIME messages, shared references...):
# none belongs in our formats, and some are costly or cyclic, so they are refused while decoding.
_SEMANTIC_TAGS = (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261, 1004, 55799)
_NO_SEMANTICS = {tag: _reject_tag for tag in _SEMANTIC_TAGS}


# Exact types cbor2 decodes plain items to; anything else (a subclass, a float, an undefined) takes
# the general path of _check_other, which judges it exactly as before.
_PLAIN_SCALARS = frozenset({int, bytes, str, bool, type(None)})
_FROZENDICT = cbor2.frozendict  # a map inside a tag decodes immutable (a Mapping)
_MAP_TYPES = (dict, _FROZENDICT)


def _check_plain(item: Any, depth: int) -> None:
    if depth < 0:
        raise MalformedError("CBOR nested too deeply")
    kind = type(item)
    if kind in _PLAIN_SCALARS:
        return
    child = depth - 1
    if kind is list or kind is tuple:
        for element in item:
            # A scalar child needs no call of its own, unless the call would report the depth.
            if child < 0 or type(element) not in _PLAIN_SCALARS:
                _check_plain(element, child)
    elif kind is dict or kind is _FROZENDICT:
        for key, value in item.items():
            key_kind = type(key)
            if key_kind is not int and key_kind is not str and (
                isinstance(key, bool) or not isinstance(key, int | str)
            ):
                raise MalformedError("CBOR map keys must be integers or text")
            if child < 0 or type(value) not in _PLAIN_SCALARS:
                _check_plain(value, child)
    elif kind is cbor2.CBORTag and item.tag == COSE_SIGN1_TAG:
        _check_plain(item.value, child)
    else:
        _check_other(item, depth)


def _check_other(item: object, depth: int) -> None:
    if isinstance(item, bool) or item is None or isinstance(item, int | bytes | str):
        return
    if isinstance(item, list | tuple):
        for element in item:
            _check_plain(element, depth - 1)
    elif isinstance(item, Mapping):
        for key, value in item.items():
            if isinstance(key, bool) or not isinstance(key, int | str):
                raise MalformedError("CBOR map keys must be integers or text")
            _check_plain(value, depth - 1)
    elif isinstance(item, cbor2.CBORTag) and item.tag == COSE_SIGN1_TAG:
        _check_plain(item.value, depth - 1)
    else:
        raise MalformedError(f"CBOR item of type {type(item).__name__} is not accepted")


def _decode(data: bytes, *, max_size: int, max_depth: int) -> Any:
    """The first half of cbor_loads: the size cap and cbor2's own refusals (indefinite lengths, duplicate
    keys, semantic tags, depth); the item still has to pass _check_plain and _require_preferred."""
    if not isinstance(data, bytes):
        raise MalformedError("CBOR input must be bytes")
    if len(data) > max_size:
        raise TooLargeError("CBOR", max_size)
    try:
        return cbor2.loads(
            data,
            semantic_decoders=_NO_SEMANTICS,
            max_depth=max_depth,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        )
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
        raise MalformedError(f"invalid CBOR: {exc}") from exc


def _require_preferred(item: Any, data: bytes) -> None:
    """Preferred serialisation only: re-encoding a plain item must give the same bytes (which also rules out
    trailing data). Only for an item _check_plain (or an exact shape check) has passed."""
    try:
        canonical = cbor2.dumps(item)
    except (cbor2.CBORError, ValueError, TypeError) as exc:  # pragma: no cover - plain types always encode
        raise MalformedError("CBOR cannot be re-encoded") from exc
    if canonical != data:
        raise MalformedError("CBOR is not in preferred serialisation, or has trailing bytes")


def cbor_loads(data: bytes, *, max_size: int, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode untrusted CBOR: size cap first; definite lengths, unique keys, plain types, preferred
    serialisation only (re-encoding must give the same bytes, which also rules out trailing data)."""
    item = _decode(data, max_size=max_size, max_depth=max_depth)
    _check_plain(item, max_depth)
    _require_preferred(item, data)
    return item


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The bytes a COSE_Sign1 signature covers (RFC 9052 §4.4)."""
    return cbor2.dumps(["Signature1", protected, external_aad, payload])


@dataclass(frozen=True)
class Sign1:
    protected: dict[int, Any]  # the decoded protected header
    protected_bytes: bytes  # exactly as signed
    payload: bytes
    signature: bytes

    def to_item(self, *, tag: bool = True) -> Any:
        body = [self.protected_bytes, {}, self.payload, self.signature]
        return cbor2.CBORTag(COSE_SIGN1_TAG, body) if tag else body

    def encode(self, *, tag: bool = True) -> bytes:
        return bytes(cbor2.dumps(self.to_item(tag=tag)))

    @property
    def kid(self) -> bytes | None:
        kid = self.protected.get(HEADER_KID)
        return kid if isinstance(kid, bytes) else None


def encoded_length(message: Sign1) -> int:
    """len(message.encode()) when its unprotected header is empty (as parse_sign1 requires), without encoding:
    tag 18, the array of 4 and the empty map take a byte each."""
    return _bytes_length(message.protected_bytes) + _bytes_length(message.payload) + _bytes_length(message.signature) + 3


def sign1(
    payload: bytes,
    *,
    signer: Signer,
    typ: int | str,
    kid: bytes | None = None,
    external_aad: bytes = b"",
) -> Sign1:
    """Sign ``payload`` with the algorithm the signer's key implies; alg, kid and typ are protected.

    alg is always named: RFC 9052 §3.1 lets a context imply it, but COSE libraries verify with the
    algorithm the message states and refuse a message without one."""
    if signer.alg not in ALGORITHMS:
        raise MalformedError(f"signer algorithm {signer.alg!r} has no COSE mapping here")
    protected: dict[int, Any] = {HEADER_ALG: ALGORITHMS[signer.alg]}
    if kid is not None:
        protected[HEADER_KID] = kid
    protected[HEADER_TYP] = typ
    protected_bytes = cbor2.dumps(protected)
    signature = signer.sign(sig_structure(protected_bytes, payload, external_aad))
    return Sign1(protected, protected_bytes, payload, signature)


def _is_map(value: object) -> TypeGuard[Mapping[Any, Any]]:
    """isinstance(value, Mapping), with the exact type cbor2 decodes maps to checked first (an ABC check
    costs a Python-level call)."""
    return type(value) in _MAP_TYPES or isinstance(value, Mapping)


def _sign1_item_length(item: object) -> int | None:
    """For a tag-18 item holding exactly [bstr, empty map, bstr, bstr] of cbor2's exact types (inside a tag,
    an array decodes as a tuple and a map as a frozendict), the length of its preferred encoding; else None.

    Such an item is plain (_check_plain would pass it without a word), and its length is a sum: tag 18, the
    array of 4 and the empty map take a byte each, each byte string its head and its bytes."""
    if type(item) is not cbor2.CBORTag or item.tag != COSE_SIGN1_TAG:
        return None
    body = item.value
    if not ((type(body) is tuple or type(body) is list) and len(body) == 4):
        return None
    protected, unprotected, payload, signature = body
    if not (type(protected) is bytes and type(unprotected) in _MAP_TYPES and not unprotected
            and type(payload) is bytes and type(signature) is bytes):
        return None
    return _bytes_length(protected) + _bytes_length(payload) + _bytes_length(signature) + 3


def _bytes_length(value: bytes) -> int:
    return _head_length(len(value)) + len(value)


def _head_length(argument: int) -> int:
    """Bytes of a CBOR head with this argument (a length, a tag) in preferred serialisation (RFC 8949 §4.2.1)."""
    return 1 if argument < 24 else 2 if argument < 0x100 else 3 if argument < 0x10000 else 5 if argument < 2**32 else 9


def _sign1s_length(item: object) -> int | None:
    """The preferred encoding's length of one COSE_Sign1 item (_sign1_item_length) or of an array of them."""
    if type(item) is not list:
        return _sign1_item_length(item)
    total = _head_length(len(item))
    for part in item:
        length = _sign1_item_length(part)
        if length is None:
            return None
        total += length
    return total


def cbor_loads_sign1s(data: bytes, *, max_size: int) -> Any:
    """cbor_loads (default depth) for bytes that hold COSE_Sign1 messages: one tagged message, or an array
    of them (a live pass). The same item and the same refusals as cbor_loads, whatever the bytes.

    The usual shape needs neither the walk of _check_plain nor a re-encoding: every definite-length encoding
    of an item is its preferred one plus the bytes that any longer head (or trailing data) adds, so the
    bytes are the preferred encoding exactly when they are as long as it is (_sign1s_length)."""
    item = _decode(data, max_size=max_size, max_depth=DEFAULT_MAX_DEPTH)
    expected = _sign1s_length(item)
    if expected is None:
        _check_plain(item, DEFAULT_MAX_DEPTH)
        _require_preferred(item, data)
    elif len(data) != expected:
        raise MalformedError("CBOR is not in preferred serialisation, or has trailing bytes")
    return item


def _check_protected(header: object) -> dict[int, Any]:
    if not _is_map(header):
        raise MalformedError("COSE protected header must be a map")
    for label in header:
        if label == HEADER_CRIT:  # we understand no extension, so a critical one must be refused
            raise ForbiddenHeaderError("crit")
        if label in _KEY_SOURCE_HEADERS:
            raise ForbiddenHeaderError(str(label))
        if label not in _PROTECTED_LABELS:
            raise MalformedError(f"unknown COSE header label {label!r}")
    kid = header.get(HEADER_KID)
    if kid is not None and not isinstance(kid, bytes):
        raise MalformedError("COSE kid must be a byte string")
    return dict(header)


def parse_sign1(item: object, *, require_tag: bool, max_size: int) -> Sign1:
    """Read the shape of a decoded COSE_Sign1 item; nothing is trusted yet."""
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            raise MalformedError(f"unexpected CBOR tag {item.tag}")
        item = item.value
    elif require_tag:
        raise MalformedError("COSE_Sign1 tag 18 is required")
    if not isinstance(item, list | tuple) or len(item) != 4:
        raise MalformedError("COSE_Sign1 must be an array of 4 items")
    protected_bytes, unprotected, payload, signature = item
    if not isinstance(protected_bytes, bytes) or not isinstance(payload, bytes):
        raise MalformedError("COSE protected header and payload must be byte strings")
    if not isinstance(signature, bytes):
        raise MalformedError("COSE signature must be a byte string")
    if not _is_map(unprotected):
        raise MalformedError("COSE unprotected header must be a map")
    if unprotected:  # unsigned: whatever it says (alg, kid, x5chain...) could be swapped by anyone
        raise ForbiddenHeaderError("unprotected header")
    return Sign1(_protected_header(protected_bytes, max_size), protected_bytes, payload, signature)


@functools.lru_cache(maxsize=64)
def _checked_protected(protected_bytes: bytes, max_size: int) -> dict[int, Any]:
    return _check_protected(cbor_loads(protected_bytes, max_size=max_size, max_depth=2))


def _protected_header(protected_bytes: bytes, max_size: int) -> dict[int, Any]:
    """The checked protected header of these bytes. One signing key puts the same header (alg, kid, typ) on
    every message, and every holder's proof has the same one: decoded and checked once per distinct header
    (a header that fails raises, and is never cached). A copy: the caller's dict is its own."""
    return dict(_checked_protected(protected_bytes, max_size))


def decode_sign1(data: bytes, *, require_tag: bool = True, max_size: int) -> Sign1:
    return parse_sign1(cbor_loads_sign1s(data, max_size=max_size), require_tag=require_tag, max_size=max_size)


def header_algorithm(message: Sign1, algorithms: tuple[str, ...]) -> str:
    """The JOSE name of the message's protected alg, if the verifier allows it; a message without alg is refused."""
    value = message.protected.get(HEADER_ALG)
    name = _ALG_NAMES.get(value) if type(value) is int else None
    if name is None or name not in algorithms:
        raise UnsupportedAlgorithmError(value)
    return name


def verify_sign1(
    message: Sign1,
    key: PublicKey,
    *,
    typ: int | str,
    algorithms: tuple[str, ...],
    external_aad: bytes = b"",
) -> None:
    """Check type (a CoAP content format number or a media type text, exactly), algorithm allow-list and
    signature; raise on any failure."""
    actual = message.protected.get(HEADER_TYP)
    if type(actual) is not type(typ) or actual != typ:  # type(): True is no 1, and "1" no 1
        raise WrongTypeError(str(typ), actual)
    alg = header_algorithm(message, algorithms)
    verify_signature(alg, key, sig_structure(message.protected_bytes, message.payload, external_aad),
                     message.signature)


# COSE_Key (RFC 9052 §7, RFC 9053 §7): kty 2 = EC2 (crv 1 = P-256), kty 1 = OKP (crv 6 = Ed25519).
_KTY, _CRV, _X, _Y = 1, -1, -2, -3
_EC2, _OKP, _P256, _ED25519 = 2, 1, 1, 6
_EC2_LABELS, _OKP_LABELS = frozenset({_KTY, _CRV, _X, _Y}), frozenset({_KTY, _CRV, _X})


def cose_key(key: PublicKey) -> dict[int, Any]:
    """A public COSE_Key: EC2 P-256 with both coordinates (RFC 9053 §7.1.1), or OKP Ed25519 (§7.2).

    Not the compressed form (y as a sign bit), which RFC 9053 allows: python-cwt refuses it and pycose
    mishandles it, and 33 bytes of a QR are worth a holder key every COSE library reads."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        return {_KTY: _OKP, _CRV: _ED25519, _X: key.public_bytes(Encoding.Raw, PublicFormat.Raw)}
    if not isinstance(key.curve, ec.SECP256R1):
        raise MalformedError("only P-256 EC keys are supported")
    # SEC 1 uncompressed point: 0x04, x, y; one call instead of public_numbers().
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return {_KTY: _EC2, _CRV: _P256, _X: point[1:33], _Y: point[33:]}


def load_cose_key(obj: object) -> PublicKey:
    """Read a public COSE_Key: EC2 P-256 with x and y, or OKP Ed25519; anything else is malformed.

    A compressed EC2 key (y as a sign bit) is refused: we never send one (see cose_key), and one holder key
    has one encoding, as one permit does; a verifier accepting it would accept passes peers cannot read."""
    if not _is_map(obj):
        raise MalformedError("COSE_Key must be a map")
    kty, crv, x, y = obj.get(_KTY), obj.get(_CRV), obj.get(_X), obj.get(_Y)
    if type(kty) is not int or type(crv) is not int:  # True == 1 in Python: not a key type
        raise MalformedError("COSE_Key kty and crv must be integers")
    if not isinstance(x, bytes) or len(x) != 32:
        raise MalformedError("COSE_Key x must be 32 bytes")
    try:
        if kty == _EC2 and crv == _P256 and obj.keys() == _EC2_LABELS:
            if not isinstance(y, bytes) or len(y) != 32:
                raise MalformedError("COSE_Key y must be 32 bytes (the compressed form is not accepted)")
            return p256_point(b"\x04" + x + y)  # parsed once per distinct point
        if kty == _OKP and crv == _ED25519 and obj.keys() == _OKP_LABELS:
            return ed25519.Ed25519PublicKey.from_public_bytes(x)
    except ValueError as exc:  # not a point on the curve
        raise MalformedError("COSE_Key is not a valid public key") from exc
    raise MalformedError("COSE_Key must be an EC2 P-256 or OKP Ed25519 public key")


def algorithm_for_key(key: PublicKey) -> str:
    """The one algorithm a holder key may sign with: the verifier pins it from the key, not the message."""
    return "EdDSA" if isinstance(key, ed25519.Ed25519PublicKey) else "ES256"
