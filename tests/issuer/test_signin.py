"""Failed officer authentications are audited (never the presented token) and throttled per client address
and per claimed officer id: 429 with Retry-After on the API, a clear page in the console."""

from __future__ import annotations

import os
import re

import pytest
from flask import Flask

from issuer.http.app import create_app
from issuer.http.console.ui import ConsoleSettings
from issuer.http.context import OfficerApiSettings
from issuer.model import Officer, Role
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.signin import SignInLimits
from issuer.totp import STEP, code_at
from tests.conftest import FakeClock

from .console_logins import OfficerLogins, password_of

LIMITS = SignInLimits(per_client=4, per_officer=2, window=60)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def app(service: IssuerService) -> Flask:
    return create_app(OfficerApiSettings(sign_in=LIMITS), service,
                      console=ConsoleSettings(secret_key=os.urandom(32)))


@pytest.fixture
def token(service: IssuerService, clock: FakeClock) -> str:
    registry = OfficerRegistry(service.store, keyed=service.keyed, clock=clock)
    registry.put(Officer("sup", "所长", Role.SUPERVISOR, ("110105",)))
    return registry.issue_token("sup", ttl=86400)


def failures(service: IssuerService) -> list[tuple[str, str, str, str]]:
    return [(e.officer, e.action, e.outcome, e.reason) for e in service.audit.list(limit=1000)
            if e.action.startswith("sign_in")]


def test_bad_bearer_tokens_are_audited_then_throttled(app: Flask, service: IssuerService, clock: FakeClock,
                                                      token: str) -> None:
    client = app.test_client()
    wrong = "w" * 43
    for _ in range(LIMITS.per_client):
        assert client.get("/api/v1/records/x", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    assert failures(service) == [("-", "sign_in_failed", "denied", "api")] * LIMITS.per_client + [
        ("-", "sign_in_throttled", "denied", "api, client address: 4 failures in 60 s")]
    assert all(wrong not in e.reason and token not in e.reason for e in service.audit.list(limit=1000))
    # Past the limit the address is refused before any check: a right token too, and nothing more is written.
    before = len(service.audit.list(limit=1000))
    for header in (f"Bearer {wrong}", f"Bearer {token}"):
        refused = client.get("/api/v1/records/x", headers={"Authorization": header})
        assert refused.status_code == 429 and refused.json["error"] == "rate_limited"  # type: ignore[index]
        assert 0 < int(refused.headers["Retry-After"]) <= LIMITS.window
    assert len(service.audit.list(limit=1000)) == before
    other = app.test_client().get("/api/v1/records/x", headers={"Authorization": f"Bearer {token}"},
                                  environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 404  # another address is not blocked
    clock.advance(LIMITS.window)
    assert client.get("/api/v1/records/x", headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_a_request_without_a_token_is_no_attempt(app: Flask, service: IssuerService) -> None:
    client = app.test_client()
    for _ in range(LIMITS.per_client + 1):
        assert client.get("/api/v1/records/x").status_code == 401
    assert failures(service) == []


def sign_in(app: Flask, officer_id: str, password: str, address: str,
            code: str = "") -> tuple[int, str, str | None]:
    browser = app.test_client()
    environ = {"REMOTE_ADDR": address}
    form = browser.get("/officer/login", base_url="https://localhost", environ_base=environ).get_data(as_text=True)
    found = CSRF.search(form)
    assert found
    response = browser.post("/officer/login", data={"officer_id": officer_id, "password": password, "code": code,
                                                    "csrf": found.group(1)},
                            base_url="https://localhost", environ_base=environ)
    return response.status_code, response.get_data(as_text=True), response.headers.get("Retry-After")


@pytest.fixture
def logins(service: IssuerService, clock: FakeClock) -> OfficerLogins:
    logins = OfficerLogins(service, clock)
    logins.enrol(Officer("sup", "所长", Role.SUPERVISOR, ("110105",)))
    return logins


def test_wrong_console_sign_ins_name_the_claimed_officer_and_lock_that_id(
    app: Flask, service: IssuerService, clock: FakeClock, logins: OfficerLogins, token: str
) -> None:
    password = password_of("sup")
    assert sign_in(app, "sup", "nope", "10.0.0.1", logins.code("sup"))[0] == 401
    # the right password with a wrong code: someone has the password, and the audit says so
    assert sign_in(app, "sup", password, "10.0.0.2", "000000")[0] == 401  # per officer id: from any address
    assert failures(service) == [("-", "sign_in_failed", "denied", "console, officer sup"),
                                 ("-", "sign_in_failed", "denied", "console totp, officer sup"),
                                 ("-", "sign_in_throttled", "denied", "console totp, officer sup: 2 failures in 60 s")]
    status, page, retry_after = sign_in(app, "sup", password, "10.0.0.3", logins.code("sup"))  # right: refused
    assert status == 429 and retry_after is not None and 0 < int(retry_after) <= 60
    assert "登录失败次数过多" in page and "Too many failed sign-ins: try again in 1 min" in page
    # Another officer id from the same addresses is not locked; sup's password and code fail for "sup2".
    assert sign_in(app, "sup2", password, "10.0.0.1", logins.code("sup"))[0] == 401
    assert failures(service)[-1] == ("-", "sign_in_failed", "denied", "console, officer sup2")
    assert sign_in(app, "\u202e<b>", "x", "10.0.0.1")[0] == 401
    assert failures(service)[-1] == ("-", "sign_in_failed", "denied", "console, no well-formed officer id")
    assert sign_in(app, "sup", token, "10.0.0.4", logins.code("sup"))[0] == 401  # an API token is no password
    clock.advance(LIMITS.window)
    assert sign_in(app, "sup", password, "10.0.0.3", logins.code("sup"))[0] == 302


def test_a_code_signs_in_once_and_only_near_its_time(
    app: Flask, service: IssuerService, clock: FakeClock, logins: OfficerLogins
) -> None:
    password, secret = password_of("sup"), logins.secrets["sup"]
    code = logins.code("sup")
    assert sign_in(app, "sup", password, "10.0.0.1", code)[0] == 302
    assert sign_in(app, "sup", password, "10.0.0.2", code)[0] == 401  # replayed within its step
    assert failures(service) == [("-", "sign_in_failed", "denied", "console totp, officer sup")]
    clock.advance(LIMITS.window)  # let the officer id in again
    earlier = code_at(secret, clock() - STEP)  # one step of drift either side is accepted
    assert sign_in(app, "sup", password, "10.0.0.1", earlier)[0] == 302
    later = code_at(secret, clock() + STEP)
    assert sign_in(app, "sup", password, "10.0.0.1", later)[0] == 302
    clock.advance(LIMITS.window)
    assert sign_in(app, "sup", password, "10.0.0.1", code_at(secret, clock() - 2 * STEP))[0] == 401  # too old
    assert sign_in(app, "sup", password, "10.0.0.1", code_at(secret, clock() + 2 * STEP))[0] == 401  # too new
