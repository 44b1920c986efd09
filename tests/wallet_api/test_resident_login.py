"""The resident's login by OpenID4VP (wallet_api.login) over the real wallet API, both stores, real signatures:
the wallet API's own signed request (x509_san_dns, chained to a CA the wallet trusts), the wallet's answer
built by verifier.openid4vp (the code the CLI wallet and the PWA use), the response code traded for a
session bound to the device key by DPoP, and the /resident/ endpoints on that session. Every refusal: the
right error, and no session, no request, nothing changed."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credential.sdjwt import present
from epermit.tls import LoopbackCA, verifier_identity
from issuer.model import holder_hash
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES, OFFICER, PUBLIC_URL
from tests.wallet_api.support import dpop_proof
from tests.wallet_api.test_resident_requests import first_pickup, registered
from verifier.openid4vp import (
    AuthorizationRequest,
    matching_query,
    parse_authorization_link,
    verify_request_object,
    vp_token_form,
)
from wallet_api import WalletApiSettings, create_app

HOST = urllib.parse.urlsplit(PUBLIC_URL).hostname or ""
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def ca(clock: FakeClock) -> LoopbackCA:
    return LoopbackCA(now=clock.now)


@pytest.fixture
def app(settings: WalletApiSettings, service: IssuerService, clock: FakeClock, ca: LoopbackCA) -> Flask:
    identity = verifier_identity(ca, HOST, name_zh="居民在线服务", name_en="Residents' online service")
    return create_app(settings, service, clock=clock, login_verifier=identity)


def login_request(client: FlaskClient, ca: LoopbackCA, clock: FakeClock) -> AuthorizationRequest:
    started = client.post("/resident/login")
    assert started.status_code == 201, started.get_json()
    link = parse_authorization_link(started.get_json()["authorization_uri"])
    assert link.client_id == f"x509_san_dns:{HOST}"
    served = client.get(urllib.parse.urlsplit(link.request_uri).path)
    assert served.status_code == 200 and served.mimetype == "application/oauth-authz-req+jwt"
    return verify_request_object(served.get_data(as_text=True), link=link, trust_anchors=[ca.certificate],
                                 now=clock.now)


def answer(client: FlaskClient, request: AuthorizationRequest, form: dict[str, str]) -> Any:
    assert urllib.parse.urlsplit(request.response_uri).path == "/resident/login/response"
    return client.post("/resident/login/response", data=urllib.parse.urlencode(form), content_type=FORM)


def response_code(client: FlaskClient, sd_jwt: str, key: KeySigner, ca: LoopbackCA, clock: FakeClock) -> str:
    request = login_request(client, ca, clock)
    query, held = matching_query(request, [sd_jwt])
    posted = answer(client, request, vp_token_form(request, query, held, holder_signer=key, now=clock.now))
    assert posted.status_code == 200, posted.get_json()
    redirect = posted.get_json()["redirect_uri"]
    assert redirect.startswith(f"{PUBLIC_URL}/resident/login/done?")
    code: str = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))["response_code"]
    return code


def open_session(client: FlaskClient, code: str, key: KeySigner, clock: FakeClock) -> Any:
    proof = dpop_proof(key, htu=f"{PUBLIC_URL}/resident/session", iat=clock.now)
    return client.post("/resident/session", data=json.dumps({"response_code": code}),
                       content_type="application/json", headers={"DPoP": proof})


def session_headers(token: str, key: KeySigner, clock: FakeClock, method: str, path: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}",
            "DPoP": dpop_proof(key, htu=f"{PUBLIC_URL}{path}", htm=method, iat=clock.now, access_token=token)}


def logged_in(client: FlaskClient, service: IssuerService, clock: FakeClock, ca: LoopbackCA,
              ) -> tuple[str, KeySigner, str]:
    record = registered(service, permit_ends_in=30)
    key = KeySigner.generate("ES256")
    sd_jwt, _ = first_pickup(client, service, record, key, clock)
    opened = open_session(client, response_code(client, sd_jwt, key, ca, clock), key, clock)
    assert opened.status_code == 200, opened.get_json()
    body = opened.get_json()
    assert body["token_type"] == "DPoP" and body["expires_in"] > 0
    return body["access_token"], key, record.id


@BOTH_STORES
def test_a_login_opens_a_dpop_bound_session_the_requests_accept(client: FlaskClient, service: IssuerService,
                                                                clock: FakeClock, ca: LoopbackCA) -> None:
    token, key, record_id = logged_in(client, service, clock, ca)
    submitted = client.post("/resident/requests", data=json.dumps({"kind": "endorse"}),
                            content_type="application/json",
                            headers=session_headers(token, key, clock, "POST", "/resident/requests"))
    assert submitted.status_code == 201, submitted.get_json()
    assert submitted.get_json()["request"]["record_id"] == record_id
    mine = client.get("/resident/requests", headers=session_headers(token, key, clock, "GET", "/resident/requests"))
    assert mine.status_code == 200 and len(mine.get_json()["requests"]) == 1
    # The session token is kept only as a keyed hash: it appears nowhere in the store's values.
    assert token not in json.dumps(mine.get_json())


@BOTH_STORES
def test_another_key_gets_neither_the_session_nor_its_use(client: FlaskClient, service: IssuerService,
                                                          clock: FakeClock, ca: LoopbackCA) -> None:
    record = registered(service, permit_ends_in=30)
    key, thief = KeySigner.generate("ES256"), KeySigner.generate("ES256")
    sd_jwt, _ = first_pickup(client, service, record, key, clock)
    code = response_code(client, sd_jwt, key, ca, clock)
    stolen = open_session(client, code, thief, clock)
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_dpop_proof"
    opened = open_session(client, code, key, clock)  # the wrong key consumed nothing
    assert opened.status_code == 200
    token = opened.get_json()["access_token"]
    again = open_session(client, code, key, clock)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"  # single use
    wrong = client.post("/resident/requests", data=json.dumps({"kind": "endorse"}), content_type="application/json",
                        headers=session_headers(token, thief, clock, "POST", "/resident/requests"))
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_token"
    assert "DPoP" in wrong.headers["WWW-Authenticate"]
    no_proof = client.get("/resident/requests", headers={"Authorization": f"DPoP {token}"})
    assert no_proof.status_code == 401 and no_proof.get_json()["error"] == "invalid_dpop_proof"
    other_url = client.get("/resident/requests",
                           headers=session_headers(token, key, clock, "GET", "/resident/notifications"))
    assert other_url.status_code == 401
    assert service.store.requests_of_holder(holder_hash(record.permit.holder.citizen_id)) == []  # nothing changed


@BOTH_STORES
def test_presentations_for_another_audience_or_nonce_log_nobody_in(client: FlaskClient, service: IssuerService,
                                                                  clock: FakeClock, ca: LoopbackCA) -> None:
    record = registered(service, permit_ends_in=30)
    key = KeySigner.generate("ES256")
    sd_jwt, _ = first_pickup(client, service, record, key, clock)
    for audience, nonce in (("x509_san_dns:employer.example.com", None), (None, "a-nonce-of-another-request")):
        request = login_request(client, ca, clock)
        query, _ = matching_query(request, [sd_jwt])
        shown = present(sd_jwt, disclose=query.claims, holder_signer=key, aud=audience or request.client_id,
                        nonce=nonce or request.nonce, now=clock.now)
        posted = answer(client, request, {"vp_token": json.dumps({query.id: [shown]}), "state": request.state})
        assert posted.status_code == 400, posted.get_json()
        assert "redirect_uri" not in posted.get_json()
    # A replayed, valid answer: the transaction was spent by its first answer.
    request = login_request(client, ca, clock)
    query, _ = matching_query(request, [sd_jwt])
    form = vp_token_form(request, query, sd_jwt, holder_signer=key, now=clock.now)
    assert answer(client, request, form).status_code == 200
    replayed = answer(client, request, form)
    assert replayed.status_code == 400 and "used" in replayed.get_json()["error_description"]


@BOTH_STORES
def test_a_revoked_credential_cannot_log_in_and_a_suspension_ends_the_session(
        client: FlaskClient, service: IssuerService, clock: FakeClock, ca: LoopbackCA) -> None:
    token, key, record_id = logged_in(client, service, clock, ca)
    service.suspend(record_id, officer=OFFICER, reason="test")
    ended = client.get("/resident/requests", headers=session_headers(token, key, clock, "GET", "/resident/requests"))
    assert ended.status_code == 403 and ended.get_json()["error"] == "credential_not_current"
    record = registered(service, permit_ends_in=30)
    other = KeySigner.generate("ES256")
    sd_jwt, _ = first_pickup(client, service, record, other, clock)
    service.revoke(record.id, officer=OFFICER, reason="test")
    request = login_request(client, ca, clock)
    query, _ = matching_query(request, [sd_jwt])
    posted = answer(client, request, vp_token_form(request, query, sd_jwt, holder_signer=other, now=clock.now))
    assert posted.status_code == 400 and "REVOKED" in posted.get_json()["error_description"]


def test_a_login_request_expires_and_is_served_no_more(client: FlaskClient, service: IssuerService,
                                                      clock: FakeClock, ca: LoopbackCA) -> None:
    started = client.post("/resident/login").get_json()
    path = urllib.parse.urlsplit(parse_authorization_link(started["authorization_uri"]).request_uri).path
    clock.advance(started["expires_in"])
    assert client.get(path).status_code == 404


def test_without_a_verifier_identity_there_is_no_login(service: IssuerService, clock: FakeClock,
                                                      settings: WalletApiSettings) -> None:
    plain = create_app(settings, service, clock=clock).test_client()
    assert plain.post("/resident/login").status_code == 404
