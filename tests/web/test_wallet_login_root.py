"""The wallet PWA logs in to a real deployment's service with the office's root alone (issue 16), in real
headless Chromium: an https office on localhost whose login request is signed under a certificate from the
office's own root (keys/login.py, checked as `epermit serve` checks it: epermit.login_identity), and no verifier
CA bundle at all — /wallet/verifiers.json names the root only as ``issuer_login`` for x509_san_dns:localhost.
The TLS certificate comes from a loopback CA the wallet never trusts for anything.

The resident endorses (the login's consent), renews through the code flow (the renewal's login), and the old
credential verifies REVOKED. An employer whose request is signed under the same root for another host
(employer.localhost, which Chromium resolves to loopback) is refused in the wallet and hears nothing: the root
vouches for the bureau's own login, not for employers. And a verifiers.json that names another root than the
one the wallet pinned for the login (as a tampered page would) is refused: the resident is told why, nothing
is presented."""

from __future__ import annotations

import base64
import contextlib
import json
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
from epermit.employer.app import EmployerSettings, create_app
from epermit.employer.checks import EmployerChecks
from epermit.http_client import request
from epermit.servers import BackgroundServer
from epermit.tls import LoopbackCA
from issuer.settings import system_clock
from keys import KeyRing, KeySigner
from keys.login import login_certificate
from tests.web.browser import require_browser, wait_for
from tests.web.test_wallet_login import answer_consent, consent_shown, judge, phone, press
from tests.web.test_wallet_page import Served, by_testid
from tests.web.test_wallet_requests import (
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
from verifier.openid4vp import VerifierIdentity
from verifier.result import Result
from verifier.sync import sync

EMPLOYER_HOST = "employer.localhost"


@dataclass
class RootServed(Served):
    employer: EmployerChecks  # signs under the office's root, for another host
    employer_server: BackgroundServer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RootServed]:
    require_browser(wallet=True)
    base = tmp_path_factory.mktemp("login-root")
    now = system_clock()  # the browser judges certificates and signs with the real clock: so does the issuer
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 60)
    tls_ca = LoopbackCA(now=now)
    (base / "office").mkdir()
    office = open_office(base / "office", keyring, ca=tls_ca, host="localhost", root_login=True)
    # An employer whose signing certificate the office's root issued — for its own host, not the bureau's.
    signer = KeySigner.generate("ES256")
    certificate = login_certificate(signer.public_key, host=EMPLOYER_HOST, root_key=keyring.root.private_key,
                                    root_cert=keyring.root_certificate, now=now - 60)
    cache = VerifierCache(base / "employer")
    sync(office.wallet_server.url, cache, now=now, tls=office.tls,
         root_pem=keyring.root_certificate.public_bytes(Encoding.PEM))
    server = BackgroundServer("127.0.0.1", ssl_context=tls_ca.issue_server((EMPLOYER_HOST, "127.0.0.1")).ssl_context(),
                              url_host=EMPLOYER_HOST)
    identity = VerifierIdentity(EMPLOYER_HOST, signer, (certificate,), name_zh="示例科技有限公司",
                                name_en="Example Technology")
    checks = EmployerChecks(identity, public_url=server.url, issuer=office.wallet_server.url, cache=cache,
                            refresh=lambda at: sync(office.wallet_server.url, cache, now=at, tls=office.tls))
    server.start(create_app(checks, EmployerSettings(), clock=system_clock))
    try:
        yield RootServed(office, keyring, checks, server)
    finally:
        server.stop()
        office.stop()


def test_the_wallet_lists_the_office_root_for_the_issuers_login_only_and_no_verifier_ca(served: RootServed) -> None:
    listed = request(f"{served.url}/wallet/verifiers.json", tls=served.office.tls).json()
    root = served.keyring.root_certificate.public_bytes(Encoding.DER)
    assert listed["certificates"] == []
    assert listed["issuer_login"]["client_id"] == "x509_san_dns:localhost"
    assert [base64.b64decode(c) for c in listed["issuer_login"]["certificates"]] == [root]


def test_the_pwa_logs_in_and_renews_with_the_pinned_root_alone(served: RootServed, tmp_path: Path) -> None:
    permit_id, _, _ = holder(served, 21, permit_ends_in=30)  # within the window: the rules endorse at once
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        by_testid(driver, "recovery-done").click()
        [old] = held_cards(driver)
        open_services(driver, old["number"])
        press(driver, "svc-endorse")
        asked = consent_shown(driver)  # the login request was proved by the pinned root: it may ask
        assert asked["host"] == "localhost" and "登录网上办事" in (asked["purpose"] or "")
        answer_consent(driver, True)
        renewal = consent_shown(driver)  # the code flow's own login, proved the same way
        assert "领取新证件" in (renewal["purpose"] or "")
        answer_consent(driver, True)
        answer = service_answer(driver)
        assert answer["state"] == "approved", answer
        requests_settled(driver)
        wait_for(lambda: rows(driver) == [("endorse", "done")], timeout=40, what="done")
        [new] = held_cards(driver)
        assert new["number"] == old["number"] and new["validUntil"] > old["validUntil"]
        assert holder_jwk(new["sdJwt"]) == holder_jwk(old["sdJwt"])  # the same device key
        assert judge(served, new["sdJwt"], tmp_path / "landlord") is Result.VALID
        assert judge(served, old["sdJwt"], tmp_path / "landlord") is Result.REVOKED
        wait_for(lambda: card_states(driver) == ["valid"], what="the new card's status")
    finally:
        driver.quit()


def present_state(driver: Any) -> str:
    state: str = wait_for(lambda: driver.execute_script(
        "const s = document.body.dataset.present; return s === 'consent' || s === 'refused' ? s : null"),
        timeout=30, what="the presentation screen's verdict")
    return state


def test_an_employer_signed_under_the_office_root_for_another_host_is_refused_and_hears_nothing(
    served: RootServed
) -> None:
    view_id = served.employer.start(now=system_clock())
    outcome = served.employer.outcome(view_id, now=system_clock())
    assert outcome is not None
    link = outcome.pending.authorization_uri
    assert f"x509_san_dns%3A{EMPLOYER_HOST}" in link or f"x509_san_dns:{EMPLOYER_HOST}" in link
    permit_id, _, _ = holder(served, 22, permit_ends_in=200)
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        by_testid(driver, "recovery-done").click()
        by_testid(driver, "vp-open").click()
        by_testid(driver, "vp-link").send_keys(link)
        by_testid(driver, "vp-link-submit").click()
        assert present_state(driver) == "refused"
        error = by_testid(driver, "vp-error")
        assert error.get_attribute("data-kind") == "untrusted" and "未发送任何信息" in error.text
        assert not by_testid(driver, "vp-request").is_displayed()
        time.sleep(0.5)  # anything the page might still send would have arrived by now
        after = served.employer.outcome(view_id, now=system_clock())
        assert after is not None and after.result is None  # not even a refusal: an unproved verifier hears nothing
    finally:
        driver.quit()


@contextlib.contextmanager
def verifiers_naming(served: RootServed, root_der: str) -> Iterator[list[tuple[str, str]]]:
    """The wallet API's verifiers.json, as it leaves the server, names ``root_der`` for the issuer's login; the
    (method, path) of every wallet API request meanwhile."""
    port = f":{served.url.rsplit(':', 1)[1]}"
    seen: list[tuple[str, str]] = []

    def record(sender: object, **extra: object) -> None:
        if flask.request.host.endswith(port):
            seen.append((flask.request.method, flask.request.path))

    def tamper(sender: object, response: flask.Response, **extra: object) -> None:
        if flask.request.host.endswith(port) and flask.request.path == "/wallet/verifiers.json":
            listed = json.loads(response.get_data())
            listed["issuer_login"]["certificates"] = [root_der]
            response.set_data(json.dumps(listed))

    flask.request_started.connect(record)
    flask.request_finished.connect(tamper)
    try:
        yield seen
    finally:
        flask.request_finished.disconnect(tamper)
        flask.request_started.disconnect(record)


def test_a_login_anchor_that_is_not_the_pinned_root_is_refused_and_nothing_is_presented(served: RootServed) -> None:
    now = system_clock()
    stranger = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 60)
    other_root = base64.b64encode(stranger.root_certificate.public_bytes(Encoding.DER)).decode("ascii")
    permit_id, _, _ = holder(served, 23, permit_ends_in=30)
    driver = phone()
    try:
        pick_up_shown(driver, served, permit_id)
        by_testid(driver, "recovery-done").click()
        [old] = held_cards(driver)
        with verifiers_naming(served, other_root) as seen:
            open_services(driver, old["number"])
            press(driver, "svc-endorse")
            answer = service_answer(driver)
        assert answer["error"] == "login_root_mismatch", answer
        assert "不是本钱包领证时固定的签发机关根证书" in answer["text"] and "未发送任何证件信息" in answer["text"]
        assert driver.execute_script("return document.body.dataset.login") == "failed"
        assert ("GET", "/wallet/verifiers.json") in seen and ("POST", "/resident/login") in seen
        assert ("POST", "/resident/login/response") not in seen  # not even a refusal: the request is unproved
        assert ("POST", "/resident/requests") not in seen and ("POST", "/resident/session") not in seen
        assert rows(driver) == [] and [c["id"] for c in held_cards(driver)] == [old["id"]]
    finally:
        driver.quit()
