"""The filling rules of the registration form (issuer.prefill) and the document number format
(issuer.numbering), as plain functions: no app, no store."""

from __future__ import annotations

import datetime

import pytest

from credential.citizen_id import citizen_id_check_digit
from credential.errors import InvalidApplicationError
from credential.model import CredentialType
from issuer.numbering import document_number, sequence_name
from issuer.prefill import UNALLOCATED, Office, default_validity, filled, holder_from_citizen_id
from issuer.settings import IssuerSettings

SETTINGS = IssuerSettings("https://wallet.example", permit_validity_months=12, registration_card_validity_months=6)
TODAY = datetime.date(2026, 8, 31)
OFFICE = Office("110105", "北京市公安局朝阳分局", ("110105",), TODAY, SETTINGS)
MAN = "410102199003151230"  # 17th digit 3: odd, a man; born 1990-03-15
WOMAN = "650102199507213428"  # 17th digit 2: even, a woman; born 1995-07-21


def with_check(first17: str) -> str:
    return first17 + citizen_id_check_digit(first17)


def test_birth_date_and_sex_come_from_the_citizen_id() -> None:
    assert holder_from_citizen_id(MAN) == ("1990-03-15", "1")
    assert holder_from_citizen_id(WOMAN) == ("1995-07-21", "2")
    # An X check digit is the 18th character: the sex is still the 17th digit's.
    with_x = next(i for i in (with_check(f"1101052000022900{n}") for n in range(10)) if i.endswith("X"))
    assert holder_from_citizen_id(with_x) == ("2000-02-29", "1" if int(with_x[16]) % 2 else "2")


@pytest.mark.parametrize("bad", [MAN[:17] + "9", MAN[:17], "410102199002301238", "99" + MAN[2:]])
def test_a_wrong_citizen_id_is_an_error_of_the_citizen_id_not_of_the_birth_date(bad: str) -> None:
    with pytest.raises(InvalidApplicationError) as raised:
        filled({"type": "residence_registration", "citizen_id": bad}, OFFICE)
    assert raised.value.field == "citizen_id"


def test_every_empty_field_the_office_knows_is_filled() -> None:
    out = filled({"type": "residence_registration", "citizen_id": WOMAN.lower(), "name": "阿依古丽",
                  "birth_date": "", "sex": ""}, OFFICE)
    assert out == {"type": "residence_registration", "citizen_id": WOMAN.lower(), "name": "阿依古丽",
                   "birth_date": "1995-07-21", "sex": "2", "authority_code": "110105",
                   "authority_name": "北京市公安局朝阳分局", "district": "110105", "valid_from": "2026-08-31",
                   # six months for a card in these settings, ending the day before: 2027-02-28 (clamped)
                   "valid_until": "2027-02-27", "document_number": UNALLOCATED}


def test_what_the_clerk_typed_is_kept_even_when_it_contradicts_the_id() -> None:
    """The permit's own checks then refuse the contradiction beside its field (see the route tests)."""
    typed = {"type": "residence_permit", "citizen_id": MAN, "birth_date": "1990-03-16", "sex": "2",
             "district": "110108", "valid_from": "2026-09-01", "valid_until": "2027-03-01",
             "authority_name": "别的机关"}
    out = filled(typed, OFFICE)
    assert {k: out[k] for k in typed} == typed
    assert out["document_number"] == UNALLOCATED  # never the form's


def test_the_validity_follows_the_type_and_a_typed_start() -> None:
    permit = filled({"type": "residence_permit", "valid_from": "2026-09-15"}, OFFICE)
    assert (permit["valid_from"], permit["valid_until"]) == ("2026-09-15", "2027-09-14")
    assert default_validity("residence_permit", TODAY, SETTINGS) == ("2026-08-31", "2027-08-30")
    assert default_validity("residence_registration", TODAY, SETTINGS) == ("2026-08-31", "2027-02-27")
    # A wrong type or start date is left for the permit's checks to name.
    assert "valid_until" not in filled({"type": "passport"}, OFFICE)
    assert "valid_until" not in filled({"type": "residence_permit", "valid_from": "2026-02-30"}, OFFICE)
    assert default_validity("passport", TODAY, SETTINGS) == ("", "")


def test_the_district_is_filled_only_for_an_officer_of_one_district() -> None:
    two = Office("110105", "北京市公安局朝阳分局", ("110105", "110108"), TODAY, SETTINGS)
    assert "district" not in filled({"type": "residence_permit"}, two)
    assert filled({"type": "residence_permit"}, OFFICE)["district"] == "110105"


def test_document_numbers_name_type_district_year_and_sequence() -> None:
    kind = CredentialType.RESIDENCE_REGISTRATION
    assert sequence_name(kind, "110105", TODAY) == "DJK-110105-2026"
    assert document_number(kind, "110105", TODAY, 42) == "DJK-110105-2026-000042"
    assert document_number(CredentialType.RESIDENCE_PERMIT, "310101", TODAY, 1_234_567) == "JZZ-310101-2026-1234567"
