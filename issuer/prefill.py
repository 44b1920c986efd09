"""What the system fills in an application form the clerk left empty, so that a window clerk types only what
only the resident can say (name, citizen ID, address).

- birth date and sex from the citizen ID (GB 11643: digits 7-14 are the birth date, an odd 17th digit is a
  man); a value the clerk typed is kept, and one that contradicts the ID is refused beside its field by
  the permit's own checks (credential.model.Holder);
- the issuing authority's code and name from this office's keys (keys.keyring.KeyRing: ``epermit keys init
  --authority-code --authority-name``): the only authority the office's keys sign for (issuer.service
  refuses any other), so the office's authority needs no second setting;
- the district when the officer serves exactly one;
- the validity from the bureau's rules: from today (Beijing) for as long as the type may be valid
  (issuer.rules.last_valid_day);
- the document number is never the form's: issuer.numbering allocates it (here only a placeholder).

Plain Python over the form's strings (the console's request form, after trimming); the console turns the
result into a Permit, whose checks give every error a field.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from credential.citizen_id import citizen_id_birth_date, validate_citizen_id
from credential.errors import InvalidApplicationError
from credential.model import CredentialType
from issuer.rules import last_valid_day
from issuer.settings import IssuerSettings

MALE, FEMALE = "1", "2"  # GB/T 2261.1
# The form's document number until issuer.numbering allocates one (register_application(allocate_number=True)
# replaces it): it passes the permit's own checks, and is never stored.
UNALLOCATED = "UNALLOCATED"


@dataclass(frozen=True)
class Office:
    """What an officer's form starts from: the office's one authority, the officer's districts, the day."""

    authority_code: str
    authority_name: str
    districts: tuple[str, ...]
    today: datetime.date
    settings: IssuerSettings


def holder_from_citizen_id(citizen_id: str) -> tuple[str, str]:
    """(birth date as YYYY-MM-DD, sex code) encoded in a valid citizen ID; InvalidApplicationError (field
    citizen_id) for one that is not, so that the clerk hears about the ID, not about an empty birth date."""
    validate_citizen_id(citizen_id)
    sex = MALE if int(citizen_id[16]) % 2 else FEMALE
    return citizen_id_birth_date(citizen_id).isoformat(), sex


def default_validity(kind: str, today: datetime.date, settings: IssuerSettings) -> tuple[str, str]:
    """(valid_from, valid_until) of a new document of the type slug ``kind``: today, and the longest the
    bureau allows; ("", "") for an unknown type (the permit's checks then name the type)."""
    try:
        credential_type = CredentialType.from_slug(kind)
    except InvalidApplicationError:
        return "", ""
    return today.isoformat(), last_valid_day(credential_type, today, settings).isoformat()


def filled(form: Mapping[str, str], office: Office) -> dict[str, str]:
    """``form`` with every empty field the system can fill filled; what the clerk typed stays as typed."""
    out = {name: value for name, value in form.items() if value}
    citizen_id = out.get("citizen_id", "").upper()
    if citizen_id and ("birth_date" not in out or "sex" not in out):
        birth_date, sex = holder_from_citizen_id(citizen_id)
        out.setdefault("birth_date", birth_date)
        out.setdefault("sex", sex)
    out.setdefault("authority_code", office.authority_code)
    out.setdefault("authority_name", office.authority_name)
    if len(office.districts) == 1:
        out.setdefault("district", office.districts[0])
    if "valid_from" not in out:
        out["valid_from"] = office.today.isoformat()
    if "valid_until" not in out:
        try:
            start = datetime.date.fromisoformat(out["valid_from"])
            out["valid_until"] = last_valid_day(CredentialType.from_slug(out.get("type", "")), start,
                                                office.settings).isoformat()
        except (ValueError, InvalidApplicationError):
            pass  # a wrong start date or type: the permit's checks name that field
    out["document_number"] = UNALLOCATED
    return out
