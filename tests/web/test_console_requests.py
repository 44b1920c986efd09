"""The residents' requests queue in Chromium: residents ask online (their wallets, real servers), the issuing
officer sees the district's queue oldest first, approves an endorsement in the page, and the resident's
wallet refreshes into the renewed credential. Writes docs/screenshots/console-requests.png on request
(EPERMIT_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By

from credential.model import CredentialType
from credential.samples import sample_permit
from epermit.wallet.requests import ResidentRequestsClient
from issuer.rules import beijing_day
from tests.web.browser import chromium, screenshot, wait_for
from tests.web.test_console import phone, sign_in, world  # noqa: F401  (world: the servers fixture)

PASS = b"test"


def resident(service: Any, folder: Path, n: int, *, ends_in: int,
             flagged: bool = False) -> tuple[ResidentRequestsClient, Any]:
    """Holder n with a registration card (suspended when ``flagged``: an endorsement then waits for an
    officer) and a picked-up residence permit ending in ``ends_in`` days."""
    today = beijing_day(service.clock())
    card = sample_permit(CredentialType.RESIDENCE_REGISTRATION, resident=n,
                         valid_from=today - datetime.timedelta(days=300), valid_until=today + datetime.timedelta(days=90))
    card_id = service.register(card, officer="seed").id
    if flagged:
        service.suspend(card_id, officer="seed", reason="address check", reason_code="OTHER")
    end = today + datetime.timedelta(days=ends_in)
    record = service.register(sample_permit(resident=n, valid_from=end - datetime.timedelta(days=360), valid_until=end),
                              officer="seed")
    offer = service.create_offer(record.id, officer="seed")
    client = ResidentRequestsClient(phone(folder))
    from issuer.model import offer_uri

    held = client.wallet.pick_up(offer_uri(service.settings.public_url, offer.offer_id), offer.tx_code,
                                 lambda _: PASS)
    return client, held


def test_the_issuing_officer_approves_an_endorsement_in_the_queue(world: dict[str, Any],  # noqa: F811
                                                                  tmp_path: Path) -> None:
    service = world["service"]
    early, early_held = resident(service, tmp_path / "early", 0, ends_in=30, flagged=True)
    endorse = early.ask("endorse", held=early_held, passphrase=lambda _: PASS)["request"]["id"]
    mover, mover_held = resident(service, tmp_path / "mover", 1, ends_in=250)
    address = mover.ask("address", held=mover_held, passphrase=lambda _: PASS,
                        body={"address": "北京市朝阳区建国路88号", "district": "110105"})["request"]["id"]
    driver = chromium(window="1200,900")
    try:
        sign_in(driver, world["officer"], "off1", world["totp"]["off1"])
        driver.find_element(By.CSS_SELECTOR, "[data-testid=nav-requests]").click()
        rows = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#requests .request"), what="the queue")
        assert [r.get_attribute("data-testid") for r in rows] == [f"request-{endorse}", f"request-{address}"]
        assert "有暂停记录" in rows[0].text and "地址变更" in rows[1].text
        assert not driver.find_elements(By.CSS_SELECTOR, f"[data-testid=approve-{address}]")  # a clerk's
        screenshot(driver, "console-requests", tmp_path)
        driver.find_element(By.CSS_SELECTOR, f"[data-testid=approve-{endorse}]").click()
        wait_for(lambda: driver.find_elements(By.ID, "done"), what="approved")
        assert "已批准" in driver.find_element(By.ID, "done").text
        remaining = driver.find_elements(By.CSS_SELECTOR, "#requests .request")
        assert [r.get_attribute("data-testid") for r in remaining] == [f"request-{address}"]
    finally:
        driver.quit()
    (renewed,) = early.refresh(lambda _: PASS)
    assert renewed.valid_until > early_held.valid_until
