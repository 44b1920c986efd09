"""What a residence permit or registration card states, validated and normalised once, at construction.

Every string is NFC-normalised (so that the same name always has the same bytes, and so the same digest
in a signed credential); every rule failure raises InvalidApplicationError naming the field.
"""

from __future__ import annotations

import datetime
import enum
import re
from dataclasses import dataclass
from typing import Any

from credential.citizen_id import citizen_id_birth_date as citizen_id_birth_date
from credential.citizen_id import citizen_id_check_digit as citizen_id_check_digit
from credential.citizen_id import validate_citizen_id as validate_citizen_id
from credential.codes import ETHNICITY_LABELS, SEX_LABELS, validate_district, validate_division
from credential.errors import InvalidApplicationError
from credential.text import one_line

NAME_MAX = 30
PINYIN_MAX = 100
ADDRESS_MAX = 80
AUTHORITY_NAME_MAX = 40
DOCUMENT_NUMBER_MAX = 32
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)

_MIDDLE_DOT = "\u00b7"
# Separators people type for the middle dot of minority names (・ • ‧ ∙ ⋅ ･); all become U+00B7.
_DOT_VARIANTS = str.maketrans(dict.fromkeys("\u30fb\u2022\u2027\u2219\u22c5\uff65", _MIDDLE_DOT))
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_NAME = re.compile(f"[{_HAN}]+(?:{_MIDDLE_DOT}[{_HAN}]+)*")
_PINYIN = re.compile(r"[A-Z]+(?: [A-Z]+)*")
_DOCUMENT_NUMBER = re.compile(r"[0-9A-Z][0-9A-Z-]*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CredentialType(enum.Enum):
    RESIDENCE_PERMIT = 1  # 居住证
    RESIDENCE_REGISTRATION = 2  # 居住登记卡

    @property
    def slug(self) -> str:
        return _SLUG_BY_VALUE[self._value_]  # an int key: hashing a member is a Python-level call

    @property
    def vct_path(self) -> str:
        """Appended to the issuer URL to make the SD-JWT VC ``vct``."""
        return _VCT_PATHS[self]

    @property
    def name_zh(self) -> str:
        return _DISPLAY[self][0]

    @property
    def name_en(self) -> str:
        return _DISPLAY[self][1]

    @classmethod
    def from_slug(cls, slug: object) -> CredentialType:
        for member, member_slug in _SLUGS.items():
            if slug == member_slug:
                return member
        raise InvalidApplicationError("type", f"must be one of {sorted(_SLUGS.values())}")


_SLUGS = {
    CredentialType.RESIDENCE_PERMIT: "residence_permit",
    CredentialType.RESIDENCE_REGISTRATION: "residence_registration",
}
_SLUG_BY_VALUE = {member.value: slug for member, slug in _SLUGS.items()}
_VCT_PATHS = {
    CredentialType.RESIDENCE_PERMIT: "/vct/residence-permit/1",
    CredentialType.RESIDENCE_REGISTRATION: "/vct/residence-registration/1",
}
_DISPLAY = {
    CredentialType.RESIDENCE_PERMIT: ("居住证", "Residence Permit"),
    CredentialType.RESIDENCE_REGISTRATION: ("居住登记卡", "Residence Registration Card"),
}


def _text(field: str, value: object, *, max_len: int) -> str:
    if not isinstance(value, str):
        raise InvalidApplicationError(field, "must be text")
    text = one_line(value, limit=max_len)
    if text is None:
        raise InvalidApplicationError(field, f"must be one line of at most {max_len} characters, without control "
                                             "or invisible format characters")
    if not text:
        raise InvalidApplicationError(field, "must not be empty")
    return text


def _date(field: str, value: object) -> datetime.date:
    # datetime is a subclass of date: a datetime here would carry a time the credential cannot state.
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise InvalidApplicationError(field, "must be a date")
    return value


def _code(field: str, value: object, table: dict[int, Any]) -> int:
    if type(value) is not int or value not in table:
        raise InvalidApplicationError(field, "is not a code of the national table")
    return value


@dataclass(frozen=True)
class Holder:
    name: str  # 汉字 (· between the parts of a minority name), NFC, 1..30 chars
    name_pinyin: str  # upper-case ASCII letters and single spaces, e.g. "ZHANG WEI"
    sex: int  # GB/T 2261.1
    ethnicity: int  # GB 3304
    birth_date: datetime.date
    citizen_id: str  # GB 11643, 18 chars; its birth date equals birth_date
    address: str  # residence address, NFC, <= 80 chars
    portrait_sha256: bytes | None = None

    def __post_init__(self) -> None:
        name = _text("name", self.name, max_len=NAME_MAX).translate(_DOT_VARIANTS)
        if not _NAME.fullmatch(name):
            raise InvalidApplicationError("name", "must be Chinese characters, parts joined by ·")
        pinyin = _text("name_pinyin", self.name_pinyin, max_len=PINYIN_MAX)
        pinyin = " ".join(pinyin.upper().split())
        if not _PINYIN.fullmatch(pinyin):
            raise InvalidApplicationError("name_pinyin", "must be letters A-Z separated by single spaces")
        sex = _code("sex", self.sex, SEX_LABELS)
        _code("ethnicity", self.ethnicity, ETHNICITY_LABELS)
        birth_date = _date("birth_date", self.birth_date)
        if birth_date < EARLIEST_BIRTH_DATE:
            raise InvalidApplicationError("birth_date", "before 1900")
        citizen_id = _text("citizen_id", self.citizen_id, max_len=18).upper()
        validate_citizen_id(citizen_id)
        if citizen_id_birth_date(citizen_id) != birth_date:
            raise InvalidApplicationError("birth_date", "differs from the birth date in the citizen ID")
        if sex in (1, 2) and int(citizen_id[16]) % 2 != sex % 2:  # GB 11643: odd sequence = male
            raise InvalidApplicationError("sex", "differs from the sex encoded in the citizen ID")
        address = _text("address", self.address, max_len=ADDRESS_MAX)
        if self.portrait_sha256 is not None and (
            not isinstance(self.portrait_sha256, bytes) or len(self.portrait_sha256) != 32
        ):
            raise InvalidApplicationError("portrait_sha256", "must be 32 bytes")
        for field, value in (("name", name), ("name_pinyin", pinyin), ("citizen_id", citizen_id),
                             ("address", address)):
            object.__setattr__(self, field, value)


@dataclass(frozen=True)
class Permit:
    type: CredentialType
    holder: Holder
    document_number: str  # <= 32 chars [0-9A-Z-]
    district: str  # GB/T 2260 county-level code of the residence
    authority_code: str  # GB/T 2260 code of the issuing authority (any level)
    authority_name: str  # e.g. 北京市公安局朝阳分局
    valid_from: datetime.date
    valid_until: datetime.date

    def __post_init__(self) -> None:
        if not isinstance(self.type, CredentialType):
            raise InvalidApplicationError("type", "must be a CredentialType")
        if not isinstance(self.holder, Holder):
            raise InvalidApplicationError("holder", "must be a Holder")
        number = _text("document_number", self.document_number, max_len=DOCUMENT_NUMBER_MAX).upper()
        if not _DOCUMENT_NUMBER.fullmatch(number):
            raise InvalidApplicationError("document_number", "must be A-Z, 0-9 and -")
        validate_district(self.district, field="district")
        validate_division(self.authority_code, field="authority_code")
        authority_name = _text("authority_name", self.authority_name, max_len=AUTHORITY_NAME_MAX)
        valid_from = _date("valid_from", self.valid_from)
        valid_until = _date("valid_until", self.valid_until)
        if not valid_from < valid_until:
            raise InvalidApplicationError("valid_until", "must be after valid_from")
        if valid_from < self.holder.birth_date:
            raise InvalidApplicationError("valid_from", "before the holder's birth date")
        object.__setattr__(self, "document_number", number)
        object.__setattr__(self, "authority_name", authority_name)

    @classmethod
    def from_dict(cls, d: object) -> Permit:
        """Read the application JSON an officer sends; every fault, missing or unknown key names its field."""
        if not isinstance(d, dict):
            raise InvalidApplicationError("application", "must be a JSON object")
        for key in d:
            if key not in APPLICATION_FIELDS:
                raise InvalidApplicationError(str(key), "unknown field")
        missing = [f for f in APPLICATION_FIELDS if f != "portrait_sha256" and d.get(f) is None]
        if missing:
            raise InvalidApplicationError(missing[0], "missing")
        portrait = d.get("portrait_sha256")
        holder = Holder(
            name=d["name"],
            name_pinyin=d["name_pinyin"],
            sex=_int_code("sex", d["sex"]),
            ethnicity=_int_code("ethnicity", d["ethnicity"]),
            birth_date=parse_iso_date("birth_date", d["birth_date"]),
            citizen_id=d["citizen_id"],
            address=d["address"],
            portrait_sha256=None if portrait is None else _hex32("portrait_sha256", portrait),
        )
        return cls(
            type=CredentialType.from_slug(d["type"]),
            holder=holder,
            document_number=d["document_number"],
            district=_division_text("district", d["district"]),
            authority_code=_division_text("authority_code", d["authority_code"]),
            authority_name=d["authority_name"],
            valid_from=parse_iso_date("valid_from", d["valid_from"]),
            valid_until=parse_iso_date("valid_until", d["valid_until"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe inverse of from_dict: dates as ISO strings, the portrait digest as hex (or null)."""
        h = self.holder
        return {
            "type": self.type.slug,
            "name": h.name,
            "name_pinyin": h.name_pinyin,
            "sex": h.sex,
            "ethnicity": h.ethnicity,
            "birth_date": h.birth_date.isoformat(),
            "citizen_id": h.citizen_id,
            "address": h.address,
            "portrait_sha256": None if h.portrait_sha256 is None else h.portrait_sha256.hex(),
            "document_number": self.document_number,
            "district": self.district,
            "authority_code": self.authority_code,
            "authority_name": self.authority_name,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
        }


def parse_iso_date(field: str, value: object) -> datetime.date:
    """Exactly YYYY-MM-DD (date.fromisoformat alone also takes 20240101 and week dates)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise InvalidApplicationError(field, "must be a date YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidApplicationError(field, "is not a calendar date") from exc


APPLICATION_FIELDS = (
    "type", "name", "name_pinyin", "sex", "ethnicity", "birth_date", "citizen_id", "address",
    "portrait_sha256", "document_number", "district", "authority_code", "authority_name",
    "valid_from", "valid_until",
)


def _int_code(field: str, value: object) -> int:
    # A CSV row brings "1" where JSON brings 1; both mean the code. bool is not a code.
    if isinstance(value, str) and 0 < len(value) <= 3 and value.isascii() and value.isdigit():
        return int(value)
    if type(value) is not int:
        raise InvalidApplicationError(field, "must be an integer code")
    return value


def _division_text(field: str, value: object) -> str:
    if type(value) is int and 0 <= value < 1_000_000:
        return f"{value:06d}"
    if not isinstance(value, str):
        raise InvalidApplicationError(field, "must be a six-digit code")
    return value


def _hex32(field: str, value: object) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise InvalidApplicationError(field, "must be 64 hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise InvalidApplicationError(field, "must be 64 hex digits") from exc
