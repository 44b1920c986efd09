"""The wallet PWA logs in to the bureau's service by OpenID4VP and renews through the authorization code flow
(issue 16, items 1 and 2), in real headless Chromium against a real https office (epermit.demo.open_office
with a loopback CA): the login request is signed under that CA, which the wallet API serves to the wallet as a
verifier CA (/wallet/verifiers.json), as `epermit demo` does with verifier-cas.pem.

An endorsement: the resident sees who asks and for which claims, agrees, the request goes with the DPoP-bound
session; the renewal's login asks again, a refusal leaves everything as it was until 刷新, then the new
credential (later validity, the same device key) replaces the old one, which verifies REVOKED. A refused login:
no request, no change. What the wallet sent is read from the server side (Flask's request_started signal)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.demo import open_office
from epermit.tls import LoopbackCA
from issuer.officers import OfficerRegistry
from issuer.settings import system_clock
from keys import KeyRing
from tests.web.browser import chromium, phone_screen, require_browser, screenshot, wait_for
from tests.web.test_wallet_page import PHONE_WIDTH, Served, by_testid
from tests.web.test_wallet_requests import (
    EAST,
    card_states,
    held_cards,
    holder,
    holder_jwk,
    open_services,
    pick_up_shown,
    requests_settled,
    rows,
    service_answer,
)
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result
from verifier.sync import sync
from verifier.verify import verify


@dataclass
class LoggedServed(Served):
    seen: list[tuple[str, str, str]]  # (method, path, Authorization scheme) of every wallet API request


@contextlib.contextmanager
def logged_office(base: Path, *, dpop_nonce_required: bool = False) -> Iterator[LoggedServed]:
    """An https office whose login request is signed under the loopback CA the wallet API serves as a verifier
    CA; every request to its wallet API recorded."""
    require_browser(wallet=True)
    now = system_clock()  # the browser signs with the real clock: so does this issuer
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 60)
    ca = LoopbackCA(now=now)
    (base / "office").mkdir()
    office = open_office(base / "office", keyring, ca=ca, verifier_ca_file=ca.write_pem(base / "verifier-cas.pem"),
                         dpop_nonce_required=dpop_nonce_required)
    seen: list[tuple[str, str, str]] = []
    wallet_port = f":{office.wallet_server.url.rsplit(':', 1)[1]}"

    def record(sender: object, **extra: object) -> None:
        if flask.request.host.endswith(wallet_port):
            scheme = flask.request.headers.get("Authorization", "").partition(" ")[0]
            seen.append((flask.request.method, flask.request.path, scheme))

    flask.request_started.connect(record)
    try:
        yield LoggedServed(office, keyring, seen)
    finally:
        flask.request_started.disconnect(record)
        office.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedServed]:
    with logged_office(tmp_path_factory.mktemp("login")) as made:
        yield made


@pytest.fixture(scope="module")
def nonce_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedServed]:
    with logged_office(tmp_path_factory.mktemp("login-nonce"), dpop_nonce_required=True) as made:
        yield made


def phone() -> Any:
    driver = chromium(insecure_tls=True)  # the office's loopback CA; the wallet checks the login's chain itself
    phone_screen(driver, PHONE_WIDTH)
    return driver


def judge(served: Served, sd_jwt: str, cache_dir: Path) -> Result:
    """What a landlord's `epermit verify` says now (synced over the office's https first)."""
    cache = VerifierCache(cache_dir)
    root = served.keyring.root_certificate.public_bytes(Encoding.PEM)
    sync(served.url, cache, now=system_clock(), root_pem=root if not cache.has_root() else None, tls=served.office.tls)
    return verify(sd_jwt, cache, policy=Policy(), now=int(time.time())).result


def consent_shown(driver: Any) -> dict[str, Any]:
    """The presentation screen asking for the bureau's login: who, which claims, why."""
    wait_for(lambda: driver.execute_script("return document.body.dataset.present === 'consent'"), timeout=40,
             what="the consent screen")
    found: dict[str, Any] = driver.execute_script(
        "const purpose = document.querySelector('[data-testid=vp-purpose]');"
        "return {host: document.querySelector('[data-testid=vp-host]').innerText,"
        " claims: [...document.querySelectorAll('[data-testid=vp-claims] li')].map((li) => li.dataset.claim),"
        " card: document.querySelector('[data-testid=vp-card]').innerText,"
        " purpose: purpose.hidden ? null : purpose.innerText};")
    return found


def press(driver: Any, testid: str) -> None:
    """Click once the button holds still: the services panel is redrawn whenever a status or a request syncs."""
    from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException

    def clicked() -> bool:
        try:
            by_testid(driver, testid).click()
        except (StaleElementReferenceException, ElementClickInterceptedException):
            return False
        return True

    wait_for(clicked, what=f"a click on {testid}")


def answer_consent(driver: Any, agree: bool) -> None:
    press(driver, "vp-accept" if agree else "vp-decline")
    wait_for(lambda: driver.execute_script("return document.body.dataset.present !== 'consent'"), what="answered")


def requests_of(served: Served, record_id: str) -> list[tuple[str, str]]:
    """(kind, state) of every resident request of ``record_id``, as the officer API lists them."""
    found = served.office.call("GET", "/api/v1/requests?state=all")["requests"]
    assert isinstance(found, list)
    return [(str(r["kind"]), str(r["state"])) for r in found if r.get("record_id") == record_id]


def called(served: LoggedServed, since: int) -> list[tuple[str, str, str]]:
    return served.seen[since:]


def test_an_endorsement_logs_in_once_then_renews_through_the_code_flow_and_the_old_credential_is_revoked(
    served: LoggedServed, tmp_path: Path
) -> None:
    permit_id, _, _ = holder(served, 11, permit_ends_in=30)  # within the window: the rules endorse at once
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        by_testid(driver, "recovery-done").click()
        [old] = held_cards(driver)
        start = len(served.seen)
        open_services(driver, old["number"])
        press(driver, "svc-endorse")

        asked = consent_shown(driver)  # who asks and for what, before anything is sent
        assert asked["host"] == "127.0.0.1"
        assert asked["claims"] == ["citizen_id", "name", "document_number"]
        assert old["number"] in asked["card"] and "登录网上办事" in (asked["purpose"] or "")
        assert driver.execute_script("return document.body.dataset.login") == "consent"
        assert ("POST", "/resident/requests", "DPoP") not in called(served, start)
        screenshot(driver, "wallet-login", tmp_path)
        answer_consent(driver, True)

        # The renewal's own login (the code flow): refused first, nothing changes and it is not asked again...
        renewal = consent_shown(driver)
        assert "领取新证件" in (renewal["purpose"] or "") and renewal["claims"] == asked["claims"]
        answer_consent(driver, False)
        answer = service_answer(driver)
        assert answer["state"] == "approved" and "刷新" in answer["text"] and "epermit" not in answer["text"], answer
        assert driver.execute_script("return document.body.dataset.login") == "done"
        assert [(c["id"], c["validUntil"]) for c in held_cards(driver)] == [(old["id"], old["validUntil"])]
        assert rows(driver) == [("endorse", "approved")]
        assert by_testid(driver, "request-error").get_attribute("data-error") == "login_refused"
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.VALID

        # ...until the resident taps 刷新: then the renewal's login, and the new credential.
        driver.execute_script("document.body.dataset.requests = ''")
        driver.find_element("id", "check").click()
        consent_shown(driver)
        answer_consent(driver, True)
        requests_settled(driver)
        wait_for(lambda: rows(driver) == [("endorse", "done")], timeout=40, what="done")
        [new] = held_cards(driver)
        assert new["number"] == old["number"] and new["validUntil"] > old["validUntil"] and new["id"] != old["id"]
        assert holder_jwk(new["sdJwt"]) == holder_jwk(old["sdJwt"])  # the SAME device key
        assert judge(served, new["sdJwt"], tmp_path / "landlord") is Result.VALID
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.REVOKED
        wait_for(lambda: card_states(driver) == ["valid"], what="the new card's status")
        assert requests_of(served, permit_id) == [("endorse", "done")]

        sent = called(served, start)
        paths = [(method, path) for method, path, _ in sent]
        assert ("POST", "/resident/requests", "DPoP") in sent  # the session, not a presentation per request
        assert ("POST", "/resident/nonce") not in paths and not any(s == "Presentation" for *_, s in sent)
        assert ("GET", "/resident/notifications", "DPoP") in sent  # the notices with the live session
        assert [p for p in paths if p[1] == "/resident/session"] == [("POST", "/resident/session")]  # one login
        for step in (("POST", "/par"), ("GET", "/authorize"), ("POST", "/token"), ("POST", "/credential"),
                     ("POST", "/notification")):
            assert step in paths, step
        renewal_calls = [(p, s) for m, p, s in sent if m == "POST" and p in ("/credential", "/notification")]
        # The renewal's DPoP-bound token: the permit's SD-JWT VC and its two passes, each then confirmed.
        assert sorted(renewal_calls) == [("/credential", "DPoP")] * 3 + [("/notification", "DPoP")] * 3
        assert not any(p.endswith("/delivery") for _, p in paths)  # no offers redeemed: the code flow
    finally:
        driver.quit()


def test_a_refused_login_makes_no_request_and_changes_nothing(served: LoggedServed, tmp_path: Path) -> None:
    permit_id, _, _ = holder(served, 12, permit_ends_in=30)
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        by_testid(driver, "recovery-done").click()
        [old] = held_cards(driver)
        start = len(served.seen)
        open_services(driver, old["number"])
        press(driver, "svc-endorse")
        consent_shown(driver)
        answer_consent(driver, False)
        answer = service_answer(driver)
        assert answer["error"] == "login_refused" and "拒绝了登录" in answer["text"], answer
        assert driver.execute_script("return document.body.dataset.login") == "refused"
        paths = [(method, path) for method, path, _ in called(served, start)]
        assert ("POST", "/resident/login/response") in paths  # the service heard access_denied...
        assert ("POST", "/resident/session") not in paths and ("POST", "/resident/requests") not in paths  # ...only
        assert rows(driver) == [] and [c["id"] for c in held_cards(driver)] == [old["id"]]
        assert requests_of(served, permit_id) == []
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.VALID
        assert card_states(driver) == ["valid"]
    finally:
        driver.quit()


def test_every_dpop_proof_is_sent_again_with_the_servers_nonce_when_it_asks_for_one(
    nonce_served: LoggedServed, tmp_path: Path
) -> None:
    """dpop_nonce_required: the session, the requests, PAR, the token and the credentials each first answer
    use_dpop_nonce (400, or 401 with the DPoP challenge) with a DPoP-Nonce; the wallet signs again with it."""
    served = nonce_served
    permit_id, _, _ = holder(served, 13, permit_ends_in=30)
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)  # a Bearer token: no DPoP, no nonce
        by_testid(driver, "recovery-done").click()
        [old] = held_cards(driver)
        start = len(served.seen)
        open_services(driver, old["number"])
        press(driver, "svc-endorse")
        consent_shown(driver)
        answer_consent(driver, True)
        consent_shown(driver)  # the renewal's login
        answer_consent(driver, True)
        assert service_answer(driver)["state"] == "approved"
        wait_for(lambda: rows(driver) == [("endorse", "done")], timeout=40, what="done")
        [new] = held_cards(driver)
        assert new["validUntil"] > old["validUntil"] and holder_jwk(new["sdJwt"]) == holder_jwk(old["sdJwt"])
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.REVOKED
        paths = [(method, path) for method, path, _ in called(served, start)]
        # The first proof carried no nonce: refused, then sent once more with it. Later ones carry the newest.
        assert paths.count(("POST", "/resident/session")) == 2
        assert paths.count(("POST", "/resident/requests")) == 1 and paths.count(("POST", "/token")) == 1
    finally:
        driver.quit()


def test_an_address_change_approved_later_is_renewed_through_the_code_flow_at_the_next_refresh(
    served: LoggedServed, tmp_path: Path
) -> None:
    from selenium.webdriver.support.ui import Select

    registry = OfficerRegistry(served.office.service.store, keyed=served.office.service.keyed)
    registry.add("clerk-east", name="东城柜员", role="clerk", districts=[EAST])
    served.office.tokens["clerk-east"] = registry.issue_token("clerk-east", ttl=3600)
    permit_id, _, _ = holder(served, 14, permit_ends_in=200)
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        by_testid(driver, "recovery-done").click()
        [old] = held_cards(driver)
        open_services(driver, old["number"])
        press(driver, "svc-address")
        wait_for(lambda: len(driver.find_elements("css selector", "[data-testid=svc-district] option")) > 10,
                 what="the city's districts")
        by_testid(driver, "svc-new-address").send_keys("北京市东城区东直门内大街1号")
        Select(by_testid(driver, "svc-district")).select_by_value(EAST)
        press(driver, "svc-address-send")
        consent_shown(driver)
        answer_consent(driver, True)
        assert service_answer(driver)["state"] == "queued"
        [request_id] = driver.execute_script(
            "return [...document.querySelectorAll('[data-testid=request-row]')].map((r) => r.dataset.requestId)")
        decided = served.office.call("POST", f"/api/v1/requests/{request_id}/approve", as_="clerk-east")
        assert decided["state"] == "approved"
        driver.execute_script("document.body.dataset.requests = ''")
        driver.find_element("id", "check").click()  # 刷新: the session is still live, the renewal logs in anew
        asked = consent_shown(driver)
        assert "领取新证件" in (asked["purpose"] or "")
        answer_consent(driver, True)
        requests_settled(driver)
        wait_for(lambda: rows(driver) == [("address", "done")], timeout=40, what="done")
        [new] = held_cards(driver)
        assert new["address"] == "北京市东城区东直门内大街1号" and new["number"] == old["number"]
        assert holder_jwk(new["sdJwt"]) == holder_jwk(old["sdJwt"])
        assert judge(served, new["sdJwt"], tmp_path / "landlord") is Result.VALID
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.REVOKED
    finally:
        driver.quit()
