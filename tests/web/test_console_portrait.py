"""The console's portrait page in real Chromium: a clerk uploads a photo, sees exactly what will be issued,
keeps it; the record then carries that portrait's digest, and an officer of another district sees nothing."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from credential.samples import sample_permit
from epermit.servers import BackgroundServer
from issuer.http.app import create_app as officer_app
from issuer.http.console.ui import ConsoleSettings
from issuer.http.context import OfficerApiSettings
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys.keyring import KeyRing
from tests.conftest import T0
from tests.portrait_support import encoded, source_image
from tests.web.browser import chromium, require_browser, screenshot, wait_for
from tests.web.test_console import sign_in


@pytest.fixture
def office(tmp_path: Path) -> Iterator[dict[str, Any]]:
    require_browser()
    server = BackgroundServer()
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=T0 - 86400)
    service = IssuerService(SQLiteStore(tmp_path / "epermit.sqlite3"), ring, IssuerSettings("http://127.0.0.1:9"),
                            clock=lambda: T0)
    registry = OfficerRegistry(service.store, keyed=service.keyed, clock=lambda: T0)
    registry.add("clerk1", name="李文员", role="clerk", districts=["110105"])
    registry.add("sup_sh", name="上海所长", role="supervisor", districts=["310101"])
    tokens = {name: registry.issue_token(name, ttl=3600) for name in ("clerk1", "sup_sh")}
    record = service.register(sample_permit(), officer="seed")
    server.start(officer_app(OfficerApiSettings(), service, console=ConsoleSettings(secret_key=os.urandom(32))))
    yield {"url": server.url, "tokens": tokens, "service": service, "record": record.id}
    server.stop()


def test_a_clerk_uploads_previews_and_keeps_the_portrait(office: dict[str, Any], tmp_path: Path) -> None:
    photo = tmp_path / "zhang-wei.jpg"
    # A camera-sized photo: far over the API's 64 KiB JSON cap, which the photo routes do not apply.
    photo.write_bytes(encoded(source_image().resize((1200, 1500)), "JPEG", quality=95))
    assert photo.stat().st_size > 200 * 1024
    driver = chromium(window="900,1000")
    try:
        sign_in(driver, office["url"], "clerk1", office["tokens"]["clerk1"])
        driver.get(f"{office['url']}/officer/records/{office['record']}")
        driver.find_element(By.CSS_SELECTOR, "[data-testid=record-portrait-link]").click()
        wait_for(lambda: driver.find_elements(By.ID, "no-portrait"), what="the portrait page")
        driver.find_element(By.CSS_SELECTOR, "[data-testid=portrait-file]").send_keys(str(photo))
        driver.find_element(By.CSS_SELECTOR, "[data-testid=portrait-preview-button]").click()
        preview = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "[data-testid=portrait-preview]"),
                           what="the preview")[0]
        # The browser decodes the WebP: the preview has its natural 96×120 pixels.
        size = driver.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", preview)
        assert size == [96, 120]
        shown = base64.b64decode(preview.get_attribute("src").split(",", 1)[1])
        assert int(driver.find_element(By.ID, "preview-bytes").text) == len(shown) <= 997
        assert office["service"].store.get_portrait(office["record"]) is None  # a preview writes nothing
        screenshot(driver, "console-portrait", tmp_path)
        driver.find_element(By.CSS_SELECTOR, "[data-testid=portrait-keep]").click()
        wait_for(lambda: driver.find_elements(By.ID, "done"), what="kept")
        record = office["service"].get_record(office["record"])
        assert record.permit.holder.portrait_sha256 == hashlib.sha256(shown).digest()  # exactly what was shown
        current = driver.find_element(By.CSS_SELECTOR, "[data-testid=portrait-current]")
        assert base64.b64decode(current.get_attribute("src").split(",", 1)[1]) == shown
        # An officer of another district: the page answers like a missing record, with no image.
        driver.find_element(By.CSS_SELECTOR, "header form button").click()
        sign_in(driver, office["url"], "sup_sh", office["tokens"]["sup_sh"])
        driver.get(f"{office['url']}/officer/records/{office['record']}/portrait")
        assert driver.find_elements(By.ID, "error") and not driver.find_elements(By.CSS_SELECTOR, "img.portrait")
    finally:
        driver.quit()
