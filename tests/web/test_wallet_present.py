"""The wallet PWA answers an employer's OpenID4VP request in real headless Chromium (issue 16, items 1 and 6).

A real wallet API (http on loopback, serving /wallet/ and the verifier CAs it is configured with) and a real
`epermit employer-demo` server (https on localhost, its own loopback CA). Cross-device: the employer page
shows its QR in one browser; the phone's browser holds a card picked up over OpenID4VCI and scans that QR
with Chromium's fake camera; the resident sees who asks and for what, agrees, and the employer page turns
VALID with the claims. Same device: the wallet's link opens at the consent screen; a refusal reaches the
employer as DECLINED. A request signed under a CA the wallet does not trust is refused in the wallet and
nothing at all is sent. The screenshot docs/screenshots/wallet-present.png comes from here
(EPERMIT_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.model import CredentialType
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit_valid_at
from epermit.demo import DEMO_OFFICER_IDS, Office, open_office
from epermit.employer.serve import EmployerDemo, open_employer
from epermit.tls import LoopbackCA
from issuer.settings import system_clock
from keys import KeyRing
from tests.web.browser import chromium, phone_screen, require_browser, screenshot, wait_for, write_y4m
from verifier.cache import VerifierCache


@dataclass
class Served:
    office: Office
    employer: EmployerDemo  # its CA is the one the wallet API serves to the wallet
    stranger: EmployerDemo  # signs under a CA of its own, which no one configured

    @property
    def wallet(self) -> str:
        return self.office.wallet_server.url


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_browser(wallet=True)
    base = tmp_path_factory.mktemp("present")
    now = system_clock()  # the browser judges certificates and signs KB-JWTs with the real clock
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 60)
    employer_ca = LoopbackCA(now=now)
    verifier_cas = employer_ca.write_pem(base / "verifier-cas.pem")
    (base / "office").mkdir()
    office = open_office(base / "office", keyring, verifier_ca_file=verifier_cas)
    root_pem = keyring.root_certificate.public_bytes(Encoding.PEM)

    def employer(name: str, ca: LoopbackCA | None) -> EmployerDemo:
        return open_employer(wallet_api=office.wallet_server.url, wallet_tls=None, cache=VerifierCache(base / name),
                             clock=system_clock, root_pem=root_pem, ca=ca)

    trusted = employer("employer", employer_ca)
    stranger = employer("stranger", None)
    try:
        yield Served(office, trusted, stranger)
    finally:
        stranger.stop()
        trusted.stop()
        office.stop()


def by_testid(driver: Any, testid: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]")


def text_of(driver: Any, testid: str) -> str:
    text: str = driver.execute_script(f"return document.querySelector('[data-testid={testid}]')?.innerText ?? ''")
    return text


def present_state(driver: Any, *states: str) -> str:
    state: str = wait_for(lambda: driver.execute_script(
        "const s = document.body.dataset.present; return arguments[0].includes(s) ? s : null", list(states)),
        timeout=30, what=f"the presentation screen to be {' or '.join(states)}")
    return state


def pick_up(driver: Any, served: Served) -> None:
    """A residence permit picked up in this browser (OpenID4VCI, the wallet's pickup screen)."""
    service = served.office.service
    record = service.register(sample_permit_valid_at(system_clock(), CredentialType.RESIDENCE_PERMIT),
                              officer=DEMO_OFFICER_IDS["clerk"])
    offer = service.create_offer(record.id, officer=DEMO_OFFICER_IDS["officer"])
    offer_url = f"{served.wallet}/offers/{offer.offer_id}"
    driver.get(f"{served.wallet}/wallet/?credential_offer_uri={urllib.parse.quote(offer_url, safe='')}")
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), what="wallet ready")
    by_testid(driver, "pickup-pin").send_keys(offer.tx_code)
    by_testid(driver, "pickup-submit").click()
    assert wait_for(lambda: driver.execute_script(
        "const s = document.body.dataset.pickup; return s === 'done' || s === 'failed' ? s : null"),
        timeout=30, what="pickup") == "done"


def start_check(driver: Any, employer: EmployerDemo) -> tuple[str, str]:
    """The employer page in ``driver``: a new check; returns its page URL and the request URI it shows."""
    driver.get(employer.url + "/")
    by_testid(driver, "start-check").click()
    wait_for(lambda: driver.find_elements("css selector", "[data-testid=request-qr]"), what="the request QR")
    return driver.current_url, text_of(driver, "request-uri")


def employer_result(driver: Any, page: str, code: str) -> Any:
    if driver.current_url != page:
        driver.get(page)
    return wait_for(lambda: driver.find_elements("css selector", f'[data-result="{code}"]'), timeout=20,
                    what=f"the employer page to show {code}")[0]


def qr_clip(driver: Any, target: Path) -> Path:
    """The employer page's QR image (a data: PNG) as a y4m clip for Chromium's fake camera."""
    source: str = by_testid(driver, "request-qr").get_attribute("src")
    assert source.startswith("data:image/png;base64,")
    png = target.with_suffix(".png")
    png.write_bytes(base64.b64decode(source.split(",", 1)[1]))
    return write_y4m(png, target)


def test_cross_device_the_wallet_scans_the_employer_qr_and_the_employer_sees_valid(
    served: Served, tmp_path: Path
) -> None:
    employer_page = chromium(window="900,1000", insecure_tls=True)
    try:
        page, uri = start_check(employer_page, served.employer)
        assert uri.startswith("openid4vp://")
        phone = chromium(camera=qr_clip(employer_page, tmp_path / "request.y4m"), insecure_tls=True)
        try:
            phone_screen(phone)
            pick_up(phone, served)
            by_testid(phone, "vp-open").click()
            by_testid(phone, "vp-scan").click()
            assert present_state(phone, "consent", "refused") == "consent", text_of(phone, "vp-error")
            verifier = text_of(phone, "vp-verifier")
            assert "localhost" in verifier and "示例科技有限公司" in verifier and "Example Technology" in verifier
            claims = phone.execute_script(
                "return [...document.querySelectorAll('[data-testid=vp-claims] li')].map((li) => li.dataset.claim)")
            assert claims == ["name", "document_number", "authority_name"]
            assert "姓名" in text_of(phone, "vp-claims") and "签发机关" in text_of(phone, "vp-claims")
            by_testid(phone, "vp-accept").click()
            # The verifier's redirect_uri takes the resident to its own page: the verdict, no claims.
            wait_for(lambda: phone.current_url.startswith(served.employer.url + "/done"), what="the redirect")
        finally:
            phone.quit()
        result = employer_result(employer_page, page, "VALID")
        assert "有效" in result.text
        shown = text_of(employer_page, "claims")
        assert "张伟" in shown and AUTHORITY_NAME in shown
        assert "公民身份号码" not in shown  # not asked for, not sent
    finally:
        employer_page.quit()


def test_same_device_link_opens_consent_and_a_refusal_reaches_the_employer_as_declined(
    served: Served, tmp_path: Path
) -> None:
    employer_page = chromium(window="900,1000", insecure_tls=True)
    phone = chromium(insecure_tls=True)
    try:
        phone_screen(phone)
        pick_up(phone, served)
        page, uri = start_check(employer_page, served.employer)
        web_wallet = by_testid(employer_page, "web-wallet-link").get_attribute("href")
        assert web_wallet == f"{served.wallet}/wallet/?openid4vp={urllib.parse.quote(uri, safe='')}"
        phone.get(web_wallet)  # the employer page's link, followed on the phone
        assert present_state(phone, "consent", "refused") == "consent", text_of(phone, "vp-error")
        assert by_testid(phone, "vp-request").is_displayed()
        assert "openid4vp" not in phone.current_url  # the link leaves the address bar
        assert phone.execute_script("return document.documentElement.lang") == "zh-CN"
        phone_screen(phone, height=920)  # the whole consent screen in the picture
        phone.execute_script("document.activeElement?.blur(); window.scrollTo(0, 0)")
        screenshot(phone, "wallet-present", tmp_path)
        assert not [e for e in phone.get_log("browser") if "Content Security Policy" in e["message"]]
        by_testid(phone, "vp-decline").click()
        assert present_state(phone, "declined", "refused") == "declined", text_of(phone, "vp-error")
        assert "已拒绝" in text_of(phone, "vp-done")
        result = employer_result(employer_page, page, "DECLINED")
        assert result.is_displayed()
        assert not employer_page.find_elements("css selector", "[data-testid=claims]")
    finally:
        phone.quit()
        employer_page.quit()


def test_a_request_under_an_untrusted_ca_is_refused_and_nothing_is_sent(served: Served) -> None:
    checks = served.stranger.checks
    view_id = checks.start(now=system_clock())
    outcome = checks.outcome(view_id, now=system_clock())
    assert outcome is not None
    uri = outcome.pending.authorization_uri
    phone = chromium(insecure_tls=True)
    try:
        phone_screen(phone)
        pick_up(phone, served)
        by_testid(phone, "vp-open").click()
        by_testid(phone, "vp-link").send_keys(uri)
        by_testid(phone, "vp-link-submit").click()
        assert present_state(phone, "consent", "refused") == "refused"
        error = by_testid(phone, "vp-error")
        assert error.get_attribute("data-kind") == "untrusted"
        assert "未发送任何信息" in error.text
        assert not by_testid(phone, "vp-request").is_displayed()
        # A trusted employer's request behind a link that claims another host: the leaf does not name it.
        trusted = served.employer.checks
        other_view = trusted.start(now=system_clock())
        pending = trusted.outcome(other_view, now=system_clock())
        assert pending is not None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(pending.pending.authorization_uri).query)
        forged = "openid4vp://?" + urllib.parse.urlencode({"client_id": "x509_san_dns:127.0.0.1",
                                                          "request_uri": query["request_uri"][0]})
        field = by_testid(phone, "vp-link")
        field.clear()
        field.send_keys(forged)
        phone.execute_script("document.body.dataset.present = ''")
        by_testid(phone, "vp-link-submit").click()
        assert present_state(phone, "consent", "refused") == "refused"
        assert by_testid(phone, "vp-error").get_attribute("data-kind") == "untrusted"
        time.sleep(0.5)  # anything the page might still send would have arrived by now
        for who, view in ((checks, view_id), (trusted, other_view)):
            after = who.outcome(view, now=system_clock())
            assert after is not None and after.result is None  # neither heard anything, not even a refusal
    finally:
        phone.quit()
