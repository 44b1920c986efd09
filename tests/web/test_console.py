"""The officer console and the verifier page together, in real Chromium against real loopback servers:
sign in, register, find the holder by citizen ID, issue (pickup sheet), a clerk cannot revoke, re-deliver to
a new phone (the old phone's pass turns REVOKED), a supervisor revokes, the verifier page reports REVOKED
after its next sync, and a POST without the CSRF token is refused."""

from __future__ import annotations

import base64
import datetime
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from credential.passclaims import PassView
from epermit.servers import BackgroundServer
from epermit.wallet import OpenId4VciClient, Wallet, WalletHome
from issuer.http.app import create_app as officer_app
from issuer.http.console.ui import ConsoleSettings
from issuer.http.context import OfficerApiSettings
from issuer.logins import ConsoleLogins
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from issuer.totp import STEP, code_at
from keys.keyring import KeyRing
from tests.issuer.console_logins import password_of
from tests.vectors.generate_web_vectors import _png
from tests.web.browser import chromium, require_browser, screenshot, upload, verdict, wait_for
from wallet_api import WalletApiSettings
from wallet_api import create_app as wallet_app


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    require_browser()
    wallet_server, officer_server = BackgroundServer(), BackgroundServer()
    now = int(time.time())
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 86400)
    settings = IssuerSettings(public_url=wallet_server.url, status_list_size=1 << 12)
    service = IssuerService(SQLiteStore(tmp_path / "epermit.sqlite3"), ring, settings)
    registry = OfficerRegistry(service.store, keyed=service.keyed)
    secrets: dict[str, bytes] = {}
    registry.add("sup1", name="王警官", role="supervisor", districts=["110105"])
    registry.add("clerk1", name="李文员", role="clerk", districts=["110105"])
    registry.add("off1", name="赵警官", role="issuing_officer", districts=["110105"])
    tokens = {name: registry.issue_token(name, ttl=3600) for name in ("sup1", "clerk1", "off1")}
    # The console takes a password and a TOTP code (tokens are the API's): each officer's, enrolled here.
    logins = ConsoleLogins(service.store, keyed=service.keyed)
    for name in ("sup1", "clerk1", "off1"):
        logins.set_password(name, password_of(name))
        secrets[name] = logins.enrol_totp(name).secret
    wallet_server.start(wallet_app(WalletApiSettings(public_url=wallet_server.url), service))
    officer_server.start(officer_app(OfficerApiSettings(), service, console=ConsoleSettings(secret_key=os.urandom(32))))
    yield {"wallet": wallet_server.url, "officer": officer_server.url, "tokens": tokens, "service": service,
           "totp": secrets}
    wallet_server.stop()
    officer_server.stop()


def current_code(secret: bytes, *, later: int = 0) -> str:
    """What the officer's authenticator app shows now, or ``later`` steps on (the servers run on the real clock
    and take a code one step either side of now)."""
    return code_at(secret, int(time.time()) + later * STEP)


def sign_in(driver: Any, url: str, officer_id: str, secret: bytes, *, later: int = 0) -> None:
    driver.get(f"{url}/officer/login")
    driver.find_element(By.NAME, "officer_id").send_keys(officer_id)
    driver.find_element(By.NAME, "password").send_keys(password_of(officer_id))
    driver.find_element(By.NAME, "code").send_keys(current_code(secret, later=later))
    driver.find_element(By.CSS_SELECTOR, "#login button").click()
    wait_for(lambda: driver.find_elements(By.ID, "search"), what=f"{officer_id} signed in")


def fill(driver: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = driver.find_element(By.CSS_SELECTOR, f"#register [name={name}]")
        driver.execute_script("arguments[0].value = arguments[1]", field, value)


def change(driver: Any, action: str, code: str, text: str) -> None:
    """Choose the reason, write the details, tick the confirmation box (revocation has one), press the button."""
    form = driver.find_element(By.ID, f"form-{action}")
    Select(form.find_element(By.NAME, "reason_code")).select_by_value(code)
    form.find_element(By.NAME, "reason").send_keys(text)
    for box in form.find_elements(By.NAME, "confirm"):
        box.click()
    form.find_element(By.TAG_NAME, "button").click()


def phone(folder: Path) -> Wallet:
    """A resident's wallet on these plain-http loopback servers (a cheap seal: a test key protects nothing)."""
    return Wallet(WalletHome(folder, create=True, scrypt_n=2**14), OpenId4VciClient(allow_http=True))


def live(wallet: Wallet) -> str:
    return wallet.qr_text(view=PassView.FULL, live=True, passphrase=lambda _: b"test", now=int(time.time()))


def verify_in_page(driver: Any, wallet_url: str, png: Path) -> dict[str, str]:
    driver.get(f"{wallet_url}/verify/")
    wait_for(lambda: driver.execute_script("return document.getElementById('sync').dataset.state === 'synced'"),
             what="verifier sync")
    upload(driver, png)
    return wait_for(lambda: verdict(driver), what="verdict")


def test_issue_revoke_and_the_verifier_sees_it(world: dict[str, Any], tmp_path: Path) -> None:
    today = datetime.date.today()
    driver = chromium(window="1100,1200")
    try:
        sign_in(driver, world["officer"], "clerk1", world["totp"]["clerk1"])
        fill(driver, {"type": "residence_registration", "name": "张伟", "name_pinyin": "ZHANG WEI", "sex": "1", "ethnicity": "1",
                      "birth_date": "1990-03-15", "citizen_id": "410102199003151230",
                      "address": "北京市朝阳区望京街道阜荣街10号院望京花园东区3号楼2单元1501室",
                      "valid_from": str(today - datetime.timedelta(days=3)),
                      "valid_until": str(today + datetime.timedelta(days=300))})
        driver.find_element(By.CSS_SELECTOR, "#register button").click()
        record_id = wait_for(lambda: driver.find_elements(By.ID, "record-id") or driver.find_elements(By.ID, "error"),
                             what="record page")[0].text
        assert driver.find_elements(By.ID, "record-id"), record_id
        assert driver.find_element(By.ID, "state").text == "有效 Active"
        # A clerk may register and read the record, but sees no revoke button, and a revoke POST carrying the
        # session's CSRF token is refused by the desk (403) and changes nothing.
        assert not driver.find_elements(By.ID, "form-revoke")
        status = driver.execute_script(
            "const csrf = document.querySelector('input[name=csrf]').value;"
            "return fetch(arguments[0], {method: 'POST', body: new URLSearchParams({csrf, reason_code: 'LOST'})})"
            ".then(r => r.status)", f"{world['officer']}/officer/records/{record_id}/revoke")
        assert status == 403
        assert world["service"].get_record(record_id).state.value == "active"
        # Search by citizen ID: the holder's records in the officer's districts.
        driver.get(f"{world['officer']}/officer/")
        driver.find_element(By.CSS_SELECTOR, "#search [name=q]").send_keys("410102199003151230")
        driver.find_element(By.CSS_SELECTOR, "#search button").click()
        rows = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#results .result"), what="search results")
        assert len(rows) == 1 and record_id in rows[0].text
        screenshot(driver, "console-search", tmp_path)
        rows[0].find_element(By.TAG_NAME, "a").click()
        wait_for(lambda: driver.find_elements(By.ID, "record-id"), what="record page from the search")
        driver.find_element(By.CSS_SELECTOR, "header form button").click()
        sign_in(driver, world["officer"], "off1", world["totp"]["off1"])
        driver.get(f"{world['officer']}/officer/records/{record_id}")
        driver.find_element(By.CSS_SELECTOR, "#form-offer button").click()
        pin = wait_for(lambda: driver.find_elements(By.ID, "pin"), what="pickup sheet")[0].text
        pickup_url = driver.find_element(By.ID, "pickup-url").text  # what the sheet's QR holds
        assert pickup_url.startswith(f"{world['wallet']}/pickup/")
        screenshot(driver, "console-pickup-sheet", tmp_path)

        # A CSRF-less POST from the signed-in browser is refused and changes nothing.
        status = driver.execute_script(
            "return fetch(arguments[0], {method: 'POST', body: new URLSearchParams({reason_code: 'LOST'})})"
            ".then(r => r.status)", f"{world['officer']}/officer/records/{record_id}/revoke")
        assert status == 400
        assert world["service"].get_record(record_id).state.value == "active"

        wallet = phone(tmp_path / "phone")
        wallet.pick_up(pickup_url, pin, lambda _: b"test")
        png = tmp_path / "live.png"
        _png(live(wallet), png)
        assert verify_in_page(driver, world["wallet"], png)["result"] == "VALID"

        # Re-deliver to a new phone: a new pickup sheet; the old phone's pass turns REVOKED on the verifier.
        driver.get(f"{world['officer']}/officer/records/{record_id}")
        driver.find_element(By.CSS_SELECTOR, "#form-redeliver button").click()
        pin = wait_for(lambda: driver.find_elements(By.ID, "pin"), what="re-delivery sheet")[0].text
        # One credential (SD-JWT VC, full and basic QR pass share its one status index).
        assert "1 credential(s) on the old phone" in driver.find_element(By.ID, "note-redelivered").text
        screenshot(driver, "console-redeliver", tmp_path)
        new_phone = phone(tmp_path / "new-phone")
        new_phone.pick_up(driver.find_element(By.ID, "pickup-url").text, pin, lambda _: b"test")
        _png(live(wallet), png)
        assert verify_in_page(driver, world["wallet"], png)["result"] == "REVOKED"
        wallet = new_phone
        _png(live(wallet), png)
        assert verify_in_page(driver, world["wallet"], png)["result"] == "VALID"

        driver.get(f"{world['officer']}/officer/")
        driver.find_element(By.CSS_SELECTOR, "header form button").click()
        sign_in(driver, world["officer"], "sup1", world["totp"]["sup1"])
        driver.get(f"{world['officer']}/officer/records/{record_id}")
        change(driver, "revoke", "LOST", "phone stolen")
        wait_for(lambda: driver.find_elements(By.ID, "done"), what="revoked")
        assert driver.find_element(By.ID, "state").text == "已吊销 Revoked"
        screenshot(driver, "console-revoked", tmp_path)

        _png(live(wallet), png)
        shown = verify_in_page(driver, world["wallet"], png)
        assert shown["result"] == "REVOKED", shown
        screenshot(driver, "verify-after-console-revoke", tmp_path)
    finally:
        driver.quit()


def test_sign_in_with_password_and_code_and_enrol_at_the_first_sign_in(world: dict[str, Any], tmp_path: Path) -> None:
    """A new officer has a password only: the first sign-in shows the enrolment QR code; the code of the key
    it shows signs in; a wrong code is refused with the reason on the page; then password + code sign in."""
    service: IssuerService = world["service"]
    OfficerRegistry(service.store, keyed=service.keyed).add("clerk2", name="孙文员", role="clerk", districts=["110105"])
    ConsoleLogins(service.store, keyed=service.keyed).set_password("clerk2", password_of("clerk2"))
    with chromium() as driver:
        driver.get(f"{world['officer']}/officer/login")
        assert "验证码" in driver.find_element(By.ID, "login").text
        screenshot(driver, "console-sign-in", tmp_path)
        driver.find_element(By.NAME, "officer_id").send_keys("clerk2")
        driver.find_element(By.NAME, "password").send_keys(password_of("clerk2"))
        driver.find_element(By.CSS_SELECTOR, "#login button").click()
        wait_for(lambda: driver.find_elements(By.ID, "enrol"), what="the enrolment page")
        key = driver.find_element(By.ID, "totp-secret").text
        assert driver.find_element(By.ID, "totp-qr").get_attribute("naturalWidth") not in (None, "0")
        screenshot(driver, "console-enrol", tmp_path)
        secret = base64.b32decode(key + "=" * (-len(key) % 8))
        wrong = "000000" if current_code(secret) != "000000" else "111111"
        driver.find_element(By.CSS_SELECTOR, "#enrol-form [name=code]").send_keys(wrong)
        driver.find_element(By.CSS_SELECTOR, "#enrol-form button").click()
        wait_for(lambda: "验证码错误" in driver.find_element(By.ID, "error").text, what="the wrong code refused")
        driver.find_element(By.CSS_SELECTOR, "#enrol-form [name=code]").send_keys(current_code(secret))
        driver.find_element(By.CSS_SELECTOR, "#enrol-form button").click()
        wait_for(lambda: driver.find_elements(By.ID, "search"), what="clerk2 signed in after enrolling")
        driver.find_element(By.CSS_SELECTOR, "header form button").click()  # sign out
        wait_for(lambda: driver.find_elements(By.ID, "login"), what="signed out")
        # The enrolment used this step's code: the next step's (one step of drift is taken) signs in.
        sign_in(driver, world["officer"], "clerk2", secret, later=1)
