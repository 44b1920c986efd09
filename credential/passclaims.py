"""The permit inside the QR pass: the -70001 claim map and the validity window, both ways.

Integer keys, national code tables, no field the verifier can derive: every byte costs QR modules
(a pass shown live must fit version 18 at level M). Derived, so not carried:
- the birth date: it is inside the citizen ID, and the model requires the two to agree;
- the citizen ID's check digit: GB 11643 computes it from the first 17 digits, carried as one integer;
- valid_from / valid_until: they are the CWT nbf / exp, which must be midnights in Beijing;
- the authority code when it equals the district (a district branch issuing for its own district);
- the authority's name (key 12 in earlier passes, now refused as MALFORMED): the signing key's
  trust-list entry names its authority, bound to the key by its X.509 certificate, so the verifier takes
  the name from there (permit_from_claim's ``authority_name``) and requires the carried authority code
  to be the key's. A name never carried can never disagree with the key that signed, and the static pass
  is ~45 base45 characters shorter (one QR version at level M; docs/benchmarks-notes.md has today's sizes).
The verifier re-encodes the permit it rebuilt and requires the same map, so what it shows is exactly
what was signed (a name not in NFC, say, is refused rather than silently normalised).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from credential.errors import InvalidApplicationError, InvalidClaimError
from credential.model import CredentialType, Holder, Permit, citizen_id_birth_date, citizen_id_check_digit

# Validity dates are civil days in Beijing: valid until 2027-01-04 means to the end of that day there.
CHINA_STANDARD_TIME = datetime.timezone(datetime.timedelta(hours=8))
DAY = 86400
_OFFSET = 8 * 3600

F_TYPE, F_NAME, F_PINYIN, F_SEX, F_ETHNICITY = 1, 2, 3, 4, 5
F_CITIZEN_ID, F_ADDRESS, F_DOCUMENT_NUMBER, F_DISTRICT, F_AUTHORITY_CODE = 7, 8, 9, 10, 11
F_PORTRAIT = 13
# Key 12 carried the authority's name; the trust list names it now. A map that still holds it is refused:
# one permit has one encoding (and no pass may state a name beside the one its key is bound to).
F_RETIRED_AUTHORITY_NAME = 12
_FIELD_TYPES: dict[int, type] = {
    F_TYPE: int, F_NAME: str, F_PINYIN: str, F_SEX: int, F_ETHNICITY: int, F_CITIZEN_ID: int,
    F_ADDRESS: str, F_DOCUMENT_NUMBER: str, F_DISTRICT: int, F_AUTHORITY_CODE: int, F_PORTRAIT: bytes,
}
_OPTIONAL = frozenset({F_PORTRAIT, F_AUTHORITY_CODE})


_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()
# Days within which ordinal arithmetic is used; outside, the datetime path decides (and reports) as ever.
_FAST_DAYS = (datetime.date(1900, 1, 1).toordinal() - _EPOCH_ORDINAL, datetime.date(9000, 1, 1).toordinal() - _EPOCH_ORDINAL)


def _midnight(day: datetime.date) -> int:
    # Exactly int(datetime.combine(day, time(), CHINA_STANDARD_TIME).timestamp()), without the datetime.
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY - _OFFSET


def validity_window(permit: Permit) -> tuple[int, int]:
    """(nbf, exp) in unix seconds: from the start of valid_from to the end of valid_until, Beijing time."""
    return _midnight(permit.valid_from), _midnight(permit.valid_until + datetime.timedelta(days=1))


def _day(timestamp: int, claim: str) -> datetime.date:
    if (timestamp + _OFFSET) % DAY:
        raise InvalidClaimError(claim, "must be a midnight in Beijing")
    days = (timestamp + _OFFSET) // DAY
    if _FAST_DAYS[0] <= days <= _FAST_DAYS[1]:  # the same date as fromtimestamp gives, by arithmetic
        return datetime.date.fromordinal(_EPOCH_ORDINAL + days)
    try:
        return datetime.datetime.fromtimestamp(timestamp, CHINA_STANDARD_TIME).date()
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidClaimError(claim, "out of range") from exc


def permit_claim(permit: Permit) -> dict[int, Any]:
    """The -70001 permit map (validity goes into nbf/exp, see validity_window; the authority's name is the
    signing key's, see the module docstring)."""
    h = permit.holder
    claim: dict[int, Any] = {
        F_TYPE: permit.type.value,
        F_NAME: h.name,
        F_PINYIN: h.name_pinyin,
        F_SEX: h.sex,
        F_ETHNICITY: h.ethnicity,
        F_CITIZEN_ID: int(h.citizen_id[:17]),
        F_ADDRESS: h.address,
        F_DOCUMENT_NUMBER: permit.document_number,
        F_DISTRICT: int(permit.district),
    }
    if permit.authority_code != permit.district:
        claim[F_AUTHORITY_CODE] = int(permit.authority_code)
    if h.portrait_sha256 is not None:
        claim[F_PORTRAIT] = h.portrait_sha256
    return claim


def _digits(value: int, width: int, field: str) -> str:
    if not 0 <= value < 10**width:
        raise InvalidClaimError("permit", f"{field} has more than {width} digits")
    return f"{value:0{width}d}"


def permit_from_claim(claim: object, *, nbf: int, exp: int, authority_name: str) -> Permit:
    """Rebuild (and so validate, through the model) the Permit the pass states.

    ``authority_name`` is the name the verifier's trust list gives the key that verified the signature; the
    caller checks that the permit's authority_code is that key's too (credential.qrpass.verify_pass)."""
    if type(claim) is not dict and not isinstance(claim, Mapping):
        raise InvalidClaimError("permit", "must be a map")
    for key, value in claim.items():
        expected = _FIELD_TYPES.get(key)
        if key == F_RETIRED_AUTHORITY_NAME:
            raise InvalidClaimError("permit", "field 12 (authority name) is not carried: the trust list names it")
        if expected is None:
            raise InvalidClaimError("permit", f"unknown field {key!r}")
        if isinstance(value, bool) or not isinstance(value, expected):
            raise InvalidClaimError("permit", f"field {key} has the wrong type")
    missing = [key for key in _FIELD_TYPES if key not in _OPTIONAL and key not in claim]
    if missing:
        raise InvalidClaimError("permit", f"field {missing[0]} is missing")
    try:
        kind = CredentialType(claim[F_TYPE])
    except ValueError as exc:
        raise InvalidClaimError("permit", "unknown credential type") from exc
    first17 = _digits(claim[F_CITIZEN_ID], 17, "citizen ID")
    citizen_id = first17 + citizen_id_check_digit(first17)
    try:
        birth_date = citizen_id_birth_date(citizen_id)
    except InvalidApplicationError as exc:
        raise InvalidClaimError("permit", "the citizen ID holds no birth date") from exc
    holder = Holder(
        name=claim[F_NAME],
        name_pinyin=claim[F_PINYIN],
        sex=claim[F_SEX],
        ethnicity=claim[F_ETHNICITY],
        birth_date=birth_date,
        citizen_id=citizen_id,
        address=claim[F_ADDRESS],
        portrait_sha256=claim.get(F_PORTRAIT),
    )
    district = _digits(claim[F_DISTRICT], 6, "district")
    permit = Permit(
        type=kind,
        holder=holder,
        document_number=claim[F_DOCUMENT_NUMBER],
        district=district,
        authority_code=_digits(claim.get(F_AUTHORITY_CODE, claim[F_DISTRICT]), 6, "authority code"),
        authority_name=authority_name,
        valid_from=_day(nbf, "nbf"),
        valid_until=_day(exp, "exp") - datetime.timedelta(days=1),
    )
    if permit_claim(permit) != dict(claim):
        raise InvalidClaimError("permit", "not in canonical form")
    return permit
