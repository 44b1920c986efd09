from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credential.codes import (
    ETHNICITY_LABELS,
    FIELD_LABELS,
    PROVINCE_LABELS,
    SEX_LABELS,
    district_label,
    ethnicity_label,
    sex_label,
    validate_district,
    validate_division,
)
from credential.errors import InvalidApplicationError
from credential.model import (
    APPLICATION_FIELDS,
    CredentialType,
    Holder,
    Permit,
    citizen_id_check_digit,
    validate_citizen_id,
)
from credential.samples import AYIGULI_AISHAN, RESIDENTS, ZHANG_WEI, sample_permit
from credential.sdjwt import PERSONAL_CLAIMS


def field_of(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(InvalidApplicationError) as err:
        call(*args, **kwargs)
    return err.value.field


def holder(**changes: Any) -> Holder:
    return dataclasses.replace(ZHANG_WEI, **changes)


def application(**changes: Any) -> dict[str, Any]:
    d = sample_permit().to_dict()
    d.update(changes)
    return d


# --- citizen ID (GB 11643) ------------------------------------------------------------------------------


def test_check_digit_of_the_standard_example_and_the_samples() -> None:
    assert citizen_id_check_digit("11010519491231002") == "X"  # GB 11643-1999's worked example
    assert citizen_id_check_digit("41010219900315123") == "0"
    assert citizen_id_check_digit("65010219950721342") == "8"
    for resident in RESIDENTS:
        validate_citizen_id(resident.citizen_id)


@pytest.mark.parametrize(
    "value",
    [
        "410102199003151231",  # wrong check digit
        "41010219900315123X",  # X where 0 is due
        "4101021990031512300",  # 19 chars
        "41010219900315123",  # 17 chars
        "41010219900315A230",  # letter inside
        "410102199002301236",  # 30 February
        "990102199003151233",  # unknown province
        "４１０１０２１９９００３１５１２３０",  # fullwidth digits
    ],
)
def test_bad_citizen_ids(value: str) -> None:
    assert field_of(validate_citizen_id, value) == "citizen_id"


def test_every_single_digit_change_is_caught() -> None:
    good = ZHANG_WEI.citizen_id
    for position in range(6, 18):  # keep the province prefix valid
        for char in "0123456789X":
            if char == good[position] or (char == "X" and position < 17):
                continue
            candidate = good[:position] + char + good[position + 1:]
            try:
                holder(citizen_id=candidate)
            except InvalidApplicationError:
                continue
            pytest.fail(f"accepted {candidate}")


def test_lower_case_x_is_normalised() -> None:
    h = holder(citizen_id="11010519491231002x", birth_date=datetime.date(1949, 12, 31), sex=2)
    assert h.citizen_id == "11010519491231002X"


def test_birth_date_must_match_citizen_id() -> None:
    assert field_of(holder, birth_date=datetime.date(1990, 3, 16)) == "birth_date"


def test_sex_must_match_citizen_id_parity_unless_unstated() -> None:
    assert field_of(holder, sex=2) == "sex"
    assert holder(sex=9).sex == 9
    assert holder(sex=0).sex == 0


# --- other holder fields --------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [("sex", 3), ("sex", True), ("sex", "1"), ("ethnicity", 0),
                                              ("ethnicity", 57), ("ethnicity", 99), ("ethnicity", 1.0)])
def test_bad_codes(field: str, value: object) -> None:
    assert field_of(holder, **{field: value}) == field


def test_strings_are_nfc_normalised() -> None:
    # U+F900 is a CJK compatibility ideograph: NFC maps it to U+8C48, so the stored name must be U+8C48.
    h = holder(name="张\uf900", address="北京市朝阳区 Cafe\u0301 1号")
    assert h.name == "张\u8c48"
    assert h.address == "北京市朝阳区 Café 1号"


def test_white_space_is_collapsed_and_pinyin_upper_cased() -> None:
    h = holder(name_pinyin="  zhang\u3000 wei ", address="北京市朝阳区\u3000望京街道\n1号")
    assert h.name_pinyin == "ZHANG WEI"
    assert h.address == "北京市朝阳区 望京街道 1号"


def test_minority_names_use_one_middle_dot() -> None:
    assert AYIGULI_AISHAN.name == "阿依古丽·艾山"
    assert holder(name="阿依古丽・艾山").name == "阿依古丽·艾山"  # katakana middle dot typed by an IME
    for bad in ("·阿依古丽", "阿依古丽·", "阿依古丽··艾山", "Zhang Wei", "张 伟", "张伟1", "张" * 31, ""):
        assert field_of(holder, name=bad) == "name"


@pytest.mark.parametrize("pinyin", ["ZHANG1", "ZHANG-WEI", "ZHĀNG WEI", "", "A" * 101])
def test_bad_pinyin(pinyin: str) -> None:
    assert field_of(holder, name_pinyin=pinyin) == "name_pinyin"


def test_address_limits() -> None:
    assert field_of(holder, address="北" * 81) == "address"
    assert field_of(holder, address="北京\u200b市") == "address"  # invisible format character
    assert field_of(holder, address=5) == "address"


def test_portrait_digest_is_32_bytes() -> None:
    assert holder(portrait_sha256=bytes(32)).portrait_sha256 == bytes(32)
    assert field_of(holder, portrait_sha256=bytes(31)) == "portrait_sha256"
    assert field_of(holder, portrait_sha256="00" * 32) == "portrait_sha256"


def test_dates_must_be_dates() -> None:
    assert field_of(holder, birth_date=datetime.datetime(1990, 3, 15)) == "birth_date"
    assert field_of(holder, birth_date="1990-03-15") == "birth_date"


# --- permit ---------------------------------------------------------------------------------------------


def test_samples_are_valid_and_distinct() -> None:
    first, second = sample_permit(), sample_permit(resident=1)
    assert first.holder.sex == 1 and second.holder.sex == 2
    assert first.holder.ethnicity != second.holder.ethnicity
    assert first.document_number != second.document_number
    assert first.authority_name == "北京市公安局朝阳分局" and first.authority_code == "110105"


def test_validity_order() -> None:
    p = sample_permit()
    assert field_of(dataclasses.replace, p, valid_until=p.valid_from) == "valid_until"


@pytest.mark.parametrize("number", ["jzz-1", "JZZ 1", "-JZZ", "J" * 33, "居住证1"])
def test_document_number_pattern(number: str) -> None:
    if number == "jzz-1":
        assert sample_permit(document_number=number).document_number == "JZZ-1"
    else:
        assert field_of(sample_permit, document_number=number) == "document_number"


def test_district_and_authority_codes() -> None:
    p = sample_permit()
    assert field_of(dataclasses.replace, p, district="110100") == "district"  # a city, not a district
    assert field_of(dataclasses.replace, p, district="990105") == "district"
    assert field_of(dataclasses.replace, p, district=110105) == "district"
    assert dataclasses.replace(p, authority_code="110000").authority_code == "110000"  # 北京市公安局
    assert field_of(dataclasses.replace, p, authority_code="1101") == "authority_code"


# --- application JSON -------------------------------------------------------------------------------------


def test_to_dict_from_dict_round_trip() -> None:
    for permit in (sample_permit(), sample_permit(CredentialType.RESIDENCE_REGISTRATION, resident=1,
                                                  portrait_sha256=bytes(range(32)))):
        assert Permit.from_dict(permit.to_dict()) == permit


@pytest.mark.parametrize("name", [f for f in APPLICATION_FIELDS if f != "portrait_sha256"])
def test_missing_field_is_named(name: str) -> None:
    d = application()
    del d[name]
    assert field_of(Permit.from_dict, d) == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("type", "passport"),
        ("type", 1),
        ("name", ["张伟"]),
        ("sex", "male"),
        ("sex", True),
        ("ethnicity", {"code": 1}),
        ("birth_date", "19900315"),
        ("birth_date", "1990-02-30"),
        ("birth_date", 637459200),
        ("citizen_id", 410102199003151230),
        ("address", None),
        ("portrait_sha256", "zz" * 32),
        ("portrait_sha256", "00"),
        ("document_number", 12),
        ("district", "朝阳区"),
        ("authority_code", 3.5),
        ("authority_name", ""),
        ("valid_from", "2026-13-01"),
        ("valid_until", "2025-01-01"),
    ],
)
def test_wrong_field_is_named(name: str, value: object) -> None:
    assert field_of(Permit.from_dict, application(**{name: value})) == name


def test_unknown_field_and_non_object() -> None:
    assert field_of(Permit.from_dict, application(validUntil="2027-01-01")) == "validUntil"
    assert field_of(Permit.from_dict, ["not", "an", "object"]) == "application"


def test_csv_style_strings_for_codes() -> None:
    permit = Permit.from_dict(application(sex="1", ethnicity="01", district=110105))
    assert (permit.holder.sex, permit.holder.ethnicity, permit.district) == (1, 1, "110105")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=5,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(APPLICATION_FIELDS), _json, max_size=len(APPLICATION_FIELDS)), st.data())
def test_from_dict_raises_only_invalid_application(changes: dict[str, Any], data: st.DataObject) -> None:
    d = application(**changes)
    for name in data.draw(st.lists(st.sampled_from(APPLICATION_FIELDS), max_size=3)):
        d.pop(name, None)
    try:
        Permit.from_dict(d)
    except InvalidApplicationError as exc:
        assert exc.field in (*APPLICATION_FIELDS, "application")


# --- codes and credential types -------------------------------------------------------------------------


def test_code_tables() -> None:
    assert set(SEX_LABELS) == {0, 1, 2, 9}
    assert set(ETHNICITY_LABELS) == {*range(1, 57), 97, 98}
    assert ETHNICITY_LABELS[1] == ("汉族", "Han") and ETHNICITY_LABELS[56] == ("基诺族", "Jino")
    assert len({zh for zh, _ in ETHNICITY_LABELS.values()}) == 58
    assert len(PROVINCE_LABELS) == 34
    assert sex_label(2) == ("女", "Female") and ethnicity_label(5) == ("维吾尔族", "Uygur")
    assert sex_label(7)[1] == ethnicity_label(60)[1] == "Unknown code"
    assert district_label("110105") == ("北京市朝阳区", "Chaoyang District, Beijing")
    assert district_label("310115")[0] == "上海市"


def test_division_validation() -> None:
    assert validate_district("110105") == "110105"
    assert validate_division("110000") == "110000"
    assert validate_district("429004") == "429004"  # 仙桃市, a county-level city under the province
    for bad in ("110000", "110100", "11010", "1101055", "991234", "11a105"):
        with pytest.raises(InvalidApplicationError):
            validate_district(bad)


def test_field_labels_cover_application_and_sd_jwt_claims() -> None:
    assert set(APPLICATION_FIELDS) <= set(FIELD_LABELS)
    assert set(PERSONAL_CLAIMS) <= set(FIELD_LABELS)
    assert FIELD_LABELS["name"] == ("姓名", "Name")


def test_credential_types() -> None:
    permit, card = CredentialType.RESIDENCE_PERMIT, CredentialType.RESIDENCE_REGISTRATION
    assert (permit.slug, permit.name_zh, permit.name_en) == ("residence_permit", "居住证", "Residence Permit")
    assert (card.slug, card.name_zh, card.name_en) == (
        "residence_registration", "居住登记卡", "Residence Registration Card")
    assert permit.vct_path == "/vct/residence-permit/1" and card.vct_path == "/vct/residence-registration/1"
    assert CredentialType.from_slug("residence_registration") is card
    assert field_of(CredentialType.from_slug, "RESIDENCE_PERMIT") == "type"
