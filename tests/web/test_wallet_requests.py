"""Residents' requests in the wallet PWA (/wallet/): real headless Chromium against a real wallet API and
officer API on loopback (epermit.demo.open_office), the officers deciding over the officer API, the landlord's
Python verifier judging the old and the new credentials, and the one-time code read from the demo's SMS file
sink (issuer.notifications.FileSink). Writes docs/screenshots/wallet-services.png and wallet-requests.png on
request (EPERMIT_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import base64
import datetime
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credential.citizen_id import citizen_id_check_digit
from credential.model import CredentialType
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from epermit.demo import open_office
from epermit.http_client import HttpError, request
from issuer.notifications import FileSink, deliver_due
from issuer.officers import OfficerRegistry
from issuer.rules import beijing_day
from issuer.settings import system_clock
from keys import KeyRing
from tests.web.browser import require_browser, screenshot, wait_for
from tests.web.test_wallet_page import (
    PickupSheet,
    Served,
    all_testid,
    by_testid,
    enter_pin,
    phone,
    settled,
    verifier_cache,
    wait_ready,
    wallet_link,
)
from verifier.policy import Policy
from verifier.result import Result
from verifier.verify import verify

EAST = "110101"  # 东城区: an address change's new district, with its own clerk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_browser(wallet=True)
    now = system_clock()  # the browser signs with the real clock: so does this issuer
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 60)
    office = open_office(tmp_path_factory.mktemp("requests-office"), keyring)
    registry = OfficerRegistry(office.service.store, keyed=office.service.keyed)
    registry.add("clerk-east", name="东城柜员", role="clerk", districts=[EAST])
    office.tokens["clerk-east"] = registry.issue_token("clerk-east", ttl=3600)
    yield Served(office, keyring)
    office.stop()


def holder(served: Served, n: int, *, permit_ends_in: int) -> tuple[str, str, str]:
    """Holder ``n`` (a citizen ID of their own): a registration card valid today and a residence permit ending in
    ``permit_ends_in`` days; (the permit's record id, the card's record id, the citizen ID)."""
    first17 = f"11010519900315{n:02d}1"  # the sample's birth date; an odd 17th digit: male, like the sample
    citizen_id = first17 + citizen_id_check_digit(first17)
    service = served.office.service
    today = beijing_day(system_clock())
    card = sample_permit(CredentialType.RESIDENCE_REGISTRATION, citizen_id=citizen_id,
                         document_number=f"DJK-110105-2026-{100 + n:06d}",
                         valid_from=today - datetime.timedelta(days=300), valid_until=today + datetime.timedelta(days=90))
    card_id = service.register(card, officer="test").id
    end = today + datetime.timedelta(days=permit_ends_in)
    permit = sample_permit(citizen_id=citizen_id, document_number=f"JZZ-110105-2026-{100 + n:06d}",
                           valid_from=end - datetime.timedelta(days=360), valid_until=end)
    return service.register(permit, officer="test").id, card_id, citizen_id


def sheet_for(served: Served, record_id: str) -> PickupSheet:
    offer = served.office.service.create_offer(record_id, officer="test")
    return PickupSheet(record_id, f"{served.url}/offers/{offer.offer_id}", offer.tx_code)


def officer(served: Served, who: str, path: str, body: object | None = None) -> dict[str, Any]:
    """The officer API over HTTP, as an officer's console or script calls it."""
    try:
        answer: dict[str, Any] = request(f"{served.office.officer_server.url}/api/v1{path}", method="POST",
                                         json_body=body if body is not None else {},
                                         headers={"Authorization": f"Bearer {served.office.tokens[who]}"}).json()
    except HttpError as exc:
        return {"status": exc.status, "error": exc.error}
    return answer


def held_cards(driver: Any) -> list[dict[str, Any]]:
    """What IndexedDB holds (the cards: type, number, validity, SD-JWT VC)."""
    found: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; const open = indexedDB.open('epermit-wallet');"
        "open.onsuccess = () => { const q = open.result.transaction('cards').objectStore('cards').getAll();"
        " q.onsuccess = () => { done(q.result.map((c) => ({id: c.id, type: c.type, number: c.claims.document_number,"
        " address: c.claims.address, validUntil: c.validUntil, sdJwt: c.sdJwt}))); open.result.close(); }; };")
    return found


def everything_kept(driver: Any) -> str:
    """Every value of every IndexedDB store, localStorage and Cache Storage's URLs, as one text."""
    text: str = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; const open = indexedDB.open('epermit-wallet');"
        "open.onsuccess = async () => { const db = open.result; const out = [];"
        " for (const name of db.objectStoreNames) { out.push(await new Promise((ok) => {"
        "  const q = db.transaction(name).objectStore(name).getAll(); q.onsuccess = () => ok(JSON.stringify(q.result)); })); }"
        " db.close(); out.push(JSON.stringify({...localStorage}));"
        " for (const name of await caches.keys()) { const c = await caches.open(name);"
        "  for (const r of await c.keys()) out.push(r.url, await (await c.match(r)).text()); }"
        " done(out.join('\\n')); };")
    return text


def synced(driver: Any) -> None:
    """Press 检查状态 and wait for the statuses, then the requests and notices, to be read."""
    driver.execute_script("document.body.dataset.requests = ''")
    driver.find_element("id", "check").click()
    requests_settled(driver)


def requests_settled(driver: Any) -> None:
    wait_for(lambda: driver.execute_script("return document.body.dataset.requests === 'done'"), timeout=40,
             what="requests synced")
    settled(driver)


def rows(driver: Any) -> list[tuple[str, str]]:
    found: list[list[str]] = driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=request-row]')].map((r) => [r.dataset.kind, r.dataset.state]);")
    return [(kind, state) for kind, state in found]


def card_states(driver: Any) -> list[str]:
    found: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=card]')].map((c) => c.dataset.state);")
    return found


def judge(served: Served, sd_jwt: str, cache_dir: Path) -> Result:
    """What a landlord's `epermit verify` says now (synced first)."""
    return verify(sd_jwt, verifier_cache(served, cache_dir), policy=Policy(), now=int(time.time())).result


def holder_jwk(sd_jwt: str) -> dict[str, str]:
    payload = sd_jwt.split("~")[0].split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return dict(claims["cnf"]["jwk"])


def pick_up_shown(driver: Any, served: Served, record_id: str) -> str | None:
    """Pick up in the browser; the recovery code shown (None when none is shown)."""
    sheet = sheet_for(served, record_id)
    driver.get(wallet_link(served, sheet))
    wait_ready(driver)
    assert enter_pin(driver, sheet.pin) == "done", driver.find_element("id", "pickup-message").text
    requests_settled(driver)
    box = by_testid(driver, "recovery-code")
    return str(box.text) if box.is_displayed() else None


def open_services(driver: Any, number: str) -> None:
    for card in all_testid(driver, "card"):
        if number in card.text:
            card.find_element("css selector", "[data-testid=svc-open]").click()
            wait_for(lambda: by_testid(driver, "services").is_displayed(), what="services panel")
            return
    raise AssertionError(f"no card {number}")


def service_answer(driver: Any) -> dict[str, str]:
    wait_for(lambda: driver.execute_script("const s = document.body.dataset.svc; return s === 'done' || s === 'failed'"),
             timeout=40, what="the service's answer")
    requests_settled(driver)
    found: dict[str, str] = driver.execute_script(
        "const r = document.querySelector('[data-testid=svc-result]');"
        "return r ? {state: r.dataset.state, error: r.dataset.error, text: r.innerText} : null;")
    return found


def test_the_recovery_code_is_shown_once_at_the_first_pickup_and_never_kept(served: Served) -> None:
    permit_id, card_id, _ = holder(served, 1, permit_ends_in=200)
    driver = phone()
    try:
        code = pick_up_shown(driver, served, permit_id)
        assert code is not None and re.fullmatch(r"[A-Z0-9]{5}(-[A-Z0-9]{5}){3}", code), code
        note = driver.find_element("id", "recovery-note").text
        assert "抄写" in note and "不会保存" in note
        assert code not in everything_kept(driver)  # not in IndexedDB, localStorage or any cache
        by_testid(driver, "recovery-done").click()
        assert not by_testid(driver, "recovery-code").is_displayed() and code not in driver.page_source
        assert pick_up_shown(driver, served, card_id) is None  # the holder's second pickup: no new code
        driver.refresh()
        wait_ready(driver)
        assert not by_testid(driver, "recovery-code").is_displayed() and code not in driver.page_source
    finally:
        driver.quit()


def test_endorse_automatically_the_new_card_replaces_the_old_which_verifies_revoked(served: Served,
                                                                                  tmp_path: Path) -> None:
    permit_id, _, _ = holder(served, 2, permit_ends_in=30)  # within the window: the rules endorse at once
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        [old] = held_cards(driver)
        open_services(driver, old["number"])
        by_testid(driver, "svc-endorse").click()
        answer = service_answer(driver)
        assert answer["state"] == "approved" and "签注" in answer["text"] and "已批准" in answer["text"], answer
        wait_for(lambda: [c["validUntil"] for c in held_cards(driver)] not in ([], [old["validUntil"]]),
                 what="the renewed card")
        [new] = held_cards(driver)
        assert new["number"] == old["number"] and new["validUntil"] > old["validUntil"]
        assert holder_jwk(new["sdJwt"]) == holder_jwk(old["sdJwt"])  # the same device key
        assert judge(served, new["sdJwt"], tmp_path / "landlord") is Result.VALID
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.REVOKED
        assert rows(driver) == [("endorse", "done")]
        wait_for(lambda: card_states(driver) == ["valid"], what="the new card's status")
        assert new["validUntil"] in by_testid(driver, "card").text
    finally:
        driver.quit()


def test_endorse_needing_approval_waits_then_the_wallet_picks_the_approved_one_up(served: Served,
                                                                                 tmp_path: Path) -> None:
    permit_id, card_id, _ = holder(served, 3, permit_ends_in=30)  # due, but the holder's card is flagged: queued
    served.office.service.suspend(card_id, officer="test", reason="address check", reason_code="OTHER")
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        [old] = held_cards(driver)
        open_services(driver, old["number"])
        by_testid(driver, "svc-endorse").click()
        answer = service_answer(driver)
        assert answer["state"] == "queued" and "待审核" in answer["text"], answer
        assert rows(driver) == [("endorse", "queued")]
        assert "待审核" in by_testid(driver, "my-requests").text
        by_testid(driver, "svc-endorse").click()  # one open request per record: the service's 409, said plainly
        again = service_answer(driver)
        assert again["error"] == "request_conflict" and "正在办理" in again["text"], again
        request_id = driver.execute_script("return document.querySelector('[data-testid=request-row]').dataset.requestId")
        assert officer(served, "officer", f"/requests/{request_id}/approve")["state"] == "approved"
        synced(driver)
        wait_for(lambda: rows(driver) == [("endorse", "done")], what="done")
        [new] = held_cards(driver)
        assert new["validUntil"] > old["validUntil"] and new["id"] != old["id"]
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.REVOKED
        assert judge(served, new["sdJwt"], tmp_path / "landlord") is Result.VALID
        notices = by_testid(driver, "notices").text
        assert "签注" in notices and "已批准" in notices, notices  # request_decided, shown when it synced
        driver.execute_script("document.getElementById('notices-title').scrollIntoView()")
        screenshot(driver, "wallet-requests", tmp_path)
    finally:
        driver.quit()


def test_lost_phone_from_a_second_profile_suspends_at_once_then_the_sms_code_redelivers(
    served: Served, tmp_path: Path
) -> None:
    permit_id, card_id, citizen_id = holder(served, 4, permit_ends_in=200)
    old_phone, new_phone = phone(), phone()  # two browser profiles: two phones
    sms = tmp_path / "sms.jsonl"
    try:
        code = pick_up_shown(old_phone, served, permit_id)
        assert code is not None
        by_testid(old_phone, "recovery-done").click()
        [old] = held_cards(old_phone)
        synced(old_phone)
        assert card_states(old_phone) == ["valid"]

        new_phone.get(f"{served.url}/wallet/")
        wait_ready(new_phone)
        by_testid(new_phone, "lost-start").click()
        by_testid(new_phone, "lost-citizen-id").send_keys(citizen_id)
        by_testid(new_phone, "lost-recovery-code").send_keys("WRONG-WRONG-WRONG-WRONG")
        by_testid(new_phone, "lost-submit").click()
        wait_for(lambda: by_testid(new_phone, "lost-error").is_displayed(), what="refusal")
        assert by_testid(new_phone, "lost-error").get_attribute("data-error") == "recovery_refused"
        assert "恢复码不正确" in by_testid(new_phone, "lost-error").text
        synced(old_phone)
        assert card_states(old_phone) == ["valid"]  # a refusal changes nothing

        field = by_testid(new_phone, "lost-recovery-code")
        field.clear()
        field.send_keys(code)
        by_testid(new_phone, "lost-submit").click()
        wait_for(lambda: by_testid(new_phone, "lost-result").get_attribute("data-state") == "queued", what="queued")
        assert "已立即暂停" in by_testid(new_phone, "lost-result").text
        synced(old_phone)
        assert card_states(old_phone) == ["suspended"]  # at once
        assert "已暂停" in by_testid(old_phone, "status-text").text

        new_phone.execute_script("document.body.dataset.lost = ''")
        by_testid(new_phone, "lost-send-code").click()
        wait_for(lambda: new_phone.execute_script("return document.body.dataset.lost === 'done'"), what="code sent")
        assert "验证码已发送" in by_testid(new_phone, "lost-result").text
        new_phone.refresh()  # the wallet closed and opened again: the waiting request still takes its code
        wait_ready(new_phone)
        requests_settled(new_phone)
        assert rows(new_phone) == [("lost", "queued")]
        by_testid(new_phone, "lost-start").click()
        deliver_due(served.office.service.store, FileSink(sms), system_clock)  # the demo's SMS gateway adapter
        sent = [json.loads(line) for line in sms.read_text("utf-8").splitlines()]
        [otp] = [m for m in sent if m["kind"] == "one_time_code"]
        real = re.search(r"[0-9]{6}", otp["text_zh"]).group(0)  # type: ignore[union-attr]
        wrong = "123456" if real != "123456" else "654321"
        for typed, outcome in ((wrong, "failed"), (real, "done")):
            new_phone.execute_script("document.body.dataset.lost = ''")
            box = by_testid(new_phone, "lost-code")
            box.clear()
            box.send_keys(typed)
            by_testid(new_phone, "lost-confirm").click()
            wait_for(lambda: new_phone.execute_script("return document.body.dataset.lost") in ("done", "failed"),
                     timeout=40, what="the code's answer")
            assert new_phone.execute_script("return document.body.dataset.lost") == outcome
            if outcome == "failed":
                assert by_testid(new_phone, "lost-error").get_attribute("data-error") == "code_refused"
        requests_settled(new_phone)
        wait_for(lambda: len(held_cards(new_phone)) == 2, timeout=40, what="the new phone's cards")
        new_code = by_testid(new_phone, "recovery-code").text  # the used code is spent: a new one, once
        assert new_code and new_code != code
        assert sorted(c["type"] for c in held_cards(new_phone)) == ["residence_permit", "residence_registration"]
        assert rows(new_phone) == [("lost", "done")]
        synced(new_phone)
        assert card_states(new_phone) == ["valid", "valid"]
        for card in held_cards(new_phone):
            assert judge(served, card["sdJwt"], tmp_path / "landlord") is Result.VALID
        synced(old_phone)
        assert card_states(old_phone) == ["revoked"]
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.REVOKED
        assert served.office.service.get_record(card_id).state.value == "active"
    finally:
        old_phone.quit()
        new_phone.quit()


def test_wrong_recovery_codes_are_throttled_and_said_plainly(served: Served) -> None:
    _, _, citizen_id = holder(served, 5, permit_ends_in=200)
    driver = phone()
    try:
        driver.get(f"{served.url}/wallet/")
        wait_ready(driver)
        by_testid(driver, "lost-start").click()
        by_testid(driver, "lost-citizen-id").send_keys(citizen_id)
        seen = []
        for _ in range(6):
            driver.execute_script("document.body.dataset.lost = ''")
            field = by_testid(driver, "lost-recovery-code")
            field.clear()
            field.send_keys("WRONG-WRONG-WRONG-WRONG")
            by_testid(driver, "lost-submit").click()
            wait_for(lambda: driver.execute_script("return document.body.dataset.lost === 'failed'"), what="refusal")
            error = by_testid(driver, "lost-error")
            seen.append((error.get_attribute("data-status"), error.text))
        assert [status for status, _ in seen] == ["403"] * 5 + ["429"]
        assert "尝试次数过多" in seen[-1][1] and "分钟后" in seen[-1][1] and "未做任何更改" in seen[-1][1]
        assert held_cards(driver) == [] and rows(driver) == []  # nothing kept, nothing asked
    finally:
        driver.quit()


def test_an_address_change_to_another_district_is_approved_there_and_picked_up(served: Served, tmp_path: Path) -> None:
    permit_id, _, _ = holder(served, 6, permit_ends_in=200)
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        [old] = held_cards(driver)
        open_services(driver, old["number"])
        by_testid(driver, "svc-address").click()
        wait_for(lambda: len(driver.find_elements("css selector", "[data-testid=svc-district] option")) > 10,
                 what="the city's districts")
        from selenium.webdriver.support.ui import Select

        choices = Select(by_testid(driver, "svc-district"))
        assert "北京市东城区" in [o.text for o in choices.options][1]
        by_testid(driver, "svc-new-address").send_keys("北京市东城区东直门内大街1号")
        choices.select_by_value(EAST)
        driver.execute_script("document.getElementById('services').scrollIntoView()")
        screenshot(driver, "wallet-services", tmp_path)
        by_testid(driver, "svc-address-send").click()
        answer = service_answer(driver)
        assert answer["state"] == "queued" and "地址变更" in answer["text"], answer
        request_id = driver.execute_script("return document.querySelector('[data-testid=request-row]').dataset.requestId")
        assert officer(served, "clerk", f"/requests/{request_id}/approve")["status"] == 404  # not their district
        assert officer(served, "clerk-east", f"/requests/{request_id}/approve")["state"] == "approved"
        synced(driver)
        wait_for(lambda: rows(driver) == [("address", "done")], what="done")
        [new] = held_cards(driver)
        assert new["address"] == "北京市东城区东直门内大街1号" and new["number"] == old["number"]
        assert judge(served, new["sdJwt"], tmp_path / "landlord") is Result.VALID
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.REVOKED
    finally:
        driver.quit()


def test_deregistering_asks_to_confirm_and_is_final(served: Served, tmp_path: Path) -> None:
    _, card_id, _ = holder(served, 7, permit_ends_in=200)
    driver = phone()
    try:
        pick_up_shown(driver, served, card_id)
        [card] = held_cards(driver)
        open_services(driver, card["number"])
        assert not all_testid(driver, "svc-endorse")  # a registration card is not endorsed
        by_testid(driver, "svc-deregister").click()
        assert "不能撤回" in by_testid(driver, "services").text
        assert judge(served, card["sdJwt"], tmp_path / "landlord") is Result.VALID  # nothing until confirmed
        by_testid(driver, "svc-deregister-confirm").click()
        answer = service_answer(driver)
        assert answer["state"] == "done" and "注销" in answer["text"], answer
        driver.find_element("id", "lang").click()  # English on the switch: the service's English words
        assert "Deregistered" in by_testid(driver, "svc-result").text
        assert by_testid(driver, "svc-deregister").text == "Deregister (move away)"
        assert "Deregistration · done" in by_testid(driver, "my-requests").text
        driver.find_element("id", "lang").click()
        synced(driver)
        assert card_states(driver) == ["revoked"]
        assert judge(served, card["sdJwt"], tmp_path / "landlord") is Result.REVOKED
        assert rows(driver) == [("deregister", "done")]
    finally:
        driver.quit()


def test_an_endorsement_filed_too_early_is_refused_with_the_day_the_window_opens(served: Served) -> None:
    """endorsement_not_due in the wallet's own words with the day from the service's answer; nothing filed."""
    permit_id, _, _ = holder(served, 15, permit_ends_in=200)  # the window opens 60 days before the end
    service = served.office.service
    opens = (service.get_record(permit_id).permit.valid_until
             - datetime.timedelta(days=service.settings.endorsement_window_days)).isoformat()
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        by_testid(driver, "recovery-done").click()
        [old] = held_cards(driver)
        open_services(driver, old["number"])
        by_testid(driver, "svc-endorse").click()
        answer = service_answer(driver)
        assert answer["error"] == "endorsement_not_due", answer
        assert f"尚未到签注办理期：{opens} 起可在网上申请签注" in answer["text"] and "未提交任何申请" in answer["text"], answer
        driver.find_element("id", "lang").click()  # the same refusal in English
        driver.execute_script("document.body.dataset.svc = ''")
        by_testid(driver, "svc-endorse").click()
        again = service_answer(driver)
        assert again["error"] == "endorsement_not_due" and f"you can ask for it online from {opens}" in again["text"], again
        assert rows(driver) == [] and [c["id"] for c in held_cards(driver)] == [old["id"]]
        filed = served.office.call("GET", "/api/v1/requests?state=all")["requests"]
        assert [r for r in filed if r.get("record_id") == permit_id] == []  # refused, not queued
    finally:
        driver.quit()
