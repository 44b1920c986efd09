"""The resident's wallet (/wallet/) in real headless Chromium against a real wallet API on loopback.

Pickup over OpenID4VCI in the browser, the card on the home screen, the live QR shown offline and judged by
the Python verifier and by the /verify/ page's camera, the wallet's own status after a revocation, PIN errors,
removal, and a device key that cannot be exported. Plain http on 127.0.0.1 is a secure context for WebCrypto.
"""

from __future__ import annotations

import datetime
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import qrcode
import qrcode.util
import zxingcpp
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image

from credential.model import CredentialType
from credential.passclaims import CHINA_STANDARD_TIME
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit, sample_permit_valid_at
from epermit.demo import DEMO_OFFICER_IDS, Office, open_office
from issuer.settings import system_clock
from keys import KeyRing
from tests.web.browser import (
    chromium,
    go_offline,
    phone_screen,
    require_browser,
    screenshot,
    verdict,
    wait_for,
    write_y4m,
)
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.qrimage import decode_qr_image
from verifier.sync import sync
from verifier.verify import verify

PHONE_WIDTH = 360  # the narrowest phone the wallet is laid out for


@dataclass
class Served:
    office: Office
    keyring: KeyRing

    @property
    def url(self) -> str:
        return self.office.wallet_server.url


@dataclass
class PickupSheet:
    record_id: str
    offer_url: str
    pin: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_browser(wallet=True)
    now = system_clock()  # the browser signs with the real clock: so does this issuer
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 60)
    office = open_office(tmp_path_factory.mktemp("wallet-office"), keyring)
    yield Served(office, keyring)
    office.stop()


def pickup_sheet(served: Served, kind: CredentialType = CredentialType.RESIDENCE_PERMIT, resident: int = 0) -> PickupSheet:
    service = served.office.service
    record = service.register(sample_permit_valid_at(system_clock(), kind, resident=resident),
                              officer=DEMO_OFFICER_IDS["clerk"])
    offer = service.create_offer(record.id, officer=DEMO_OFFICER_IDS["officer"])
    return PickupSheet(record.id, f"{served.url}/offers/{offer.offer_id}", offer.tx_code)


def wallet_link(served: Served, sheet: PickupSheet) -> str:
    """The pickup page's contract: /wallet/?credential_offer_uri=<URL-encoded offer URL>."""
    return f"{served.url}/wallet/?credential_offer_uri={urllib.parse.quote(sheet.offer_url, safe='')}"


def phone() -> Any:
    driver = chromium()
    phone_screen(driver, PHONE_WIDTH)
    return driver


def by_testid(driver: Any, testid: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]")


def all_testid(driver: Any, testid: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, f"[data-testid={testid}]"))


def shown_text(driver: Any, testid: str) -> str:
    """The first such element's text, read in one script (the home screen re-renders as statuses arrive)."""
    text: str = driver.execute_script(f"return document.querySelector('[data-testid={testid}]')?.innerText ?? ''")
    return text


def settled(driver: Any) -> None:
    """Wait out a status check in flight: the home screen is redrawn when it ends."""
    wait_for(lambda: driver.execute_script("return document.body.dataset.sync !== 'checking'"), what="status check")


def wait_ready(driver: Any) -> None:
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), what="wallet ready")
    settled(driver)


def enter_pin(driver: Any, pin: str) -> str:
    """Type the PIN, submit, and return the pickup's outcome (done / failed) once it has one."""
    driver.execute_script("document.body.dataset.pickup = ''")
    field = by_testid(driver, "pickup-pin")
    field.clear()
    field.send_keys(pin)
    by_testid(driver, "pickup-submit").click()
    outcome: str = wait_for(lambda: driver.execute_script(
        "const s = document.body.dataset.pickup; return s === 'done' || s === 'failed' ? s : null"),
        timeout=30, what="pickup outcome")
    settled(driver)
    return outcome


def pick_up(driver: Any, served: Served, sheet: PickupSheet) -> None:
    driver.get(wallet_link(served, sheet))
    wait_ready(driver)
    assert enter_pin(driver, sheet.pin) == "done", driver.find_element("id", "pickup-message").text


def message(driver: Any) -> str:
    text: str = driver.find_element("id", "pickup-message").text
    return text


def live_qr_png(driver: Any, target: Path) -> Path:
    canvas = by_testid(driver, "live-qr")
    wait_for(lambda: canvas.is_displayed() and canvas.get_attribute("data-signed-at"), what="live QR")
    target.write_bytes(canvas.screenshot_as_png)
    return target


def verifier_cache(served: Served, directory: Path) -> VerifierCache:
    cache = VerifierCache(directory)
    sync(served.url, cache, now=system_clock(), root_pem=served.keyring.root_certificate.public_bytes(Encoding.PEM))
    return cache


def alphanumeric_version(text: str) -> int:
    """The smallest QR version at level M for ``text`` in alphanumeric mode (python-qrcode, independent)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    code.make(fit=True)
    return int(code.version)


def test_pick_up_hold_and_show_offline_to_the_verifier(served: Served, tmp_path: Path) -> None:
    sheet = pickup_sheet(served)
    driver = phone()
    try:
        driver.get(wallet_link(served, sheet))
        wait_ready(driver)
        by_testid(driver, "pickup-pin").send_keys(sheet.pin)
        screenshot(driver, "wallet-pickup", tmp_path)
        by_testid(driver, "pickup-pin").clear()
        assert enter_pin(driver, sheet.pin) == "done", message(driver)
        assert "credential_offer_uri" not in driver.current_url  # the used offer leaves the address bar
        [card] = all_testid(driver, "card")
        text = card.text
        for shown in ("居住证", "张伟", "ZHANG WEI", "JZZ-110105", AUTHORITY_NAME, "剩余"):
            assert shown in text, (shown, text)
        citizen_id = served.office.service.get_record(sheet.record_id).permit.holder.citizen_id
        assert citizen_id not in text  # masked until the resident taps
        by_testid(driver, "reveal-id").click()
        assert citizen_id in by_testid(driver, "citizen-id").text
        by_testid(driver, "reveal-id").click()
        assert citizen_id not in by_testid(driver, "citizen-id").text
        wait_for(lambda: "有效" in shown_text(driver, "status-text") and "上次核对" in shown_text(driver, "status-text"),
                 what="first status check")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH  # no sideways scrolling
        by_testid(driver, "recovery-done").click()  # the holder's first pickup shows the recovery code once
        screenshot(driver, "wallet-home", tmp_path)

        wait_for(lambda: driver.execute_script("return navigator.serviceWorker.controller !== null"
                                               " || (location.reload(), false)"), what="service worker")
        wait_ready(driver)
        go_offline(driver)
        driver.refresh()  # the whole wallet from the service worker and IndexedDB, with no network
        wait_ready(driver)
        go_offline(driver)  # a newer Chromium resets navigator.onLine (not the cut network) on a reload
        assert driver.execute_script("return navigator.onLine") is False
        assert len(all_testid(driver, "card")) == 1
        assert "离线" in shown_text(driver, "status-text")

        by_testid(driver, "show-live").click()
        assert by_testid(driver, "view-basic").get_attribute("aria-pressed") == "true"  # the basic view by default
        png = live_qr_png(driver, tmp_path / "live.png")
        screenshot(driver, "wallet-show", tmp_path)
        scanned = decode_qr_image(png)
        [symbol] = zxingcpp.read_barcodes(Image.open(png))
        assert symbol.ec_level == "M"
        version = int(by_testid(driver, "live-qr").get_attribute("data-version"))
        assert version <= 18
        assert version == alphanumeric_version(scanned)  # byte mode would need a larger symbol
        cache = verifier_cache(served, tmp_path / "cache")
        result = verify(scanned, cache, policy=Policy(), now=system_clock())
        assert (result.result, result.live) == ("VALID", True), result.reason

        by_testid(driver, "view-full").click()
        wait_for(lambda: by_testid(driver, "live-qr").get_attribute("data-view") == "full", what="full view")
        full = verify(decode_qr_image(live_qr_png(driver, tmp_path / "full.png")), cache, policy=Policy(),
                      now=system_clock())
        assert (full.result, full.live) == ("VALID", True), full.reason
        driver.find_element("id", "show-close").click()
        entries = [e.text for e in all_testid(driver, "log-entry")]
        assert len(entries) == 2 and "完整版" in entries[0] and "简版" in entries[1], entries
    finally:
        driver.quit()

    # The /verify/ page's camera sees the wallet's screen (fake capture of the screenshot): VALID, live.
    camera = chromium(camera=write_y4m(png, tmp_path / "live.y4m"))
    try:
        camera.get(f"{served.url}/verify/")
        wait_for(lambda: camera.execute_script("return document.getElementById('sync').dataset.state === 'synced'"),
                 what="verifier sync")
        wait_for(lambda: camera.execute_script("return document.body.dataset.ready === '1'"), what="verifier ready")
        camera.find_element("id", "scan").click()
        shown = wait_for(lambda: verdict(camera), timeout=30, what="camera verdict")
        assert (shown["result"], shown["live"]) == ("VALID", "true"), shown
    finally:
        camera.quit()


@pytest.mark.slow
def test_the_live_code_is_re_signed_every_30_seconds(served: Served, tmp_path: Path) -> None:
    driver = phone()
    try:
        pick_up(driver, served, pickup_sheet(served))
        by_testid(driver, "recovery-done").click()  # the first pickup shows the recovery code once, over the cards
        go_offline(driver)
        by_testid(driver, "show-live").click()
        first = decode_qr_image(live_qr_png(driver, tmp_path / "first.png"))
        signed = int(by_testid(driver, "live-qr").get_attribute("data-signed-at"))
        time.sleep(31)
        wait_for(lambda: int(by_testid(driver, "live-qr").get_attribute("data-signed-at")) >= signed + 30,
                 what="re-signed code")
        second = decode_qr_image(live_qr_png(driver, tmp_path / "second.png"))
        assert second != first
        result = verify(second, verifier_cache(served, tmp_path / "cache"), policy=Policy(), now=system_clock())
        assert (result.result, result.live) == ("VALID", True), result.reason
    finally:
        driver.quit()


def test_a_revocation_reaches_the_wallet_when_it_is_online_again(served: Served, tmp_path: Path) -> None:
    sheet = pickup_sheet(served)
    driver = phone()
    try:
        pick_up(driver, served, sheet)
        wait_for(lambda: "有效" in shown_text(driver, "status-text"), what="valid status")
        go_offline(driver)
        served.office.call("POST", f"/api/v1/records/{sheet.record_id}/revoke",
                           {"reason_code": "OTHER", "reason": "permit surrendered"}, as_="supervisor")
        time.sleep(1)  # offline: nothing reaches the phone
        assert "已吊销" not in shown_text(driver, "status-text")
        go_offline(driver, False)
        wait_for(lambda: "已吊销" in shown_text(driver, "status-text"), timeout=30, what="revoked status")
        assert "请联系签发机关" in shown_text(driver, "status-text")
        assert by_testid(driver, "card").get_attribute("data-state") == "revoked"
        screenshot(driver, "wallet-status", tmp_path)
    finally:
        driver.quit()


def test_pickup_errors_are_said_in_words(served: Served) -> None:
    sheet = pickup_sheet(served)
    wrong = f"{(int(sheet.pin) + 1) % 1_000_000:06d}"
    driver = phone()
    try:
        driver.get(wallet_link(served, sheet))
        wait_ready(driver)
        assert enter_pin(driver, wrong) == "failed"
        assert message(driver) == "取证密码错误，还可尝试 4 次。"
        assert enter_pin(driver, wrong) == "failed"
        assert message(driver) == "取证密码错误，还可尝试 3 次。"
        driver.find_element("id", "lang").click()
        assert message(driver) == "Wrong PIN: 3 attempts left."
        driver.find_element("id", "lang").click()
        go_offline(driver)
        assert enter_pin(driver, sheet.pin) == "failed"
        assert "无法连接网络" in message(driver)
        go_offline(driver, False)
        assert enter_pin(driver, sheet.pin) == "done", message(driver)
        driver.get(wallet_link(served, sheet))  # the same sheet again: used
        wait_ready(driver)
        assert enter_pin(driver, sheet.pin) == "failed"
        assert "已使用、已过期或已作废" in message(driver)
        assert len(all_testid(driver, "card")) == 1  # nothing changed by the failed attempt
    finally:
        driver.quit()


def test_several_cards_side_by_side_and_removal_asks_first(served: Served) -> None:
    driver = phone()
    try:
        pick_up(driver, served, pickup_sheet(served))
        pick_up(driver, served, pickup_sheet(served, CredentialType.RESIDENCE_REGISTRATION, resident=1))
        titles = wait_for(lambda: driver.execute_script(  # the home screen re-renders as statuses arrive
            "return [...document.querySelectorAll('[data-testid=card] h2')].map((h) => h.textContent)"), what="cards")
        assert titles == ["居住证", "居住登记卡"]
        by_testid(driver, "remove").click()
        driver.find_element("css selector", "[data-testid=card] .confirm button.secondary").click()  # cancel
        assert len(all_testid(driver, "card")) == 2
        by_testid(driver, "remove").click()
        by_testid(driver, "confirm-remove").click()
        wait_for(lambda: len(all_testid(driver, "card")) == 1, what="removal")
        assert driver.execute_script("return document.querySelector('[data-testid=card] h2').textContent") == "居住登记卡"
    finally:
        driver.quit()


def test_the_device_key_cannot_be_exported(served: Served) -> None:
    driver = phone()
    try:
        pick_up(driver, served, pickup_sheet(served))
        outcome = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const open = indexedDB.open("epermit-wallet");
            open.onsuccess = () => {
              const get = open.result.transaction("cards").objectStore("cards").getAll();
              get.onsuccess = async () => {
                const key = get.result[0].keyPair.privateKey;
                const result = {extractable: key.extractable, type: key.type};
                for (const format of ["jwk", "pkcs8"]) {
                  try { await crypto.subtle.exportKey(format, key); result[format] = "exported"; }
                  catch (err) { result[format] = err.name; }
                }
                done(result);
              };
            };""")
        assert outcome == {"extractable": False, "type": "private", "jwk": "InvalidAccessError",
                           "pkcs8": "InvalidAccessError"}
    finally:
        driver.quit()


def test_a_card_near_its_end_and_a_suspension_are_said_with_what_to_do(served: Served) -> None:
    today = datetime.datetime.fromtimestamp(system_clock(), CHINA_STANDARD_TIME).date()
    permit = sample_permit(CredentialType.RESIDENCE_PERMIT, valid_from=today - datetime.timedelta(days=355),
                           valid_until=today + datetime.timedelta(days=9))
    service = served.office.service
    record = service.register(permit, officer=DEMO_OFFICER_IDS["clerk"])
    offer = service.create_offer(record.id, officer=DEMO_OFFICER_IDS["officer"])
    sheet = PickupSheet(record.id, f"{served.url}/offers/{offer.offer_id}", offer.tx_code)
    driver = phone()
    try:
        pick_up(driver, served, sheet)
        assert "将在 10 天后到期" in shown_text(driver, "status-text"), shown_text(driver, "status-text")
        assert "签注或续期" in shown_text(driver, "status-text")
        served.office.call("POST", f"/api/v1/records/{sheet.record_id}/suspend",
                           {"reason_code": "OTHER", "reason": "under review"}, as_="supervisor")
        driver.find_element("id", "check").click()
        wait_for(lambda: "已暂停" in shown_text(driver, "status-text"), timeout=30, what="suspended status")
        assert by_testid(driver, "card").get_attribute("data-state") == "suspended"
    finally:
        driver.quit()
