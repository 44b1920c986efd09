"""IETF Token Status List (draft-ietf-oauth-status-list-20): the packed list, its JWT, and the aggregation.

Entries are ``bits`` wide and packed LSB-first: entry i lives in byte i*bits//8 at bit (i*bits) % 8.
Redis bitmaps number bits MSB-first (DESIGN §9); msb_to_lsb converts a raw Redis value.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from credential.encoding import b64url_decode, b64url_encode, inflate, json_loads
from credential.errors import InvalidClaimError, MalformedError, MissingClaimError, StatusError
from credential.jose import DEFAULT_SKEW, Signer, sign_compact, verify_compact
from credential.jwk import PublicKey

VALID, INVALID, SUSPENDED = 0, 1, 2
ALLOWED_BITS = (1, 2, 4, 8)
STATUS_LIST_TYP = "statuslist+jwt"
STATUS_LIST_ALGORITHMS = ("ES256", "EdDSA")
MAX_STATUS_LIST_TOKEN = 2 * 1024 * 1024  # a 2^20-entry 8-bit list of random data still fits
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

    def to_json(self) -> dict[str, Any]:
        return {"bits": self._bits, "lst": b64url_encode(zlib.compress(bytes(self._data), 9))}

    @classmethod
    def from_json(cls, obj: object, *, max_size: int) -> StatusList:
        """Read a ``status_list`` object; ``max_size`` (entries) caps the inflated size (deflate bombs)."""
        if not isinstance(obj, dict):
            raise InvalidClaimError("status_list", "must be an object")
        if "bits" not in obj:
            raise MissingClaimError("bits")
        if "lst" not in obj:
            raise MissingClaimError("lst")
        bits = _check_bits(obj["bits"])
        if not isinstance(obj["lst"], str):
            raise InvalidClaimError("lst", "must be a string")
        data = inflate(b64url_decode(obj["lst"]), max_size=(max_size * bits + 7) // 8)
        if not data:
            raise InvalidClaimError("lst", "empty status list")
        return cls(len(data) * 8 // bits, bits, data)


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


def sign_status_list_token(lst: StatusList, *, uri: str, signer: Signer, now: int, ttl: int, exp: int) -> str:
    payload = {"sub": uri, "iat": now, "exp": exp, "ttl": ttl, "status_list": lst.to_json()}
    return sign_compact({"typ": STATUS_LIST_TYP}, payload, signer)


@dataclass(frozen=True)
class VerifiedStatusList:
    uri: str
    iat: int
    exp: int | None
    ttl: int | None
    status_list: StatusList
    kid: str


def _optional_int(payload: dict[str, Any], name: str) -> int | None:
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

    A list for another URI (substitution) or past its ``exp`` raises StatusError."""
    jws = verify_compact(
        token,
        typ=STATUS_LIST_TYP,
        algorithms=STATUS_LIST_ALGORITHMS,
        resolve_key=resolve_key,
        max_size=MAX_STATUS_LIST_TOKEN,
    )
    claims = jws.payload
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
    lst = StatusList.from_json(claims["status_list"], max_size=max_entries)
    return VerifiedStatusList(uri, iat, exp, ttl, lst, jws.header["kid"])


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
