"""The wallet page's live screen with a portrait: the live QR and the portrait code side by side (the basic
view too), and one camera frame of that screen verified offline by the Python verifier and the /verify/ page,
which shows the face. The portrait is the issuer's own (a clerk's upload of the public-domain test photo)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.demo import DEMO_OFFICER_IDS, open_office
from issuer.settings import system_clock
from keys import KeyRing
from tests.vectors.phone_photo import phone_photo
from tests.vectors.portrait_image import upload
from tests.web.browser import chromium, go_offline, require_browser, screenshot, settled_verdict, wait_for, write_y4m
from tests.web.test_wallet_page import (
    PHONE_WIDTH,
    PickupSheet,
    Served,
    by_testid,
    pick_up,
    pickup_sheet,
    verifier_cache,
)
from verifier.policy import Policy
from verifier.qrimage import decode_qr_symbols, pass_text, portrait_codes
from verifier.verify import verify


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """An office on loopback as tests/web/test_wallet_page.py has one (the browser signs with the real clock)."""
    require_browser(wallet=True)
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=system_clock() - 60)
    office = open_office(tmp_path_factory.mktemp("portrait-office"), keyring)
    yield Served(office, keyring)
    office.stop()


def with_portrait(served: Served) -> tuple[PickupSheet, bytes]:
    sheet = pickup_sheet(served)
    service = served.office.service
    service.set_portrait(sheet.record_id, upload(), officer=DEMO_OFFICER_IDS["clerk"])
    record = service.get_record(sheet.record_id)
    portrait = service.portrait_of(record)
    assert portrait is not None and hashlib.sha256(portrait).digest() == record.permit.holder.portrait_sha256
    return sheet, portrait


def phone_at(width: int, scale: int) -> Any:
    """A phone's screen: the narrowest the wallet is laid out for, at a phone's pixel density."""
    driver = chromium()
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 800, "deviceScaleFactor": scale, "mobile": True})
    return driver


def test_live_screen_shows_both_codes_and_one_frame_verifies(served: Served, tmp_path: Path) -> None:
    sheet, portrait = with_portrait(served)
    driver = phone_at(PHONE_WIDTH, 3)
    try:
        pick_up(driver, served, sheet)
        go_offline(driver)
        by_testid(driver, "show-live").click()
        assert by_testid(driver, "view-basic").get_attribute("aria-pressed") == "true"
        code = by_testid(driver, "portrait-code")
        wait_for(lambda: code.is_displayed() and by_testid(driver, "live-qr").get_attribute("data-signed-at"),
                 what="both codes")
        assert int(code.get_attribute("data-version")) <= 25 and code.get_attribute("data-level") == "M"
        assert code.get_attribute("data-bytes") == str(len(portrait))
        boxes = driver.execute_script(
            "return ['live-qr', 'portrait-code'].map((id) => document.getElementById(id).getBoundingClientRect())"
            ".map((r) => [r.left, r.top, r.right, r.bottom]);")
        (_, live_top, live_right, _), (face_left, face_top, face_right, _) = boxes
        assert face_left >= live_right and abs(face_top - live_top) < 40, boxes  # side by side, one frame
        assert face_right <= PHONE_WIDTH and driver.execute_script(
            "return document.documentElement.scrollWidth") <= PHONE_WIDTH
        frame = tmp_path / "screen.png"
        driver.find_element("css selector", ".codes").screenshot(str(frame))
        screenshot(driver, "wallet-portrait", tmp_path)
    finally:
        driver.quit()

    cache = verifier_cache(served, tmp_path / "cache")
    for image in (frame, phone_photo(frame, tmp_path / "photo.jpg")):
        symbols = decode_qr_symbols(image)
        assert portrait_codes(symbols) == [portrait], image
        outcome = verify(pass_text(symbols), cache, policy=Policy(), now=system_clock(),
                         portrait_codes=portrait_codes(symbols))
        assert (outcome.result, outcome.live, outcome.view, outcome.portrait) == ("VALID", True, "basic", "verified")

    # The landlord's page, its camera on the phone's screen: VALID, live, and the face shown.
    camera = chromium(camera=write_y4m(frame, tmp_path / "screen.y4m", size=960))
    try:
        camera.get(f"{served.url}/verify/")
        wait_for(lambda: camera.execute_script("return document.getElementById('sync').dataset.state === 'synced'"),
                 what="verifier sync")
        wait_for(lambda: camera.execute_script("return document.body.dataset.ready === '1'"), what="verifier ready")
        camera.find_element("id", "scan").click()
        shown = wait_for(lambda: settled_verdict(camera), timeout=30, what="camera verdict")
        assert (shown["result"], shown["live"], shown["portrait"], shown["face"]) == ("VALID", "true", "verified",
                                                                                       True), shown
        screenshot(camera, "verify-portrait-camera", tmp_path)
    finally:
        camera.quit()
