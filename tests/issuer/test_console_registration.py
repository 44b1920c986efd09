"""The console's registration form with less typing (issue 17 item 3), through Flask's test client and on
every store: birth date and sex from the citizen ID, the office's authority and the bureau's validity when
left empty, the lists of 民族 and districts, the document number allocated by the system (once each, also
under concurrency), and the next-application link."""

from __future__ import annotations

import dataclasses
import datetime
import re
import threading

from flask import Flask

from credential.codes import ETHNICITY_LABELS
from credential.model import CredentialType, Permit
from credential.samples import AYIGULI_AISHAN, ZHANG_WEI
from issuer.model import Officer, Role
from issuer.service import IssuerService
from tests.conftest import FakeClock

from .console_logins import OfficerLogins
from .office import HOME
from .test_console_routes import field_note, invalid_fields, registered_id, selected, signed_in, text

TODAY = "2026-05-29"  # T0 in Beijing
WOMAN = AYIGULI_AISHAN


def typed_by_the_clerk(**extra: str) -> dict[str, str]:
    """What a clerk types for 阿依古丽·艾山's registration card: only what only she can say."""
    return {"type": "residence_registration", "name": WOMAN.name, "name_pinyin": WOMAN.name_pinyin,
            "citizen_id": WOMAN.citizen_id, "ethnicity": "5", "address": WOMAN.address, **extra}


def registered(service: IssuerService, record_id: str) -> Permit:
    return service.get_record(record_id).permit


def test_what_the_clerk_left_empty_is_filled_by_the_server(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    clerk = signed_in(app, tokens, "clerk")
    permit = registered(service, registered_id(clerk.post("/officer/records", typed_by_the_clerk())))
    assert (permit.holder.birth_date, permit.holder.sex) == (WOMAN.birth_date, 2)  # from 650102 19950721 342 8
    assert (permit.authority_code, permit.authority_name) == (service.keyring.authority_code,
                                                              service.keyring.authority_name)
    assert permit.district == HOME  # the clerk's one district
    # The bureau's longest validity from today (Beijing): a card 12 months, ending the day before.
    assert (permit.valid_from, permit.valid_until) == (datetime.date(2026, 5, 29), datetime.date(2027, 5, 28))
    assert permit.document_number == "DJK-110105-2026-000001"
    # A man's sex from his ID (odd 17th digit).
    man = typed_by_the_clerk(name=ZHANG_WEI.name, name_pinyin=ZHANG_WEI.name_pinyin,
                             citizen_id=ZHANG_WEI.citizen_id, address=ZHANG_WEI.address)
    assert registered(service, registered_id(clerk.post("/officer/records", man))).holder.sex == 1


def test_the_clerk_may_correct_a_filled_value_and_a_contradiction_is_refused_beside_its_field(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    clerk = signed_in(app, tokens, "clerk")
    for field, value, words in (("birth_date", "1995-07-22", "与公民身份号码中的出生日期不符"),
                                ("sex", "1", "与公民身份号码中的性别不符")):
        response = clerk.post("/officer/records", typed_by_the_clerk(**{field: value}))
        assert response.status_code == 400
        page = text(response)
        assert invalid_fields(page) == [field]
        note = field_note(page, field)
        assert words in note and "Differs from" in note
    assert service.store.records_of_holder(WOMAN.citizen_id) == []
    # "not stated" (9) is no contradiction; a shorter validity than the longest is the clerk's to choose.
    shorter = typed_by_the_clerk(sex="9", valid_until="2026-12-31")
    permit = registered(service, registered_id(clerk.post("/officer/records", shorter)))
    assert (permit.holder.sex, permit.valid_until) == (9, datetime.date(2026, 12, 31))


def test_a_wrong_citizen_id_is_explained_beside_the_id_not_as_a_missing_birth_date(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    page = text(signed_in(app, tokens, "clerk").post(
        "/officer/records", typed_by_the_clerk(citizen_id=WOMAN.citizen_id[:17] + "0")))
    assert invalid_fields(page) == ["citizen_id"] and "校验码不符" in field_note(page, "citizen_id")
    # The rest of what was typed is kept, the filled values too (nothing derived from the wrong ID).
    assert re.search(rf'name="address"[^>]*value="{re.escape(WOMAN.address)}"', page)
    assert re.search(r'name="birth_date"[^>]*value=""', page)


def test_the_form_offers_lists_and_the_offices_values_and_no_document_number(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    tokens.enrol(Officer("clerk2", "柜员", Role.CLERK, ("110105", "110108")))  # a password and a TOTP secret
    page = text(signed_in(app, tokens, "clerk").get("/officer/"))
    assert 'name="document_number"' not in page and "证件号码由系统" in page
    options = re.findall(r'<option value="(\d+)" data-names="([^"]+)"', page)
    assert [int(code) for code, _ in options] == list(ETHNICITY_LABELS)  # the 56 and GB 3304's two extra codes
    assert ("5", "维吾尔族 uygur") in options and selected(page, "ethnicity") == ["1"]
    assert 'id="ethnicity-filter"' in page
    assert selected(page, "district") == [HOME] and "北京市朝阳区 110105" in page
    assert re.search(rf'name="authority_name"[^>]*value="{service.keyring.authority_name}" readonly', page)
    assert re.search(r'name="valid_from"[^>]*value="2026-05-29"', page)
    assert re.search(r'name="valid_until"[^>]*value="2027-05-28"', page)
    assert 'data-valid-until="2027-05-28"' in page  # each type's longest validity, for the script
    assert re.search(r'<script src="/officer/static/register.js" defer>', page)
    assert selected(page, "sex") == []  # from the ID unless the clerk chooses
    # An officer of two districts chooses one: none is preselected; both are offered by name.
    two = text(signed_in(app, tokens, "clerk2").get("/officer/"))
    assert selected(two, "district") == [""] and "北京市海淀区 110108" in two
    script = signed_in(app, tokens, "clerk").get("/officer/static/register.js")
    assert script.status_code == 200 and "citizen_id" in script.get_data(as_text=True)


def test_document_numbers_are_allocated_once_each_per_type_and_district(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    clerk = signed_in(app, tokens, "clerk")
    # A refused application spends no number.
    assert clerk.post("/officer/records", typed_by_the_clerk(name="Zhang")).status_code == 400
    first = registered(service, registered_id(clerk.post(
        "/officer/records", typed_by_the_clerk(document_number="DJK-110105-2026-999999"))))  # a typed one: ignored
    assert first.document_number == "DJK-110105-2026-000001"
    again = clerk.post("/officer/records", typed_by_the_clerk())  # a second live card of hers: a bureau rule
    assert again.status_code == 409
    man = typed_by_the_clerk(name=ZHANG_WEI.name, name_pinyin=ZHANG_WEI.name_pinyin,
                             citizen_id=ZHANG_WEI.citizen_id, address=ZHANG_WEI.address)
    second = registered(service, registered_id(clerk.post("/officer/records", man)))
    assert second.document_number == "DJK-110105-2026-000002"
    # Another district's or type's sequence starts at one (the API's own numbers are not touched).
    assert service.store.allocate_number("JZZ-110105-2026") == 1


def test_concurrent_registrations_get_distinct_numbers(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    """Eight windows pressing 登记 at once, each for another resident (made-up valid citizen IDs)."""
    from credential.citizen_id import citizen_id_check_digit

    ids = [f"11010519800101{n:03d}" for n in range(1, 9)]
    ids = [first17 + citizen_id_check_digit(first17) for first17 in ids]
    clerks = [signed_in(app, tokens, "clerk") for _ in ids]
    barrier = threading.Barrier(len(ids))
    numbers: list[str] = []

    def register(i: int) -> None:
        barrier.wait()
        response = clerks[i].post("/officer/records", typed_by_the_clerk(citizen_id=ids[i], ethnicity="1"))
        numbers.append(registered(service, registered_id(response)).document_number)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == [f"DJK-110105-2026-{n:06d}" for n in range(1, 9)]


def test_next_application_keeps_the_type_and_the_district_and_nothing_else(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    clerk = signed_in(app, tokens, "clerk")
    made = clerk.post("/officer/records", typed_by_the_clerk())
    page = text(clerk.get(made.headers["Location"]))
    assert "已登记 Registered" in page
    link = re.search(r'<a class="button" id="next-application" href="([^"]+)">登记下一位 Next application</a>', page)
    assert link is not None
    assert link.group(1) == "/officer/?type=residence_registration&district=110105"
    fresh = text(clerk.get(link.group(1)))
    assert selected(fresh, "type") == ["residence_registration"] and selected(fresh, "district") == [HOME]
    for name in ("name", "name_pinyin", "citizen_id", "address", "birth_date"):
        assert re.search(rf'name="{name}"[^>]*value=""', fresh), name
    # The record page opened any other way has no such link; a URL's foreign type or district is ignored.
    record_id = registered_id(made)
    assert 'id="next-application"' not in text(clerk.get(f"/officer/records/{record_id}"))
    odd = text(clerk.get("/officer/?type=passport&district=310101"))
    assert selected(odd, "type") == [] and selected(odd, "district") == [HOME]


def test_the_api_still_takes_the_document_number_it_is_given(service: IssuerService) -> None:
    """Numbers from another system or the paper process (the officer API, the bulk CSV) are kept as given:
    only the console allocates."""
    from credential.samples import sample_permit

    card = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=datetime.date(2026, 5, 1),
                         valid_until=datetime.date(2027, 4, 30), document_number="DJK-110105-2019-000777")
    record = service.register_application(card, officer="clerk")
    assert record.permit.document_number == "DJK-110105-2019-000777"
    allocated = service.register_application(
        dataclasses.replace(card, holder=WOMAN), officer="clerk", allocate_number=True)
    assert allocated.permit.document_number == "DJK-110105-2026-000001"
