"""GB 11643 citizen identity numbers: 6-digit division of birth, birth date, sequence, check digit.

The 17th digit's parity is the sex (odd male, even female); the 18th is ISO 7064 MOD 11-2 over the rest.
"""

from __future__ import annotations

import datetime
import operator

from credential.codes import PROVINCE_LABELS
from credential.errors import InvalidApplicationError

_CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ZERO_WEIGHT = ord("0") * sum(_CHECK_WEIGHTS)  # what the ASCII codes add over the digit values


def citizen_id_check_digit(first17: str) -> str:
    """GB 11643: ISO 7064 MOD 11-2 over the first 17 digits."""
    if len(first17) != 17 or not (first17.isascii() and first17.isdigit()):
        raise InvalidApplicationError("citizen_id", "the check digit is computed over 17 digits")
    # ASCII digits only (checked above), so each digit is its code minus ord("0"): no per-digit int().
    weighted = sum(map(operator.mul, first17.encode("ascii"), _CHECK_WEIGHTS)) - _ZERO_WEIGHT
    return _CHECK_CHARS[weighted % 11]


def citizen_id_birth_date(value: str) -> datetime.date:
    try:
        return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise InvalidApplicationError("citizen_id", "holds no valid birth date") from exc


def validate_citizen_id(value: str) -> None:
    """18 characters: 6-digit division of birth, birth date, sequence (odd = male), check digit."""
    if not isinstance(value, str) or len(value) != 18 or not value.isascii():
        raise InvalidApplicationError("citizen_id", "must be 18 characters")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidApplicationError("citizen_id", "must be 17 digits and a digit or X")
    if value[:2] not in PROVINCE_LABELS:
        raise InvalidApplicationError("citizen_id", f"unknown province prefix {value[:2]}")
    citizen_id_birth_date(value)
    if citizen_id_check_digit(value[:17]) != value[17]:
        raise InvalidApplicationError("citizen_id", "check digit does not match")
