"""Console credentials: password rules and their scrypt hash, TOTP codes and their sealed secrets, and the
enrolment at first sign-in through the console (QR code decoded for real)."""

from __future__ import annotations

import os
import secrets
import urllib.parse

import pytest
from flask import Flask

from issuer.errors import UnauthorizedError
from issuer.http.app import create_app
from issuer.http.console.ui import ConsoleSettings
from issuer.http.context import OfficerApiSettings
from issuer.keyed import KeyedHash
from issuer.logins import ConsoleLogins, SecondFactorError
from issuer.model import Officer, Role
from issuer.passwords import (
    ScryptCost,
    WeakPasswordError,
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from issuer.service import IssuerService
from issuer.totp import STEP, TotpSeal, code_at, matching_step, new_secret, otpauth_uri, secret_text
from tests.conftest import FakeClock

from .console_logins import password_of
from .test_console_routes import Browser, qr_texts

LI = Officer("li_na", "李娜", Role.CLERK, ("110105",))


def test_password_rules() -> None:
    with pytest.raises(WeakPasswordError) as short:
        check_new_password("li_na", "elevenchars")
    assert short.value.rule == "length"
    for same in ("li_na", "LI_NA2024-spring!"):
        with pytest.raises(WeakPasswordError) as named:
            check_new_password("li_na", same if len(same) >= 12 else same * 3)
        assert named.value.rule in ("officer_id", "length")
    with pytest.raises(WeakPasswordError):
        check_new_password("li_na", "x" * 201)
    check_new_password("li_na", "twelve chars")
    check_new_password("io", "io is in here but io is short")  # a two-letter id is in many good passwords


def test_password_hash_keeps_its_parameters_and_salt() -> None:
    stored = hash_password("a long enough password")
    scheme, log2_n, r, p, _, _ = stored.split("$")
    assert (scheme, log2_n, r, p) == ("scrypt", "15", "8", "1")
    assert stored != hash_password("a long enough password")  # a salt of its own
    assert verify_password(stored, "a long enough password")
    assert not verify_password(stored, "a long enough passworD")
    assert not verify_password(None, "a long enough password")
    assert not needs_rehash(stored) and needs_rehash(stored, ScryptCost(log2_n=16))
    stronger = hash_password("a long enough password", ScryptCost(log2_n=16))
    assert stronger.split("$")[1] == "16" and verify_password(stronger, "a long enough password")
    for planted in ("scrypt$30$8$1$" + stored.split("$", 4)[4], "scrypt$15$8$1$AAAA$BBBB", "md5$x", "", "$$$$$"):
        assert not verify_password(planted, "a long enough password")  # bounded, never obeyed
    with pytest.raises(ValueError):
        ScryptCost(log2_n=14)


def test_totp_codes_of_rfc_6238_and_the_drift_window() -> None:
    secret = b"12345678901234567890"  # RFC 6238 appendix B, SHA-1
    assert code_at(secret, 59) == "287082" and code_at(secret, 1111111109) == "081804"
    now = 1111111109
    assert matching_step(secret, "081804", now) == now // STEP
    assert matching_step(secret, "081804", now + STEP) == now // STEP  # one step late
    assert matching_step(secret, "081804", now + 2 * STEP) is None
    assert matching_step(secret, "08180", now) is None and matching_step(secret, "０８１８０４", now) is None
    uri = urllib.parse.urlsplit(otpauth_uri(secret, "li_na"))
    query = urllib.parse.parse_qs(uri.query)
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/epermit:li_na")
    assert query["issuer"] == ["epermit"] and query["secret"] == [secret_text(secret)]


def test_a_sealed_secret_opens_only_for_its_officer_under_its_key() -> None:
    keyed = KeyedHash(secrets.token_bytes(32))
    secret = new_secret()
    sealed = TotpSeal(keyed).seal("li_na", secret)
    assert secret.hex() not in sealed and secret_text(secret) not in sealed
    assert TotpSeal(keyed).open("li_na", sealed) == secret
    assert TotpSeal(keyed).open("wang", sealed) is None  # moved onto another officer
    assert TotpSeal(KeyedHash(secrets.token_bytes(32))).open("li_na", sealed) is None  # another deployment
    assert TotpSeal(keyed).open("li_na", sealed[:-2]) is None and TotpSeal(keyed).open("li_na", "v1.") is None


def test_sign_in_checks(service: IssuerService, clock: FakeClock) -> None:
    logins = ConsoleLogins(service.store, keyed=service.keyed, clock=clock)
    service.store.put_officer(LI)
    with pytest.raises(UnauthorizedError):
        logins.check("li_na", "", "")  # no password set: nothing opens
    logins.set_password("li_na", password_of("li_na"))
    first = logins.check("li_na", password_of("li_na"), "")
    assert first.must_enrol
    with pytest.raises(UnauthorizedError):
        logins.open_session(first, ttl=60)
    enrolment = logins.enrol_totp("li_na")
    with pytest.raises(SecondFactorError):
        logins.check("li_na", password_of("li_na"), "")
    signed = logins.check("li_na", password_of("li_na"), code_at(enrolment.secret, clock()))
    assert not signed.must_enrol and logins.session_officer(logins.open_session(signed, ttl=60)) == LI
    with pytest.raises(UnauthorizedError):
        logins.check("nobody", password_of("li_na"), code_at(enrolment.secret, clock()))
    with pytest.raises(WeakPasswordError):
        logins.set_password("li_na", "short")


@pytest.fixture
def app(service: IssuerService) -> Flask:
    return create_app(OfficerApiSettings(), service, console=ConsoleSettings(secret_key=os.urandom(32)))


def test_an_officer_without_a_second_factor_enrols_at_the_first_sign_in(
    app: Flask, service: IssuerService, clock: FakeClock
) -> None:
    logins = ConsoleLogins(service.store, keyed=service.keyed, clock=clock)
    service.store.put_officer(LI)
    logins.set_password("li_na", password_of("li_na"))
    browser = Browser(app)
    browser.get("/officer/login")
    response = browser.post("/officer/login", {"officer_id": "li_na", "password": password_of("li_na"), "code": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/officer/enrol")
    assert browser.get("/officer/").status_code == 302  # no session yet
    page = browser.get("/officer/enrol").get_data(as_text=True)
    [uri] = qr_texts(page)
    secret_b32 = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["secret"][0]
    assert uri.startswith("otpauth://totp/epermit:li_na?") and secret_b32 in page  # typed when it cannot scan
    import base64
    secret = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    wrong = browser.post("/officer/enrol", {"code": "000000" if code_at(secret, clock()) != "000000" else "111111"})
    assert wrong.status_code == 401 and "验证码错误" in wrong.get_data(as_text=True)
    assert service.store.get_officer_secrets("li_na").totp_sealed is None  # type: ignore[union-attr]
    done = browser.post("/officer/enrol", {"code": code_at(secret, clock())})
    assert done.status_code == 302 and browser.get("/officer/").status_code == 200
    assert [e.action for e in service.audit.list(limit=100)][-2:] == ["sign_in_failed", "totp_enrol"]
    # From now on the password alone does not sign in; the enrolled secret's code does (a later step).
    again = Browser(app)
    again.get("/officer/login")
    assert again.post("/officer/login", {"officer_id": "li_na", "password": password_of("li_na"),
                                         "code": ""}).status_code == 401
    clock.advance(STEP)
    assert again.post("/officer/login", {"officer_id": "li_na", "password": password_of("li_na"),
                                         "code": code_at(secret, clock())}).status_code == 302


def test_an_enrolment_begun_before_a_password_change_does_not_land(
    service: IssuerService, clock: FakeClock
) -> None:
    logins = ConsoleLogins(service.store, keyed=service.keyed, clock=clock)
    service.store.put_officer(LI)
    logins.set_password("li_na", password_of("li_na"))
    enrolment_id, enrolment = logins.begin_enrolment(logins.check("li_na", password_of("li_na"), ""))
    logins.set_password("li_na", "the office set a new one")
    with pytest.raises(UnauthorizedError):
        logins.finish_enrolment(enrolment_id, code_at(enrolment.secret, clock()), ttl=60)
    assert service.store.get_officer_secrets("li_na").totp_sealed is None  # type: ignore[union-attr]
    _, stale = logins.begin_enrolment(logins.check("li_na", "the office set a new one", ""))
    clock.advance(600)
    with pytest.raises(UnauthorizedError):  # 10 minutes to scan and type: then sign in again
        logins.finish_enrolment(_, code_at(stale.secret, clock()), ttl=60)
