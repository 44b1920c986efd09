"""The record's history and the auditor's page in real Chromium against real loopback servers (issue 17, items
5 and 8): a resident picks up with a real wallet, a supervisor suspends and lifts, the record page shows the
history, the pickup and the masked citizen ID, "reveal" shows it (and is audited); an auditor filters the log
by the record, checks the chain, and an auditor of another district sees none of it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from credential.samples import sample_permit
from epermit.servers import BackgroundServer
from epermit.wallet import OpenId4VciClient, Wallet, WalletHome
from issuer.http.app import create_app as officer_app
from issuer.http.console.ui import ConsoleSettings
from issuer.http.context import OfficerApiSettings
from issuer.logins import ConsoleLogins
from issuer.model import ReasonCode, pickup_url
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from issuer.totp import code_at
from keys.keyring import KeyRing
from tests.issuer.console_logins import password_of
from tests.web.browser import chromium, require_browser, screenshot, wait_for
from wallet_api import WalletApiSettings
from wallet_api import create_app as wallet_app

STAFF = {"sup1": ("王警官", "supervisor", "110105"), "aud1": ("陈审计", "auditor", "110105"),
         "aud_sh": ("上海审计", "auditor", "310101")}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    require_browser()
    wallet_server, officer_server = BackgroundServer(), BackgroundServer()
    now = int(time.time())
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 86400)
    settings = IssuerSettings(public_url=wallet_server.url, status_list_size=1 << 12)
    service = IssuerService(SQLiteStore(tmp_path / "epermit.sqlite3"), ring, settings)
    registry = OfficerRegistry(service.store, keyed=service.keyed)
    for officer_id, (name, role, district) in STAFF.items():
        registry.add(officer_id, name=name, role=role, districts=[district])
    tokens = {officer_id: registry.issue_token(officer_id, ttl=3600) for officer_id in STAFF}
    logins = ConsoleLogins(service.store, keyed=service.keyed)  # the console takes a password and a TOTP code
    for officer_id in STAFF:
        logins.set_password(officer_id, password_of(officer_id))
    totp = {officer_id: logins.enrol_totp(officer_id).secret for officer_id in STAFF}
    wallet_server.start(wallet_app(WalletApiSettings(public_url=wallet_server.url), service))
    officer_server.start(officer_app(OfficerApiSettings(), service, console=ConsoleSettings(secret_key=os.urandom(32))))
    yield {"wallet": wallet_server.url, "officer": officer_server.url, "tokens": tokens, "service": service,
           "totp": totp}
    wallet_server.stop()
    officer_server.stop()


def sign_in(driver: Any, url: str, officer_id: str, secret: bytes) -> None:
    driver.get(f"{url}/officer/login")
    driver.find_element(By.NAME, "officer_id").send_keys(officer_id)
    driver.find_element(By.NAME, "password").send_keys(password_of(officer_id))
    driver.find_element(By.NAME, "code").send_keys(code_at(secret, int(time.time())))
    driver.find_element(By.CSS_SELECTOR, "#login button").click()
    wait_for(lambda: driver.find_elements(By.ID, "search"), what=f"{officer_id} signed in")


def gone(element: Any) -> bool:
    """Whether the page that held ``element`` was replaced (a form's POST or GET answered)."""
    try:
        element.is_enabled()
    except WebDriverException:  # stale, or "does not belong to the document": either way the old page is gone
        return True
    return False


def sign_out(driver: Any) -> None:
    driver.find_element(By.CSS_SELECTOR, "header form button").click()
    wait_for(lambda: driver.find_elements(By.ID, "login"), what="signed out")


def test_a_records_history_and_the_auditors_page(world: dict[str, Any], tmp_path: Path) -> None:
    service: IssuerService = world["service"]
    permit = sample_permit()
    record = service.register(permit, officer="clerk1")
    offer = service.create_offer(record.id, officer="off1")
    wallet = Wallet(WalletHome(tmp_path / "phone", create=True, scrypt_n=2**14), OpenId4VciClient(allow_http=True))
    wallet.pick_up(pickup_url(world["wallet"], offer.offer_id), offer.tx_code, lambda _: b"test")
    service.suspend(record.id, officer="sup1", reason="手机丢失，待核实", reason_code=ReasonCode.LOST)
    service.lift(record.id, officer="sup1", reason="已找回", reason_code=ReasonCode.RESOLVED)
    full_id = permit.holder.citizen_id
    driver = chromium(window="1100,1600")
    try:
        sign_in(driver, world["officer"], "sup1", world["totp"]["sup1"])
        driver.get(f"{world['officer']}/officer/records/{record.id}")
        rows = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#history tr.entry"), what="history")
        texts = [row.text for row in rows]
        assert "恢复 Lifted" in texts[0] and "问题已解决：已找回" in texts[0] and "王警官" in texts[0]
        assert "暂停 Suspended" in texts[1] and "遗失：手机丢失，待核实" in texts[1]
        assert any("居民已领取 Picked up by the resident" in t for t in texts)
        assert "登记 Registered" in texts[-1]
        assert "The resident picked up" in driver.find_element(By.ID, "picked-up").text
        citizen = driver.find_element(By.ID, "citizen-id").text
        assert full_id not in citizen and full_id[:6] + "********" + full_id[14:] in citizen
        screenshot(driver, "console-record-history", tmp_path)
        before = len(service.audit.list(limit=1000))
        masked = driver.find_element(By.ID, "citizen-id")
        driver.find_element(By.CSS_SELECTOR, "#form-reveal button").click()
        wait_for(lambda: gone(masked), what="the revealed page")
        wait_for(lambda: full_id in driver.find_element(By.ID, "citizen-id").text, what="revealed")
        [reveal] = service.audit.list(after=before, limit=10)
        assert (reveal.action, reveal.officer, reveal.record_id) == ("reveal_citizen_id", "sup1", record.id)
        sign_out(driver)

        sign_in(driver, world["officer"], "aud1", world["totp"]["aud1"])
        driver.find_element(By.ID, "nav-audit").click()
        wait_for(lambda: driver.find_elements(By.ID, "chain"), what="audit page")
        head = service.store.audit_head()
        assert head is not None and driver.find_element(By.ID, "head-seq").text == str(head[0])
        assert driver.find_element(By.ID, "head-hash").text == head[1]
        field = driver.find_element(By.CSS_SELECTOR, "#filters [name=record]")
        field.send_keys(record.id)
        unfiltered = driver.find_element(By.ID, "filters")
        driver.find_element(By.CSS_SELECTOR, "#filters button").click()
        wait_for(lambda: gone(unfiltered), what="the filtered page")
        rows = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#entries tr.entry"), what="filtered entries")
        of_record = [e for e in service.audit.list(limit=1000) if e.record_id == record.id]
        assert [int(r.get_attribute("data-seq")) for r in rows] == [e.seq for e in reversed(of_record)]
        assert "查看完整身份号码 Full citizen ID shown" in rows[0].text
        page = driver.find_element(By.ID, "chain")
        driver.find_element(By.CSS_SELECTOR, "#form-check button").click()
        wait_for(lambda: gone(page), what="the checked page")
        result = wait_for(lambda: driver.find_elements(By.ID, "chain-result"), what="chain check")[0].text
        assert "哈希链完整" in result and "The chain is intact" in result
        assert "every district, every entry from 1 to the head" in driver.find_element(By.ID, "chain-covers").text
        screenshot(driver, "console-audit", tmp_path)
        sign_out(driver)

        sign_in(driver, world["officer"], "aud_sh", world["totp"]["aud_sh"])
        driver.get(f"{world['officer']}/officer/audit?record={record.id}")
        wait_for(lambda: driver.find_elements(By.ID, "no-entries"), what="nothing of another district")
        assert record.id not in driver.find_element(By.TAG_NAME, "main").text  # the filter's input value aside
    finally:
        driver.quit()
