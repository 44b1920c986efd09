"""The officer console's routes through Flask's test client (fast; the browser test is tests/web/): search
within and outside the districts, endorse, re-deliver, approve and deny, the supervisor's override, CSRF and
role refusals, and no 500 for bad input."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from credential.model import CredentialType
from credential.samples import sample_permit
from issuer.errors import UnauthorizedError
from issuer.http.console.words import FIELDS
from issuer.keyed import OFFICER_SESSION
from issuer.model import ReasonCode, Record, RecordState, pickup_url
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock

from .conftest import PUBLIC_URL
from .console_logins import OfficerLogins, password_of
from .office import AWAY, CARD, PERMIT

# A record of the other district held by this issuer (whose keys sign for one authority: registration refuses
# a permit naming another).
AWAY_CARD = dataclasses.replace(CARD, district=AWAY, document_number="DJK-310101-2025-000001")
OTHER = sample_permit(CredentialType.RESIDENCE_REGISTRATION, resident=1, valid_from=datetime.date(2026, 1, 5),
                      valid_until=datetime.date(2026, 12, 31))
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """A signed-in console session: the Secure cookie needs https, every POST carries the page's CSRF token."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()
        self.csrf = ""

    def get(self, path: str) -> TestResponse:
        response = self.client.get(path, base_url="https://localhost")
        self._remember(response)
        return response

    def post(self, path: str, data: dict[str, str] | None = None, *, csrf: bool = True) -> TestResponse:
        form = {**(data or {}), **({"csrf": self.csrf} if csrf else {})}
        response = self.client.post(path, data=form, base_url="https://localhost")
        self._remember(response)
        return response

    def _remember(self, response: TestResponse) -> None:
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.csrf = found.group(1)


def signed_in(app: Flask, tokens: OfficerLogins, who: str) -> Browser:
    browser = Browser(app)
    browser.get("/officer/login")
    response = browser.post("/officer/login", tokens.form(who))
    assert response.status_code == 302, response.get_data(as_text=True)
    browser.get("/officer/")
    return browser


def qr_texts(page: str) -> list[str]:
    """What each inline QR image of a page decodes to."""
    import base64
    import io

    import zxingcpp
    from PIL import Image

    found = []
    for data in re.findall(r'src="data:image/png;base64,([^"]+)"', page):
        found.extend(r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(data)))))
    return found


def text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def search_entries(service: IssuerService) -> list[Any]:
    return [e for e in service.audit.list(limit=1000) if e.action == "search_holder"]


def test_a_citizen_id_search_shows_only_the_officers_districts(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    home = service.register(CARD, officer="seed")
    away = service.register(AWAY_CARD, officer="seed")
    other = service.register(OTHER, officer="seed")
    sup = signed_in(app, tokens, "sup")
    page = sup.post("/officer/search", {"q": CARD.holder.citizen_id})
    assert page.status_code == 200
    shown = text(page)
    assert home.id in shown and CARD.document_number in shown
    assert away.id not in shown and AWAY_CARD.document_number not in shown and other.id not in shown
    assert shown.count('class="result"') == 1
    # The Shanghai officer sees the Shanghai card only; an unknown but valid ID shows an empty result.
    sh = signed_in(app, tokens, "io_sh")
    shown_sh = text(sh.post("/officer/search", {"q": CARD.holder.citizen_id.lower()}))
    assert away.id in shown_sh and home.id not in shown_sh
    assert 'id="no-results"' in text(sh.post("/officer/search", {"q": OTHER.holder.citizen_id}))
    # The audit says that searches happened, never whose.
    entries = search_entries(service)
    assert [e.reason for e in entries] == ["1 shown, 1 outside districts", "1 shown, 1 outside districts",
                                           "0 shown, 1 outside districts"]
    assert all(e.officer in ("sup", "io_sh") and e.record_id is None for e in entries)
    for entry in service.audit.list(limit=1000):
        assert CARD.holder.citizen_id not in entry.reason and OTHER.holder.citizen_id[:14] not in entry.reason
        assert CARD.holder.citizen_id[:17] not in entry.reason


@pytest.mark.parametrize("query", ["410102199003151231", "41010219900315123", "990102199003151230",
                                   "410102199013151230", "410102199003151"])
def test_a_malformed_citizen_id_is_refused_before_searching(
    app: Flask, tokens: OfficerLogins, service: IssuerService, query: str
) -> None:
    service.register(CARD, officer="seed")
    page = signed_in(app, tokens, "clerk").post("/officer/search", {"q": query})
    assert page.status_code == 400 and invalid_fields(text(page)) == ["q"]
    assert search_entries(service) == []


def test_another_districts_record_looks_exactly_like_a_missing_one(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    away = service.register(AWAY_CARD, officer="seed")
    missing = "A" * len(away.id)
    sup = signed_in(app, tokens, "sup")
    before = len(service.audit.list(limit=1000))
    foreign, absent = sup.get(f"/officer/records/{away.id}"), sup.get(f"/officer/records/{missing}")
    assert foreign.status_code == absent.status_code == 404
    assert foreign.get_data() == absent.get_data()
    by_search = sup.post("/officer/search", {"q": away.id}), sup.post("/officer/search", {"q": missing})
    assert by_search[0].status_code == by_search[1].status_code == 404
    assert by_search[0].get_data().replace(away.id.encode(), b"") == by_search[1].get_data().replace(
        missing.encode(), b"")
    actions = sup.post(f"/officer/records/{away.id}/revoke", {"reason_code": "LOST", "confirm": "1"}), sup.post(
        f"/officer/records/{missing}/revoke", {"reason_code": "LOST", "confirm": "1"})
    assert actions[0].status_code == actions[1].status_code == 404
    assert actions[0].get_data() == actions[1].get_data()
    assert service.get_record(away.id).state is RecordState.ACTIVE
    denied = [e for e in service.audit.list(limit=1000)[before:] if e.outcome == "denied"]
    assert denied and all(e.record_id == away.id and e.reason == f"district {AWAY}" for e in denied)
    # A found record by id opens its page.
    home = service.register(CARD, officer="seed")
    found = sup.post("/officer/search", {"q": home.id})
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/officer/records/{home.id}")


def permit_record(service: IssuerService) -> Record:
    service.register(CARD, officer="seed")
    return service.register(PERMIT, officer="seed")


def test_endorse_when_due_prints_a_new_pickup_sheet(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    record = permit_record(service)
    io = signed_in(app, tokens, "io")
    page = text(io.get(f"/officer/records/{record.id}"))
    assert 'id="form-endorse"' not in page and "due from 2026-11-05" in page
    early = io.post(f"/officer/records/{record.id}/endorse")
    assert early.status_code == 409 and "2026-11-05" in text(early)
    clock.now = int(datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC).timestamp())
    io = signed_in(app, tokens, "io")  # months later: the morning's session has ended
    assert 'id="form-endorse"' in text(io.get(f"/officer/records/{record.id}"))
    sheet = io.post(f"/officer/records/{record.id}/endorse")
    shown = text(sheet)
    assert sheet.status_code == 200 and 'id="pin"' in shown and "valid until 2028-01-04" in shown
    assert service.get_record(record.id).permit.valid_until == datetime.date(2028, 1, 4)
    # A clerk sees no endorse button, and the desk refuses the POST anyway.
    clerk = signed_in(app, tokens, "clerk")
    assert 'id="form-endorse"' not in text(clerk.get(f"/officer/records/{record.id}"))
    refused = clerk.post(f"/officer/records/{record.id}/endorse")
    assert refused.status_code == 403 and "may not endorse" in text(refused)


def test_redeliver_retires_the_old_phone_and_prints_a_new_sheet(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    record = service.register(CARD, officer="seed")
    offer = service.create_offer(record.id, officer="seed")
    service.deliver(service.redeem(offer.pre_authorized_code, offer.tx_code), [KeySigner.generate().public_key],
                    offer.configuration_ids[0])
    io = signed_in(app, tokens, "io")
    page = text(io.get(f"/officer/records/{record.id}"))
    assert '<option value="NEW_DEVICE" selected>更换手机 New phone</option>' in page and "stop working" in page
    sheet = io.post(f"/officer/records/{record.id}/redeliver", {"reason_code": "NEW_DEVICE", "reason": ""})
    shown = text(sheet)
    assert sheet.status_code == 200 and 'id="pin"' in shown and "1 credential(s) on the old phone" in shown
    # The sheet's QR is the https pickup page of the new offer (a phone's camera opens it), never the PIN.
    pin = re.search(r'id="pin">(\d{6})<', shown)
    assert pin is not None
    [scanned] = qr_texts(shown)
    new_offer = scanned.rsplit("/", 1)[-1]
    assert scanned == pickup_url(PUBLIC_URL, new_offer) and pin.group(1) not in scanned
    assert service.offer_by_id(new_offer).record_id == record.id
    last = [e for e in service.audit.list(limit=1000) if e.action == "redeliver"]
    assert last[-1].officer == "io" and last[-1].reason.startswith("NEW_DEVICE; retired")
    bad = io.post(f"/officer/records/{record.id}/redeliver", {"reason_code": "NOPE"})
    assert bad.status_code == 400 and "请选择原因" in text(bad) and "reason_code must" not in text(bad)
    other = io.post(f"/officer/records/{record.id}/redeliver", {"reason_code": "OTHER", "reason": ""})
    assert other.status_code == 400
    service.revoke(record.id, officer="seed", reason="x")
    assert 'id="form-redeliver"' not in text(io.get(f"/officer/records/{record.id}"))
    assert io.post(f"/officer/records/{record.id}/redeliver", {"reason_code": "NEW_DEVICE"}).status_code == 409


def test_a_pending_offer_is_approved_or_denied_by_a_supervisor(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    first = service.register(CARD, officer="seed")
    second = service.register(OTHER, officer="seed")
    io, sup = signed_in(app, tokens, "io"), signed_in(app, tokens, "sup")
    for record in (first, second):
        sheet = text(io.post(f"/officer/records/{record.id}/offer", {"pending": "1"}))
        assert 'id="note-pending"' in sheet and 'id="pin"' in sheet
    assert 'id="form-approve"' not in text(io.get(f"/officer/records/{first.id}"))
    assert io.post(f"/officer/records/{first.id}/approve").status_code == 403
    page = text(sup.get(f"/officer/records/{first.id}"))
    assert 'id="pending"' in page and 'id="form-approve"' in page and 'id="form-deny"' in page
    approved = sup.post(f"/officer/records/{first.id}/approve")
    assert approved.status_code == 303 and not service.awaiting_approval(first.id)
    assert "Approved" in text(sup.get(approved.headers["Location"]))
    assert sup.post(f"/officer/records/{first.id}/approve").status_code == 409
    assert sup.post(f"/officer/records/{second.id}/deny", {"reason": ""}).status_code == 400
    assert sup.post(f"/officer/records/{second.id}/deny", {"reason": "资料不实"}).status_code == 303
    assert service.get_record(second.id).state is RecordState.REVOKED


def registered_id(response: TestResponse) -> str:
    """The record id of a registration's redirect (/officer/records/<id>?done=registered)."""
    assert response.status_code == 302, text(response)
    path, _, query = response.headers["Location"].partition("?")
    assert query == "done=registered"
    return path.rsplit("/", 1)[1]


def register_form(permit: Any, **extra: str) -> dict[str, str]:
    data = {k: str(v) for k, v in permit.to_dict().items() if v is not None}
    return {**data, **extra}


def test_register_and_the_supervisors_override(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    service.register(dataclasses.replace(CARD, valid_from=datetime.date(2026, 4, 1)), officer="seed")
    clerk, sup = signed_in(app, tokens, "clerk"), signed_in(app, tokens, "sup")
    assert 'name="override_reason"' not in text(clerk.get("/officer/"))
    assert 'name="override_reason"' in text(sup.get("/officer/"))
    assert 'id="register"' not in text(signed_in(app, tokens, "io").get("/officer/"))
    too_short = clerk.post("/officer/records", register_form(PERMIT))
    assert too_short.status_code == 409 and "a supervisor may override" in text(too_short)
    assert sup.post("/officer/records", register_form(PERMIT)).status_code == 403  # no override: a clerk's job
    assert sup.post("/officer/records", register_form(PERMIT, override_reason="")).status_code == 400
    made = sup.post("/officer/records", register_form(PERMIT, override_reason="人才引进 talent scheme"))
    assert made.status_code == 302, text(made)
    record_id = registered_id(made)
    assert [e.reason for e in service.audit.list(limit=1000) if e.action == "override_registration"
            and e.record_id == record_id] == ["人才引进 talent scheme"]


def test_posts_without_the_sessions_csrf_token_are_refused(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    record = service.register(CARD, officer="seed")
    sup, other = signed_in(app, tokens, "sup"), signed_in(app, tokens, "sup")
    path = f"/officer/records/{record.id}/revoke"
    assert sup.post(path, {"reason_code": "LOST", "confirm": "1"}, csrf=False).status_code == 400
    assert sup.post(path, {"reason_code": "LOST", "confirm": "1", "csrf": "x" * 43}, csrf=False).status_code == 400
    assert sup.post(path, {"reason_code": "LOST", "confirm": "1", "csrf": other.csrf}, csrf=False).status_code == 400
    assert sup.post(path, {"reason_code": "LOST", "confirm": "1", "csrf": "令牌"}, csrf=False).status_code == 400
    io = signed_in(app, tokens, "io")
    for action in ("endorse", "redeliver", "offer"):
        assert io.post(f"/officer/records/{record.id}/{action}", csrf=False).status_code == 400
    assert sup.post("/officer/search", {"q": CARD.holder.citizen_id}, csrf=False).status_code == 400
    assert sup.post("/officer/records", register_form(CARD), csrf=False).status_code == 400
    assert service.get_record(record.id).state is RecordState.ACTIVE and search_entries(service) == []
    assert sup.post(path, {"reason_code": "LOST", "confirm": "1"}).status_code == 303  # with it: done


def test_roles_are_the_desks(app: Flask, tokens: OfficerLogins, service: IssuerService) -> None:
    record = service.register(CARD, officer="seed")
    clerk = signed_in(app, tokens, "clerk")
    page = text(clerk.get(f"/officer/records/{record.id}"))
    assert not any(f'id="form-{a}"' in page for a in ("offer", "revoke", "suspend", "redeliver", "endorse"))
    for action, data in (("revoke", {"reason_code": "LOST"}), ("offer", {}), ("redeliver", {})):
        refused = clerk.post(f"/officer/records/{record.id}/{action}", data)
        assert refused.status_code == 403 and "may not" in text(refused)
    assert service.get_record(record.id).state is RecordState.ACTIVE
    denied = [e.action for e in service.audit.list(limit=1000) if e.outcome == "denied" and e.officer == "clerk"]
    assert denied == ["revoke", "create_offer", "redeliver"]
    auditor = signed_in(app, tokens, "auditor")
    assert auditor.post("/officer/search", {"q": CARD.holder.citizen_id}).status_code == 403
    assert auditor.get(f"/officer/records/{record.id}").status_code == 403


@pytest.mark.parametrize("value", ["", " ", "²", "\x00", "<script>alert(1)</script>", "x" * 5000, "١٢٣", "../../",
                                   "4101021990031512３0", "%00", "X" * 18])
def test_bad_input_never_gives_a_500(
    app: Flask, tokens: OfficerLogins, service: IssuerService, value: str
) -> None:
    record = service.register(CARD, officer="seed")
    sup, clerk = signed_in(app, tokens, "sup"), signed_in(app, tokens, "clerk")
    responses = [
        sup.post("/officer/search", {"q": value}),
        clerk.post("/officer/records", register_form(CARD, sex=value, ethnicity=value, name=value)),
        clerk.post("/officer/records", {"birth_date": value, "district": value}),
        sup.post(f"/officer/records/{record.id}/suspend", {"reason_code": value, "reason": value}),
        sup.post(f"/officer/records/{record.id}/deny", {"reason": value}),
        sup.post(f"/officer/records/{record.id}/redeliver", {"reason_code": value}),
        sup.get("/officer/records/" + (value.replace("/", "") or "x")),
        sup.post("/officer/login", {"officer_id": value, "password": value, "code": value}),
        sup.post("/officer/enrol", {"code": value}),
    ]
    for response in responses:
        assert response.status_code < 500, response.get_data(as_text=True)[:500]
        assert "<script>alert" not in response.get_data(as_text=True)


COOKIE = "epermit_officer"


def saved_cookie(browser: Browser) -> str:
    cookie = browser.client.get_cookie(COOKIE, domain="localhost")
    assert cookie is not None
    return cookie.value


def replayed(app: Flask, cookie: str, path: str) -> TestResponse:
    """``path`` fetched by another client that has only the saved cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie, domain="localhost", secure=True, httponly=True)
    return thief.get(path, base_url="https://localhost")


def test_sign_out_ends_the_session_for_a_saved_cookie(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    record = service.register(CARD, officer="seed")
    sup = signed_in(app, tokens, "sup")
    cookie = saved_cookie(sup)
    assert password_of("sup") not in cookie
    assert replayed(app, cookie, f"/officer/records/{record.id}").status_code == 200  # the cookie is the session
    assert sup.post("/officer/logout").status_code == 302
    again = replayed(app, cookie, f"/officer/records/{record.id}")
    assert again.status_code == 302 and again.headers["Location"].endswith("/officer/login")
    assert sup.get(f"/officer/records/{record.id}").status_code == 302


@pytest.mark.parametrize("how", ["password", "reset_totp", "enrol_totp", "disable", "change", "expire"])
def test_a_password_change_a_totp_reset_disabling_or_a_change_end_the_session_at_once(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock, how: str
) -> None:
    record = service.register(CARD, officer="seed")
    other_session = signed_in(app, tokens, "io")  # the officer's second session
    cookie = saved_cookie(signed_in(app, tokens, "io"))
    bystander = signed_in(app, tokens, "sup")
    registry = OfficerRegistry(service.store, keyed=service.keyed, clock=clock)
    if how == "password":
        tokens.logins.set_password("io", "a new password for io")
    elif how == "reset_totp":
        tokens.logins.reset_totp("io")
    elif how == "enrol_totp":
        tokens.logins.enrol_totp("io")
    elif how == "disable":
        registry.disable("io")
    elif how == "change":
        registry.change("io", role="supervisor")
    else:
        clock.advance(8 * 3600)
    for response in (replayed(app, cookie, f"/officer/records/{record.id}"),
                     other_session.get(f"/officer/records/{record.id}")):
        assert response.status_code == 302 and response.headers["Location"].endswith("/officer/login")
    expected = 302 if how == "expire" else 200
    assert bystander.get(f"/officer/records/{record.id}").status_code == expected


def test_revoking_api_tokens_leaves_console_sessions_and_a_token_is_no_console_password(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    record = service.register(CARD, officer="seed")
    registry = OfficerRegistry(service.store, keyed=service.keyed, clock=clock)
    token = registry.issue_token("io", ttl=3600)
    io = signed_in(app, tokens, "io")
    registry.revoke_tokens("io")  # the machine's token, not the person's session
    assert io.get(f"/officer/records/{record.id}").status_code == 200
    browser = Browser(app)
    browser.get("/officer/login")
    refused = browser.post("/officer/login", {"officer_id": "io", "password": token, "code": tokens.code("io")})
    assert refused.status_code == 401 and "Wrong officer id, password or code" in refused.get_data(as_text=True)


def test_the_store_keeps_only_a_keyed_hash_of_the_session_id(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    logins = tokens.logins
    session_id = logins.open_session(logins.check("sup", password_of("sup"), tokens.code("sup")), ttl=60)
    assert service.store.officer_for_session(session_id, clock()) is None
    # nor under a plain hash a copy of the store could test a stolen cookie against: only the keyed one
    assert service.store.officer_for_session(hashlib.sha256(session_id.encode()).hexdigest(), clock()) is None
    assert service.store.officer_for_session(service.keyed.digest(OFFICER_SESSION, session_id), clock()) == "sup"
    assert logins.session_officer(session_id).id == "sup"
    assert logins.end_session(session_id) and not logins.end_session(session_id)
    with pytest.raises(UnauthorizedError):
        logins.session_officer(session_id)


def test_a_console_revocation_is_counted_once_and_a_refused_one_not(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    from issuer.http import metrics
    from tests.issuer.outage import sample

    record = service.register(CARD, officer="seed")
    sup = signed_in(app, tokens, "sup")
    before = sample(metrics.exposition().decode(), "epermit_revocations_total")
    confirmed = {"reason_code": "LOST", "confirm": "1"}
    assert sup.post(f"/officer/records/{record.id}/revoke", confirmed).status_code == 303
    assert sup.post(f"/officer/records/{record.id}/revoke", confirmed).status_code == 409  # already
    assert service.get_record(record.id).state is RecordState.REVOKED
    assert sample(metrics.exposition().decode(), "epermit_revocations_total") == before + 1


def selected(page: str, name: str) -> list[str]:
    """The values of the selected options of the select called ``name``."""
    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found is not None, name
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', found.group(1))


def test_the_register_form_keeps_every_value_after_an_error(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    clerk = signed_in(app, tokens, "clerk")
    assert selected(text(clerk.get("/officer/")), "type") == []  # nothing chosen for the clerk on a fresh form
    # A woman's registration card with a mistyped check digit: the page comes back with her choices kept,
    # so pressing 登记 again after fixing the digit registers what was meant.
    woman = sample_permit(CredentialType.RESIDENCE_REGISTRATION, resident=1, valid_from=datetime.date(2026, 1, 5),
                          valid_until=datetime.date(2026, 12, 31))
    form = register_form(woman)
    form["sex"] = "2"
    bad_digit = str((int(form["citizen_id"][17]) + 1) % 10) if form["citizen_id"][17].isdigit() else "0"
    form["citizen_id"] = form["citizen_id"][:17] + bad_digit
    again = clerk.post("/officer/records", form)
    assert again.status_code == 400
    page = text(again)
    assert selected(page, "type") == ["residence_registration"] and selected(page, "sex") == ["2"]
    for name in ("name", "name_pinyin", "birth_date", "citizen_id", "address", "valid_from", "valid_until",
                 "authority_name"):
        assert re.search(rf'name="{name}"[^>]*value="{re.escape(form[name])}"', page), name


def invalid_fields(page: str) -> list[str]:
    return re.findall(r'name="([^"]+)" aria-invalid="true" aria-describedby="why-\1" class="invalid"', page)


def field_note(page: str, name: str) -> str:
    found = re.search(rf'<span class="field-error" id="why-{name}">([^<]*)</span>', page)
    assert found is not None, name
    return found.group(1)


@pytest.mark.parametrize(("field", "value", "words"), [
    ("citizen_id", "CHECK", "校验码不符"),
    ("citizen_id", "41010219900315123", "应为18位"),
    ("valid_until", "2026-02-30", "Not a valid date"),
    ("address", "北京市\x07朝阳区", "without control or invisible characters"),
    ("ethnicity", "99", "Unknown code"),
    ("name", "Zhang", "Chinese characters only"),
    ("name", "张" * 41, "at most 30 characters"),
])
def test_a_refused_field_is_marked_and_explained_in_words_beside_it(
    app: Flask, tokens: OfficerLogins, service: IssuerService, field: str, value: str, words: str
) -> None:
    clerk = signed_in(app, tokens, "clerk")
    form = register_form(CARD)
    if value == "CHECK":
        last = form["citizen_id"][17]
        value = form["citizen_id"][:17] + ("0" if last != "0" else "1")
    form[field] = value
    response = clerk.post("/officer/records", form)
    assert response.status_code == 400
    page = text(response)
    assert invalid_fields(page) == [field]
    note = field_note(page, field)
    assert words in note and re.search("[\u4e00-\u9fff]", note) and re.search("[A-Za-z]{3}", note)
    zh, en = FIELDS[field]
    error = re.search(r'id="error">([^<]*)<', page)
    assert error is not None and zh in error.group(1) and en in error.group(1)
    # No developer's message anywhere on the page: neither the field's code name with a colon nor the reason.
    assert f"{field}:" not in page and "does not match" not in page and "must be" not in page
    assert service.store.records_of_holder(CARD.holder.citizen_id) == []  # bad input changes nothing


def test_a_malformed_citizen_id_in_the_search_box_is_explained_beside_it(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    page = text(signed_in(app, tokens, "clerk").post("/officer/search", {"q": "410102199003151231"}))
    assert invalid_fields(page) == ["q"] and "校验码不符" in field_note(page, "q")
    assert "citizen_id:" not in page


def form_of(page: str, action: str) -> str:
    found = re.search(rf'<form [^>]*id="form-{action}">(.*?)</form>', page, re.S)
    assert found is not None, action
    return found.group(1)


def test_revocation_asks_for_confirmation_and_preselects_no_reason(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    record = service.register(CARD, officer="seed")
    sup = signed_in(app, tokens, "sup")
    page = text(sup.get(f"/officer/records/{record.id}"))
    revoke = form_of(page, "revoke")
    assert selected(revoke, "reason_code") == [""]  # the "choose" line: no reason is preselected
    assert '<select name="reason_code" required' in revoke
    assert re.search(r'<input type="checkbox" name="confirm" value="1" required', revoke)
    path = f"/officer/records/{record.id}/revoke"
    before = len(service.audit.list(limit=1000))
    # Without the box ticked, without a reason, or with Other and no words: the page again, nothing revoked.
    for form, field, words in (({"reason_code": "LOST"}, "confirm", "请勾选确认"),
                               ({"confirm": "1"}, "reason_code", "请选择原因"),
                               ({"reason_code": "", "confirm": "1"}, "reason_code", "Choose a reason"),
                               ({"reason_code": "OTHER", "confirm": "1"}, "reason", "write the reason")):
        refused = sup.post(path, form)
        shown = text(refused)
        assert refused.status_code == 400 and words in shown, form
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true" aria-describedby="why-revoke-{field}"', shown)
        assert service.get_record(record.id).state is RecordState.ACTIVE
    assert len(service.audit.list(limit=1000)) == before
    done = sup.post(path, {"reason_code": "LOST", "confirm": "1"})
    assert done.status_code == 303 and service.get_record(record.id).state is RecordState.REVOKED
    assert "已吊销 Revoked" in text(sup.get(done.headers["Location"]))


def test_states_types_and_reasons_are_shown_in_words(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    from issuer.http.console.words import REASONS, STATES

    assert set(REASONS) == {code.value for code in ReasonCode} and set(STATES) == {s.value for s in RecordState}
    record = service.register(CARD, officer="seed")
    sup = signed_in(app, tokens, "sup")
    page = text(sup.get(f"/officer/records/{record.id}"))
    assert re.search(r'id="state">有效 Active<', page) and "居住登记卡 Registration card" in page
    assert "residence_registration" not in page and "所长 Supervisor" in page
    suspend = form_of(page, "suspend")
    for zh, en in REASONS.values():
        assert f">{zh} {en}</option>" in suspend
    assert not re.search(r">[A-Z_]{4,}</option>", suspend)  # no code slug as a label
    assert sup.post(f"/officer/records/{record.id}/suspend", {"reason_code": "FRAUD"}).status_code == 303
    assert re.search(r'id="state">已暂停 Suspended<', text(sup.get(f"/officer/records/{record.id}")))
    found = text(sup.post("/officer/search", {"q": CARD.holder.citizen_id}))
    assert "已暂停 Suspended" in found and ">suspended<" not in found


def section(page: str, section_id: str) -> str:
    found = re.search(rf'<section [^>]*id="{section_id}">(.*?)</section>', page, re.S)
    assert found is not None, section_id
    return found.group(1)


@pytest.mark.parametrize(("permit", "zh", "en"), [(CARD, "电子居住登记卡", "registration card"),
                                                  (PERMIT, "电子居住证", "residence permit")])
def test_the_pin_is_on_its_own_slip_never_beside_the_qr(
    app: Flask, tokens: OfficerLogins, service: IssuerService, permit: Any, zh: str, en: str
) -> None:
    if permit is PERMIT:
        record = permit_record(service)
    else:
        record = service.register(permit, officer="seed")
    page = text(signed_in(app, tokens, "io").post(f"/officer/records/{record.id}/offer"))
    sheet, slip = section(page, "pickup-sheet"), section(page, "pin-slip")
    pin = re.search(r'id="pin">(\d{6})<', slip)
    assert pin is not None
    # The part with the QR carries no PIN (nor the slip's heading); the QR itself is the https pickup page.
    assert 'id="offer-qr"' in sheet and pin.group(1) not in sheet and "取证密码 / PIN" not in sheet
    [scanned] = qr_texts(sheet)
    assert scanned.startswith(f"{PUBLIC_URL}/pickup/") and pin.group(1) not in scanned
    assert 'id="offer-qr"' not in slip and "<h2>取证密码 / PIN</h2>" in slip
    # Each part says which credential it is for; the sheet says which wallet to use, and where.
    assert zh in sheet and en in sheet.lower() and zh in slip and record.permit.document_number in slip
    assert "epermit" in section(page, "pickup-sheet").split('id="which-wallet">')[1].split("</p>")[0]
    # Its own cut line between the two parts.
    between = page[page.index('id="pickup-sheet"'):page.index('id="pin-slip"')]
    assert 'class="cut-line"' in between
