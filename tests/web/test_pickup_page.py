"""The pickup page (GET /pickup/<id>) in real headless Chromium at a 360 px wide phone screen: it fits, its
one style is not blocked by its own CSP, the language switch works without script, and the button leads to
our wallet with the offer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from selenium.webdriver.common.by import By

from credential.samples import sample_permit_valid_at
from epermit.servers import BackgroundServer
from issuer.model import Offer, offer_url, pickup_url
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing
from tests.web.browser import chromium, require_browser, screenshot
from wallet_api import WalletApiSettings, create_app


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[BackgroundServer, Offer]]:
    require_browser()
    server = BackgroundServer()
    now = int(time.time())
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    service = IssuerService(SQLiteStore(tmp_path / "epermit.sqlite3"), ring,
                            IssuerSettings(public_url=server.url, status_list_size=1 << 12))
    server.start(create_app(WalletApiSettings(public_url=server.url), service))
    record = service.register(sample_permit_valid_at(now), officer="test")
    yield server, service.create_offer(record.id, officer="test")
    server.stop()


def phone(driver: Any) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})


def test_the_pickup_page_fits_a_360px_phone_and_leads_to_the_wallet(
    served: tuple[BackgroundServer, Offer], tmp_path: Path
) -> None:
    server, offer = served
    driver = chromium()
    try:
        phone(driver)
        driver.get(pickup_url(server.url, offer.offer_id))
        assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 360
        button = driver.find_element(By.ID, "open-wallet")
        assert button.is_displayed() and button.size["width"] >= 300  # a full-width button to tap
        # The style is applied: the CSP's hash matches it (a blocked style would leave a plain blue link).
        assert button.value_of_css_property("background-color") == "rgba(139, 26, 26, 1)"
        assert button.get_attribute("href") == (f"{server.url}/wallet/?credential_offer_uri="
                                                + quote(offer_url(server.url, offer.offer_id), safe=""))
        assert not [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
        screenshot(driver, "pickup-page-zh", tmp_path)
        driver.find_element(By.ID, "lang").click()  # a plain link: no script on this page
        assert driver.execute_script("return document.documentElement.lang") == "en"
        assert "Pick up your electronic Residence Permit" in driver.find_element(By.ID, "title").text
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 360
        screenshot(driver, "pickup-page-en", tmp_path)
        driver.get(f"{server.url}/pickup/no-such-offer")
        assert "找不到此领取链接" in driver.find_element(By.TAG_NAME, "body").text
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 360
    finally:
        driver.quit()
