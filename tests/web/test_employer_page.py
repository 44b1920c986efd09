"""The employer demo's page in real headless Chromium: start a check, the CLI wallet answers the request the
page shows, and the page (refreshing itself, no script) turns to the verified result; its CSP blocks none of
its own styles. The screenshot docs/screenshots/employer-verified.png comes from here
(EPERMIT_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.model import CredentialType
from credential.samples import sample_permit_valid_at
from epermit.cli import main
from epermit.demo import open_office
from epermit.employer.serve import EmployerDemo, open_employer, write_trust_files
from epermit.tls import LoopbackCA
from keys import KeyRing
from tests.web.browser import CHROMEDRIVER, CHROMIUM, screenshot, wait_for
from verifier.cache import VerifierCache


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[EmployerDemo, Path, str]]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Debian chromium and chromium-driver are not installed")
    monkeypatch.setenv("EPERMIT_WALLET_PASSPHRASE", "a resident's own passphrase")
    now = int(time.time())
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    ca = LoopbackCA(now=now)
    office = open_office(tmp_path, ring, ca=ca)
    root = tmp_path / "root.pem"
    root.write_bytes(ring.root_certificate.public_bytes(Encoding.PEM))
    office_ca = ca.write_pem(tmp_path / "tls-ca.pem")
    employer = open_employer(wallet_api=office.wallet_server.url, wallet_tls=office.tls,
                             cache=VerifierCache(tmp_path / "employer-cache"), clock=lambda: int(time.time()),
                             root_pem=root.read_bytes())
    _, bundle = write_trust_files(employer, tmp_path / "employer", office_ca.read_bytes())
    service = office.service
    record = service.register(sample_permit_valid_at(now, CredentialType.RESIDENCE_PERMIT), officer="test")
    offer = office.call("POST", f"/api/v1/records/{record.id}/offers")
    home = tmp_path / "phone"
    assert main(["wallet", "--home", str(home), "pickup", str(offer["pickup_url"]), "--pin", str(offer["tx_code"]),
                 "--ca", str(office_ca), "--root", str(root)]) == 0
    try:
        yield employer, bundle, str(home)
    finally:
        employer.stop()
        office.stop()


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # The employer's https certificate is from its own throw-away CA, which this browser profile cannot be
    # told to trust; the wallet, which is what is under test, checks the chain (tests/epermit/test_employer.py).
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                 "--window-size=900,1000", "--lang=zh-CN", "--ignore-certificate-errors"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def test_the_employer_page_shows_the_request_then_the_verified_result(
    served: tuple[EmployerDemo, Path, str], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    employer, bundle, home = served
    driver = browser()
    try:
        driver.get(employer.url + "/")
        assert driver.execute_script("return document.documentElement.lang") == "zh-CN"
        driver.find_element(By.CSS_SELECTOR, '[data-testid="start-check"]').click()
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, '[data-testid="request-qr"]'), what="the QR")
        qr = driver.find_element(By.CSS_SELECTOR, '[data-testid="request-qr"]')
        assert qr.size["width"] >= 250 and driver.execute_script("return arguments[0].naturalWidth", qr) > 0
        uri = driver.find_element(By.CSS_SELECTOR, '[data-testid="request-uri"]').text
        link = driver.find_element(By.CSS_SELECTOR, '[data-testid="same-device-link"]').get_attribute("href")
        assert uri.startswith("openid4vp://") and link == uri
        screenshot(driver, "employer-waiting", tmp_path)
        assert main(["wallet", "--home", home, "present", uri, "--ca", str(bundle), "--yes"]) == 0
        result = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, '[data-result="VALID"]'), timeout=15,
                          what="the verified result")[0]
        assert "有效" in result.text
        # The style sheet applied (the CSP allows only its own): the verdict is green.
        assert result.value_of_css_property("background-color") == "rgba(216, 245, 220, 1)"
        claims = driver.find_element(By.CSS_SELECTOR, '[data-testid="claims"]').text
        assert "姓名 Name" in claims and "张伟" in claims and "有效期至 Valid until" in claims
        assert "公民身份号码" not in claims  # not asked for, not shown
        assert not [e for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
        screenshot(driver, "employer-verified", tmp_path)
    finally:
        driver.quit()
