"""IETF Token Status List (draft-ietf-oauth-status-list-20): the packed list, its JWT and CWT, the aggregation.

Entries are ``bits`` wide and packed LSB-first: entry i lives in byte i*bits//8 at bit (i*bits) % 8.
Redis bitmaps number bits MSB-first (DESIGN §9); msb_to_lsb converts a raw Redis value.

The two token forms carry the same claims and are verified by the same rules (type, pinned algorithm, a
trusted key by kid, ``sub`` = the URI, iat/exp, capped inflation): the JWT (``statuslist+jwt``) and the CWT
(COSE_Sign1, tag 18, protected typ ``application/statuslist+cwt``; claims 2 sub, 6 iat, 4 exp, 65534 ttl,
65533 status_list, where ``lst`` is a byte string and so a quarter smaller than its base64url).
"""

from __future__ import annotations

import base64
import functools
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cbor2

from credential.cose import (
    COSE_SIGN1_TAG,
    Sign1,
    cbor_loads,
    decode_sign1,
    sign1,
    verify_sign1,
)
from credential.encoding import b64url_decode, b64url_encode, inflate, json_loads
from credential.errors import InvalidClaimError, MalformedError, MissingClaimError, StatusError
from credential.jose import DEFAULT_SKEW, Signer, parse_compact, sign_compact, verify_compact
from credential.jwk import PublicKey, kid_bytes, kid_from_bytes

VALID, INVALID, SUSPENDED = 0, 1, 2
ALLOWED_BITS = (1, 2, 4, 8)
STATUS_LIST_TYP = "statuslist+jwt"
STATUS_LIST_CWT_TYP = "application/statuslist+cwt"  # COSE typ (label 16): the media type, in full
JWT_MEDIA_TYPE = "application/statuslist+jwt"
CWT_MEDIA_TYPE = "application/statuslist+cwt"
STATUS_LIST_ALGORITHMS = ("ES256", "EdDSA")
MAX_STATUS_LIST_TOKEN = 2 * 1024 * 1024  # a 2^20-entry 8-bit list of random data still fits (either form)
# CWT claim keys (RFC 8392; draft-20 §5.2 and its IANA registrations).
CWT_SUB, CWT_EXP, CWT_IAT, CWT_TTL, CWT_STATUS_LIST = 2, 4, 6, 65534, 65533
_CWT_CLAIM_NAMES = {CWT_SUB: "sub", CWT_IAT: "iat", CWT_EXP: "exp", CWT_TTL: "ttl", CWT_STATUS_LIST: "status_list"}
MAX_URI_LENGTH = 2048
MAX_AGGREGATION_SIZE = 256 * 1024
MAX_AGGREGATION_LISTS = 10_000


def _check_bits(bits: object) -> int:
    if type(bits) is not int or bits not in ALLOWED_BITS:
        raise InvalidClaimError("bits", "must be 1, 2, 4 or 8")
    return bits


class StatusList:
    """A fixed-size list of ``bits``-wide statuses."""

    def __init__(self, size: int, bits: int = 2, data: bytes | None = None) -> None:
        self._bits = _check_bits(bits)
        if type(size) is not int or size <= 0:
            raise ValueError("a status list needs a positive size")
        self._size = size
        length = (size * bits + 7) // 8
        if data is None:
            self._data = bytearray(length)
        elif len(data) != length:
            raise MalformedError(f"status list data must be {length} bytes for {size} entries")
        else:
            self._data = bytearray(data)

    @property
    def size(self) -> int:
        return self._size

    @property
    def bits(self) -> int:
        return self._bits

    @property
    def data(self) -> bytes:
        """The packed bytes, LSB-first."""
        return bytes(self._data)

    def _locate(self, idx: int) -> tuple[int, int]:
        if type(idx) is not int or not 0 <= idx < self._size:
            raise StatusError("index out of range")
        bit = idx * self._bits
        return bit // 8, bit % 8

    def get(self, idx: int) -> int:
        byte, shift = self._locate(idx)
        return (self._data[byte] >> shift) & ((1 << self._bits) - 1)

    def set(self, idx: int, value: int) -> None:
        byte, shift = self._locate(idx)
        mask = (1 << self._bits) - 1
        if type(value) is not int or not 0 <= value <= mask:
            raise StatusError(f"status {value!r} does not fit in {self._bits} bits")
        self._data[byte] = (self._data[byte] & ~(mask << shift)) | (value << shift)

    def compressed(self) -> bytes:
        """The packed bytes in a ZLIB container at the highest level, as the draft recommends."""
        return zlib.compress(bytes(self._data), 9)

    def to_json(self, aggregation_uri: str | None = None) -> dict[str, Any]:
        """The JSON ``status_list`` object: {"bits", "lst" (base64url), "aggregation_uri"?}."""
        return _status_list_object(self._bits, b64url_encode(self.compressed()), aggregation_uri)

    def to_cbor(self, aggregation_uri: str | None = None) -> dict[str, Any]:
        """The CBOR ``status_list`` map: the same members, ``lst`` as a byte string."""
        return _status_list_object(self._bits, self.compressed(), aggregation_uri)

    @classmethod
    def from_json(cls, obj: object, *, max_size: int) -> StatusList:
        """Read a ``status_list`` object; ``max_size`` (entries) caps the inflated size (deflate bombs)."""
        if not isinstance(obj, dict):
            raise InvalidClaimError("status_list", "must be an object")
        return cls._read(obj, max_size=max_size, lst_type=str)

    @classmethod
    def from_cbor(cls, obj: object, *, max_size: int) -> StatusList:
        """Read a CBOR ``status_list`` map (``lst`` a byte string); the same caps as from_json."""
        if not isinstance(obj, Mapping):
            raise InvalidClaimError("status_list", "must be a map")
        return cls._read(obj, max_size=max_size, lst_type=bytes)

    @classmethod
    def _read(cls, obj: Mapping[Any, Any], *, max_size: int, lst_type: type[str] | type[bytes]) -> StatusList:
        if "bits" not in obj:
            raise MissingClaimError("bits")
        if "lst" not in obj:
            raise MissingClaimError("lst")
        bits = _check_bits(obj["bits"])
        lst = obj["lst"]
        if not isinstance(lst, lst_type):
            raise InvalidClaimError("lst", "must be a string" if lst_type is str else "must be a byte string")
        read_aggregation_uri(obj)  # shape only: a verifier fetches the aggregation it was configured with
        data = inflate(b64url_decode(lst) if isinstance(lst, str) else lst, max_size=(max_size * bits + 7) // 8)
        if not data:
            raise InvalidClaimError("lst", "empty status list")
        return cls(len(data) * 8 // bits, bits, data)


def _status_list_object(bits: int, lst: str | bytes, aggregation: str | None) -> dict[str, Any]:
    obj: dict[str, Any] = {"bits": bits, "lst": lst}
    if aggregation is not None:
        obj["aggregation_uri"] = aggregation
    return obj


def read_aggregation_uri(obj: Mapping[Any, Any]) -> str | None:
    """The optional ``aggregation_uri`` of a status_list object: a URI string, or absent."""
    value = obj.get("aggregation_uri")
    if value is not None and (not isinstance(value, str) or not value or len(value) > MAX_URI_LENGTH):
        raise InvalidClaimError("aggregation_uri", "must be a non-empty URI string")
    return value


@functools.cache
def _group_reversal_table(bits: int) -> bytes:
    per, mask = 8 // bits, (1 << bits) - 1
    return bytes(
        sum(((byte >> (8 - (k + 1) * bits)) & mask) << (k * bits) for k in range(per)) for byte in range(256)
    )


def msb_to_lsb(raw: bytes, bits: int) -> bytes:
    """Redis bitmap order (MSB-first) -> Token Status List order: reverse the bits-wide groups in each byte.

    The reversal is its own inverse, so the same function converts back (see lsb_to_msb)."""
    return bytes(raw).translate(_group_reversal_table(_check_bits(bits)))


def lsb_to_msb(raw: bytes, bits: int) -> bytes:
    return msb_to_lsb(raw, bits)


def status_reference(obj: object) -> tuple[str, int]:
    """Read a credential's ``status`` claim {"status_list": {"idx", "uri"}} -> (uri, idx)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("status_list"), dict):
        raise InvalidClaimError("status", "must hold a status_list object")
    ref = obj["status_list"]
    idx, uri = ref.get("idx"), ref.get("uri")
    if type(idx) is not int or idx < 0:
        raise InvalidClaimError("status", "idx must be a non-negative integer")
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_LENGTH:
        raise InvalidClaimError("status", "uri must be a non-empty string")
    return uri, idx


def sign_status_list_token(
    lst: StatusList, *, uri: str, signer: Signer, now: int, ttl: int, exp: int, aggregation_uri: str | None = None,
    x5c: Sequence[bytes] = (),
) -> str:
    """The Status List Token (JWT). ``x5c``: DER certificates, the signer's first, then up to the root: a
    generic verifier may resolve the key by them (ours resolve it by ``kid`` in the trust list)."""
    payload = {"sub": uri, "iat": now, "exp": exp, "ttl": ttl, "status_list": lst.to_json(aggregation_uri)}
    header: dict[str, Any] = {"typ": STATUS_LIST_TYP}
    if x5c:  # RFC 7515 §4.1.6: standard base64 of each DER certificate, not base64url
        header["x5c"] = [base64.b64encode(der).decode("ascii") for der in x5c]
    return sign_compact(header, payload, signer)


def _sign_cwt(claims: dict[int, Any], signer: Signer) -> bytes:
    message = sign1(cbor2.dumps(claims), signer=signer, typ=STATUS_LIST_CWT_TYP, kid=kid_bytes(signer.kid))
    return message.encode(tag=True)  # COSE_Sign1 tag 18; the draft forbids the CWT tag 61


def sign_status_list_cwt(
    lst: StatusList, *, uri: str, signer: Signer, now: int, ttl: int, exp: int, aggregation_uri: str | None = None,
) -> bytes:
    """The Status List Token as a CWT: the claims of sign_status_list_token, in CBOR."""
    claims = {CWT_SUB: uri, CWT_IAT: now, CWT_EXP: exp, CWT_TTL: ttl, CWT_STATUS_LIST: lst.to_cbor(aggregation_uri)}
    return _sign_cwt(claims, signer)


def cwt_from_token(token: str, *, signer_for: Callable[[str], Signer]) -> bytes:
    """The CWT form of a Status List Token this issuer signed: the same claims, signed by
    ``signer_for(kid)`` for the token's own kid (the same key signs both forms).

    The token is the issuer's own (read, not verified, under the usual size cap); ``lst`` keeps its very
    zlib bytes, so nothing is inflated or compressed again. Claims other than the draft's are not carried."""
    jws = parse_compact(token, max_size=MAX_STATUS_LIST_TOKEN)
    kid, claims = jws.header.get("kid"), jws.payload
    if not isinstance(kid, str) or not kid:
        raise MalformedError("header lacks a kid")
    for name in ("sub", "iat", "status_list"):
        if name not in claims:
            raise MissingClaimError(name)
    obj = claims["status_list"]
    if not isinstance(obj, dict) or not isinstance(obj.get("lst"), str):
        raise InvalidClaimError("status_list", "must be an object with a lst string")
    cbor: dict[str, Any] = _status_list_object(_check_bits(obj.get("bits")), b64url_decode(obj["lst"]),
                                               read_aggregation_uri(obj))
    cwt: dict[int, Any] = {CWT_SUB: claims["sub"], CWT_IAT: claims["iat"]}
    for label, name in ((CWT_EXP, "exp"), (CWT_TTL, "ttl")):
        if name in claims:
            cwt[label] = claims[name]
    cwt[CWT_STATUS_LIST] = cbor
    return _sign_cwt(cwt, signer_for(kid))


@dataclass(frozen=True)
class VerifiedStatusList:
    uri: str
    iat: int
    exp: int | None
    ttl: int | None
    status_list: StatusList
    kid: str
    aggregation_uri: str | None = None


def _optional_int(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is not None and (type(value) is not int or value < 0):
        raise InvalidClaimError(name, "must be a non-negative integer")
    return value


def verify_status_list_token(
    token: str,
    *,
    uri: str,
    resolve_key: Callable[[str], PublicKey],
    now: int,
    max_entries: int = 1 << 20,
) -> VerifiedStatusList:
    """Verify a Status List Token for ``uri``: signature by a trusted key, type, subject, freshness.

    A list for another URI (substitution) or past its ``exp`` raises StatusError. An ``x5c`` header is
    tolerated and ignored: the key is the trusted one named by ``kid``."""
    jws = verify_compact(
        token,
        typ=STATUS_LIST_TYP,
        algorithms=STATUS_LIST_ALGORITHMS,
        resolve_key=resolve_key,
        max_size=MAX_STATUS_LIST_TOKEN,
        allow_x5c=True,
    )
    return _verified_claims(jws.payload, jws.header["kid"], uri=uri, now=now, max_entries=max_entries,
                            read_list=StatusList.from_json)


def _verified_claims(
    claims: Mapping[str, Any], kid: str, *, uri: str, now: int, max_entries: int,
    read_list: Callable[..., StatusList],
) -> VerifiedStatusList:
    """The claim rules both forms share, on claims by name (a CWT's are renamed from their labels)."""
    for name in ("sub", "iat", "status_list"):
        if name not in claims:
            raise MissingClaimError(name)
    if not isinstance(claims["sub"], str):
        raise InvalidClaimError("sub", "must be a string")
    if claims["sub"] != uri:
        raise StatusError("status list is for another URI")
    iat = claims["iat"]
    if type(iat) is not int:
        raise InvalidClaimError("iat", "must be an integer NumericDate")
    exp = _optional_int(claims, "exp")
    ttl = _optional_int(claims, "ttl")
    if iat > now + DEFAULT_SKEW:
        raise StatusError("status list issued in the future")
    if exp is not None and exp <= now:
        raise StatusError("status list expired")
    lst = read_list(claims["status_list"], max_size=max_entries)
    return VerifiedStatusList(uri, iat, exp, ttl, lst, kid, read_aggregation_uri(claims["status_list"]))


def is_cwt(data: bytes | str) -> bool:
    """Whether a fetched or stored status list is the CWT form: it starts with the COSE_Sign1 tag 18 and an
    array of four (0xD2 0x84); a JWT is ASCII text. The form only picks the verifier, which is strict."""
    return isinstance(data, bytes) and data[:2] == bytes([0xC0 | COSE_SIGN1_TAG, 0x84])


def parse_status_list_cwt(data: bytes) -> tuple[Sign1, dict[int, Any]]:
    """The COSE_Sign1 and its claims map, shape only, nothing trusted: size cap first, tag 18 required,
    strict CBOR (unique keys, preferred serialisation, no other tags) for the message and its payload."""
    message = decode_sign1(data, require_tag=True, max_size=MAX_STATUS_LIST_TOKEN)
    claims = cbor_loads(message.payload, max_size=MAX_STATUS_LIST_TOKEN, max_depth=3)
    if not isinstance(claims, dict):
        raise MalformedError("status list CWT claims must be a map")
    return message, claims


def verify_status_list_cwt(
    data: bytes,
    *,
    uri: str,
    resolve_key: Callable[[str], PublicKey],
    now: int,
    max_entries: int = 1 << 20,
) -> VerifiedStatusList:
    """Verify a Status List Token in its CWT form: the rules of verify_status_list_token, in CBOR.

    typ must be ``application/statuslist+cwt`` exactly, alg one of STATUS_LIST_ALGORITHMS, the kid 8 bytes
    naming a trusted key; the protected header may hold nothing else and the unprotected one must be empty."""
    if not isinstance(data, bytes):
        raise MalformedError("a status list CWT is bytes")
    message, claims = parse_status_list_cwt(data)
    if message.kid is None:
        raise MalformedError("COSE header lacks a kid")
    kid = kid_from_bytes(message.kid)
    verify_sign1(message, resolve_key(kid), typ=STATUS_LIST_CWT_TYP, algorithms=STATUS_LIST_ALGORITHMS)
    named = {_CWT_CLAIM_NAMES[label]: value for label, value in claims.items() if label in _CWT_CLAIM_NAMES}
    return _verified_claims(named, kid, uri=uri, now=now, max_entries=max_entries, read_list=StatusList.from_cbor)


def unverified_cwt_claim(data: bytes, label: int) -> int:
    """An integer claim of a status list CWT read before verification (to pick the time to re-verify at)."""
    value = parse_status_list_cwt(data)[1].get(label)
    if type(value) is not int:
        raise InvalidClaimError(_CWT_CLAIM_NAMES.get(label, str(label)), "must be an integer NumericDate")
    return value


def aggregation_document(uris: Iterable[str]) -> dict[str, Any]:
    """The Status List Aggregation: every list an offline verifier should fetch."""
    return {"status_lists": list(uris)}


def parse_aggregation(data: bytes) -> list[str]:
    doc = json_loads(data, max_size=MAX_AGGREGATION_SIZE)
    if not isinstance(doc, dict) or not isinstance(doc.get("status_lists"), list):
        raise MalformedError("aggregation must be an object with a status_lists array")
    uris = doc["status_lists"]
    if len(uris) > MAX_AGGREGATION_LISTS:
        raise MalformedError("aggregation lists too many status lists")
    if not all(isinstance(uri, str) and 0 < len(uri) <= MAX_URI_LENGTH for uri in uris):
        raise MalformedError("aggregation entries must be URI strings")
    return list(uris)
