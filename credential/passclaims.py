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

Two views of one permit (DESIGN §2.2), both in this one map:
- *full*: every field above; it carries no view field (so every full pass issued before views existed is
  still the one encoding of its permit);
- *basic*: what a landlord compares with the person and the card, nothing more: the name (汉字 and pinyin),
  the document type and number, the authority code (always carried: the district it would default to is
  not), the portrait digest; validity, ``cnf`` and ``status`` are the CWT's as in the full pass. It says so
  with field 14 = 1 (F_VIEW), and carries no personal field (sex, ethnicity, citizen ID, address,
  district). A map that states the basic view and carries a personal field, or lacks the view field and
  lacks one, is refused: the view is stated, never guessed from what happens to be missing.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from credential.codes import validate_division
from credential.errors import InvalidApplicationError, InvalidClaimError
from credential.model import (
    _DOCUMENT_NUMBER,
    _DOT_VARIANTS,
    _NAME,
    _PINYIN,
    AUTHORITY_NAME_MAX,
    DOCUMENT_NUMBER_MAX,
    NAME_MAX,
    PINYIN_MAX,
    CredentialType,
    Holder,
    Permit,
    _text,
    citizen_id_birth_date,
    citizen_id_check_digit,
)

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
# The basic view's marker: present (= VIEW_BASIC) in a basic map only; a full map carries no field 14.
F_VIEW, VIEW_BASIC = 14, 1
_BASIC_FIELD_TYPES: dict[int, type] = {
    F_TYPE: int, F_NAME: str, F_PINYIN: str, F_DOCUMENT_NUMBER: str, F_AUTHORITY_CODE: int, F_PORTRAIT: bytes,
    F_VIEW: int,
}
_BASIC_OPTIONAL = frozenset({F_PORTRAIT})
# What only the full view carries: a basic map holding one of them is refused.
PERSONAL_FIELDS = frozenset(_FIELD_TYPES) - frozenset(_BASIC_FIELD_TYPES)


class PassView(enum.Enum):
    """Which of a permit's two QR encodings a pass is (the module docstring)."""

    FULL = "full"
    BASIC = "basic"


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


_TYPES = {member.value: member for member in CredentialType}
_RETIRED = {F_RETIRED_AUTHORITY_NAME: "field 12 (authority name) is not carried: the trust list names it"}


def _checked_map(claim: Mapping[Any, Any], types: Mapping[int, Any], optional: Collection[int], *,
                 refused: Mapping[int, str]) -> CredentialType:
    """The permit map's shape, for either view: no ``refused`` field (each with its reason), no unknown field,
    every value of its field's type, none of the required ones missing; returns the credential type."""
    for key, value in claim.items():
        if key in refused:
            raise InvalidClaimError("permit", refused[key])
        expected = types.get(key)
        if expected is None:
            raise InvalidClaimError("permit", f"unknown field {key!r}")
        if isinstance(value, bool) or not isinstance(value, expected):
            raise InvalidClaimError("permit", f"field {key} has the wrong type")
    missing = [key for key in types if key not in optional and key not in claim]
    if missing:
        raise InvalidClaimError("permit", f"field {missing[0]} is missing")
    kind = _TYPES.get(claim[F_TYPE])  # an int (checked above); CredentialType(value) is a slow lookup
    if kind is None:
        raise InvalidClaimError("permit", "unknown credential type")
    return kind


def permit_from_claim(claim: object, *, nbf: int, exp: int, authority_name: str) -> Permit:
    """Rebuild (and so validate, through the model) the Permit the pass states.

    ``authority_name`` is the name the verifier's trust list gives the key that verified the signature; the
    caller checks that the permit's authority_code is that key's too (credential.qrpass.verify_pass)."""
    if type(claim) is not dict and not isinstance(claim, Mapping):
        raise InvalidClaimError("permit", "must be a map")
    kind = _checked_map(claim, _FIELD_TYPES, _OPTIONAL, refused=_RETIRED)
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
    if permit_claim(permit) != _as_dict(claim):
        raise InvalidClaimError("permit", "not in canonical form")
    return permit


def _as_dict(claim: Mapping[Any, Any]) -> dict[Any, Any]:
    return claim if type(claim) is dict else dict(claim)  # a copy only of what is no dict already


# -- the basic view -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BasicPermit:
    """What a basic pass states (the module docstring): whose document it is, which, how long, from whom.

    Validated and normalised at construction by the rules the full model applies to the same fields (a
    name has one form whichever view carries it). ``authority_name`` is the trust list's for the signing
    key, as for a full pass."""

    type: CredentialType
    name: str
    name_pinyin: str
    document_number: str
    authority_code: str
    authority_name: str
    valid_from: datetime.date
    valid_until: datetime.date
    portrait_sha256: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.type, CredentialType):
            raise InvalidApplicationError("type", "must be a CredentialType")
        # The same normalisation and patterns as credential.model.Holder and Permit.
        name = _text("name", self.name, max_len=NAME_MAX).translate(_DOT_VARIANTS)
        if not _NAME.fullmatch(name):
            raise InvalidApplicationError("name", "must be Chinese characters, parts joined by ·")
        pinyin = " ".join(_text("name_pinyin", self.name_pinyin, max_len=PINYIN_MAX).upper().split())
        if not _PINYIN.fullmatch(pinyin):
            raise InvalidApplicationError("name_pinyin", "must be letters A-Z separated by single spaces")
        number = _text("document_number", self.document_number, max_len=DOCUMENT_NUMBER_MAX).upper()
        if not _DOCUMENT_NUMBER.fullmatch(number):
            raise InvalidApplicationError("document_number", "must be A-Z, 0-9 and -")
        validate_division(self.authority_code, field="authority_code")
        authority_name = _text("authority_name", self.authority_name, max_len=AUTHORITY_NAME_MAX)
        for field, value in (("valid_from", self.valid_from), ("valid_until", self.valid_until)):
            if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
                raise InvalidApplicationError(field, "must be a date")
        if not self.valid_from < self.valid_until:
            raise InvalidApplicationError("valid_until", "must be after valid_from")
        if self.portrait_sha256 is not None and (
            not isinstance(self.portrait_sha256, bytes) or len(self.portrait_sha256) != 32
        ):
            raise InvalidApplicationError("portrait_sha256", "must be 32 bytes")
        for field, text in (("name", name), ("name_pinyin", pinyin), ("document_number", number),
                            ("authority_name", authority_name)):
            object.__setattr__(self, field, text)

    @classmethod
    def of(cls, permit: Permit) -> BasicPermit:
        """The basic view of a full permit."""
        return cls(
            type=permit.type, name=permit.holder.name, name_pinyin=permit.holder.name_pinyin,
            document_number=permit.document_number, authority_code=permit.authority_code,
            authority_name=permit.authority_name, valid_from=permit.valid_from, valid_until=permit.valid_until,
            portrait_sha256=permit.holder.portrait_sha256,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, named as Permit.to_dict() names the same fields (the others are absent, not null)."""
        return {
            "type": self.type.slug,
            "name": self.name,
            "name_pinyin": self.name_pinyin,
            "portrait_sha256": None if self.portrait_sha256 is None else self.portrait_sha256.hex(),
            "document_number": self.document_number,
            "authority_code": self.authority_code,
            "authority_name": self.authority_name,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
        }


def basic_permit_claim(permit: Permit | BasicPermit) -> dict[int, Any]:
    """The -70001 map of the basic view (validity in nbf/exp as for the full view: validity_window)."""
    basic = permit if isinstance(permit, BasicPermit) else BasicPermit.of(permit)
    claim: dict[int, Any] = {
        F_VIEW: VIEW_BASIC,
        F_TYPE: basic.type.value,
        F_NAME: basic.name,
        F_PINYIN: basic.name_pinyin,
        F_DOCUMENT_NUMBER: basic.document_number,
        F_AUTHORITY_CODE: int(basic.authority_code),
    }
    if basic.portrait_sha256 is not None:
        claim[F_PORTRAIT] = basic.portrait_sha256
    return claim


def claim_view(claim: object) -> PassView:
    """The view a permit map states: basic with F_VIEW = VIEW_BASIC, full without F_VIEW; else refused."""
    if type(claim) is not dict and not isinstance(claim, Mapping):
        raise InvalidClaimError("permit", "must be a map")
    if F_VIEW not in claim:
        return PassView.FULL
    view = claim[F_VIEW]
    if type(view) is not int or view != VIEW_BASIC:
        raise InvalidClaimError("permit", f"field {F_VIEW} (view) must be {VIEW_BASIC} (basic) or absent (full)")
    return PassView.BASIC


def basic_permit_from_claim(claim: object, *, nbf: int, exp: int, authority_name: str) -> BasicPermit:
    """Rebuild (and so validate) the BasicPermit a basic map states; a personal field in it is refused."""
    if claim_view(claim) is not PassView.BASIC:
        raise InvalidClaimError("permit", "not a basic view")
    assert isinstance(claim, Mapping)  # claim_view checked it
    personal = {key: f"field {key} is personal data: a basic pass does not carry it" for key in PERSONAL_FIELDS}
    kind = _checked_map(claim, _BASIC_FIELD_TYPES, _BASIC_OPTIONAL, refused={**personal, **_RETIRED})
    basic = BasicPermit(
        type=kind,
        name=claim[F_NAME],
        name_pinyin=claim[F_PINYIN],
        document_number=claim[F_DOCUMENT_NUMBER],
        authority_code=_digits(claim[F_AUTHORITY_CODE], 6, "authority code"),
        authority_name=authority_name,
        valid_from=_day(nbf, "nbf"),
        valid_until=_day(exp, "exp") - datetime.timedelta(days=1),
        portrait_sha256=claim.get(F_PORTRAIT),
    )
    if basic_permit_claim(basic) != _as_dict(claim):
        raise InvalidClaimError("permit", "not in canonical form")
    return basic


def view_claim(permit: Permit, view: PassView) -> dict[int, Any]:
    """The permit map of ``view``."""
    return basic_permit_claim(permit) if view is PassView.BASIC else permit_claim(permit)


def view_from_claim(claim: object, *, nbf: int, exp: int, authority_name: str) -> Permit | BasicPermit:
    """The permit a map states, in the view it states (claim_view): a Permit or a BasicPermit."""
    if claim_view(claim) is PassView.BASIC:
        return basic_permit_from_claim(claim, nbf=nbf, exp=exp, authority_name=authority_name)
    return permit_from_claim(claim, nbf=nbf, exp=exp, authority_name=authority_name)
