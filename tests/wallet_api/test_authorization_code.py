"""Renewal by the OpenID4VCI authorization code flow (wallet_api.authorization) over the real wallet API, both
stores, real signatures: PAR -> /authorize -> the OpenID4VP login -> redirect_uri?code&state&iss -> /token
(PKCE S256, DPoP) -> /credential (the presented device key only) -> /notification. Then every refusal, each
with its RFC error code and nothing changed (the right request still goes through afterwards)."""

from __future__ import annotations

import hashlib
import json
import secrets
import urllib.parse
from typing import Any

import pytest
from flask.testing import FlaskClient

from credential.encoding import b64url_encode
from credential.jwk import thumbprint
from credential.sdjwt import verify_sd_jwt_vc
from credential.statuslist import INVALID
from issuer.service import IssuerService
from keys import Purpose
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES, OFFICER, PUBLIC_URL
from tests.wallet_api.support import dpop_proof, fetch_nonce, make_proof
from tests.wallet_api.test_resident_login import app, ca, login_request  # noqa: F401  (fixtures)
from tests.wallet_api.test_resident_requests import first_pickup, presentation, registered
from verifier.openid4vp import matching_query, vp_token_form

REDIRECT = "https://wallet.example.invalid/cb"
CLIENT = "test-wallet"
SD_JWT = "residence_permit_sd_jwt"
FORM = "application/x-www-form-urlencoded"


def s256(verifier: str) -> str:
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def jkt(key: KeySigner) -> str:
    return b64url_encode(thumbprint(key.public_key))


def par(client: FlaskClient, key: KeySigner, clock: FakeClock, **overrides: str | None) -> Any:
    fields: dict[str, str | None] = {
        "response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "state": "st-" + secrets.token_hex(4),
        "code_challenge": s256("v" * 50), "code_challenge_method": "S256", "scope": SD_JWT, "dpop_jkt": jkt(key)}
    fields.update(overrides)
    body = {k: v for k, v in fields.items() if v is not None}
    return client.post("/par", data=urllib.parse.urlencode(body), content_type=FORM,
                       headers={"DPoP": dpop_proof(key, htu=f"{PUBLIC_URL}/par", iat=clock.now)})


def authorize_and_login(client: FlaskClient, request_uri: str, sd_jwt: str, key: KeySigner, ca_: Any,
                        clock: FakeClock) -> dict[str, str]:
    """/authorize, then the OpenID4VP login it answers with, answered; the redirect's query parameters."""
    started = client.get("/authorize?" + urllib.parse.urlencode({"client_id": CLIENT, "request_uri": request_uri}))
    assert started.status_code == 303, started.get_json()
    link = started.headers["Location"]
    # Werkzeug writes openid4vp://?… as openid4vp:?… (an empty authority dropped): the same URI to a parser.
    assert urllib.parse.urlsplit(link).scheme == "openid4vp"
    from verifier.openid4vp import parse_authorization_link, verify_request_object

    parsed = parse_authorization_link(link)
    served = client.get(urllib.parse.urlsplit(parsed.request_uri).path)
    request = verify_request_object(served.get_data(as_text=True), link=parsed, trust_anchors=[ca_.certificate],
                                    now=clock.now)
    query, held = matching_query(request, [sd_jwt])
    posted = client.post("/resident/login/response", content_type=FORM, data=urllib.parse.urlencode(
        vp_token_form(request, query, held, holder_signer=key, now=clock.now)))
    assert posted.status_code == 200, posted.get_json()
    redirect = posted.get_json()["redirect_uri"]
    assert redirect.startswith(REDIRECT + "?")
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect).query))


def token(client: FlaskClient, code: str, key: KeySigner, clock: FakeClock, *, verifier: str = "v" * 50) -> Any:
    return client.post("/token", content_type=FORM, data=urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": REDIRECT,
        "client_id": CLIENT}), headers={"DPoP": dpop_proof(key, htu=f"{PUBLIC_URL}/token", iat=clock.now)})


def credential(client: FlaskClient, access: str, holder: KeySigner, dpop: KeySigner, clock: FakeClock) -> Any:
    proof = make_proof(holder, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
    return client.post("/credential", json={"credential_configuration_id": SD_JWT, "proofs": {"jwt": [proof]}},
                       headers={"Authorization": f"DPoP {access}", "DPoP": dpop_proof(
                           dpop, htu=f"{PUBLIC_URL}/credential", iat=clock.now, access_token=access)})


def endorsed(client: FlaskClient, service: IssuerService, clock: FakeClock) -> tuple[str, KeySigner, str]:
    """A resident whose endorsement the rules approved at once: the old SD-JWT VC, its key, the record id."""
    record = registered(service, permit_ends_in=30)
    key = KeySigner.generate("ES256")
    sd_jwt, _ = first_pickup(client, service, record, key, clock)
    submitted = client.post("/resident/requests", json={"kind": "endorse"},
                            headers=presentation(client, sd_jwt, key, clock))
    assert submitted.get_json()["request"]["state"] == "approved"
    return sd_jwt, key, record.id


def test_the_metadata_announce_the_flow(client: FlaskClient) -> None:
    server = client.get("/.well-known/oauth-authorization-server").get_json()
    assert server["require_pushed_authorization_requests"] is True
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["authorization_response_iss_parameter_supported"] is True
    assert server["pushed_authorization_request_endpoint"] == f"{PUBLIC_URL}/par"
    assert "authorization_code" in server["grant_types_supported"]
    issuer = client.get("/.well-known/openid-credential-issuer").get_json()
    assert issuer["authorization_servers"] == [PUBLIC_URL]


@BOTH_STORES
def test_a_renewal_runs_through_par_pkce_dpop_and_the_code(client: FlaskClient, service: IssuerService,
                                                          clock: FakeClock, ca: Any) -> None:  # noqa: F811
    sd_jwt, key, _ = endorsed(client, service, clock)
    pushed = par(client, key, clock)
    assert pushed.status_code == 201, pushed.get_json()
    answer = authorize_and_login(client, pushed.get_json()["request_uri"], sd_jwt, key, ca, clock)
    assert answer["iss"] == PUBLIC_URL and answer["state"].startswith("st-") and answer["code"]
    issued = token(client, answer["code"], key, clock)
    assert issued.status_code == 200, issued.get_json()
    assert issued.get_json()["token_type"] == "DPoP"
    access = issued.get_json()["access_token"]
    got = credential(client, access, key, key, clock)
    assert got.status_code == 200, got.get_json()
    new = got.get_json()["credentials"][0]["credential"]
    ring = service.keyring

    def resolve(kid: str) -> Any:
        return next(s.public_key for s in ring.signers_of(Purpose.CREDENTIAL) if s.kid == kid)

    old_read = verify_sd_jwt_vc(sd_jwt, resolve_key=resolve, now=clock.now, require_key_binding=False)
    new_read = verify_sd_jwt_vc(new, resolve_key=resolve, now=clock.now, require_key_binding=False)
    assert new_read.claims["exp"] > old_read.claims["exp"]  # the later validity
    assert new_read.holder_key is not None and jkt_of(new_read.holder_key) == jkt(key)  # the same device key
    accepted = client.post("/notification", json={"notification_id": got.get_json()["notification_id"],
                                                  "event": "credential_accepted"},
                           headers={"Authorization": f"DPoP {access}", "DPoP": dpop_proof(
                               key, htu=f"{PUBLIC_URL}/notification", iat=clock.now, access_token=access)})
    assert accepted.status_code == 204
    old_entry = (int(old_read.status_uri.rsplit("/", 1)[1]), old_read.status_idx)
    assert service.store.status_bits(old_entry[0]).get(old_entry[1]) == INVALID  # the old one revoked


def jkt_of(key: Any) -> str:
    return b64url_encode(thumbprint(key))


@BOTH_STORES
def test_refusals_change_nothing(client: FlaskClient, service: IssuerService, clock: FakeClock,
                                 ca: Any) -> None:  # noqa: F811
    sd_jwt, key, _ = endorsed(client, service, clock)
    other = KeySigner.generate("ES256")
    # PAR: plain PKCE, no method (= plain), no challenge, no DPoP key, a request_uri inside, mismatched keys.
    for overrides, error in (({"code_challenge_method": "plain"}, "invalid_request"),
                             ({"code_challenge_method": None}, "invalid_request"),
                             ({"code_challenge": None}, "invalid_request"),
                             ({"response_type": "token"}, "unsupported_response_type"),
                             ({"scope": "nothing_of_ours"}, "invalid_scope"),
                             ({"dpop_jkt": jkt(other)}, "invalid_dpop_proof")):
        refused = par(client, key, clock, **overrides)
        assert (refused.status_code, refused.get_json()["error"]) == (400, error), overrides
    # /authorize: a request_uri of nobody's, then one used twice, then one expired.
    as_json = client.get("/authorize?" + urllib.parse.urlencode(
        {"client_id": CLIENT, "request_uri": par(client, key, clock).get_json()["request_uri"]}),
        headers={"Accept": "application/json"})
    assert as_json.status_code == 200 and as_json.get_json()["authorization_uri"].startswith("openid4vp:")
    nobody = client.get("/authorize?client_id=test-wallet&request_uri=urn:ietf:params:oauth:request_uri:nope")
    assert nobody.get_json()["error"] == "invalid_request_uri"
    request_uri = par(client, key, clock).get_json()["request_uri"]
    assert client.get("/authorize?" + urllib.parse.urlencode({"client_id": "another", "request_uri": request_uri})
                      ).get_json()["error"] == "invalid_request"  # another client: not spent
    answer = authorize_and_login(client, request_uri, sd_jwt, key, ca, clock)
    reused = client.get("/authorize?" + urllib.parse.urlencode({"client_id": CLIENT, "request_uri": request_uri}))
    assert reused.status_code == 400 and reused.get_json()["error"] == "invalid_request_uri"
    stale = par(client, key, clock).get_json()
    clock.advance(stale["expires_in"])
    expired = client.get("/authorize?" + urllib.parse.urlencode({"client_id": CLIENT,
                                                                 "request_uri": stale["request_uri"]}))
    assert expired.get_json()["error"] == "invalid_request_uri"
    clock.advance(-stale["expires_in"])
    # /token: a wrong verifier, another DPoP key, no DPoP: refused, and the code still works afterwards.
    wrong = token(client, answer["code"], key, clock, verifier="w" * 50)
    assert (wrong.status_code, wrong.get_json()["error"]) == (400, "invalid_grant")
    stolen = token(client, answer["code"], other, clock)
    assert stolen.get_json()["error"] == "invalid_dpop_proof"
    bare = client.post("/token", content_type=FORM, data=urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": answer["code"], "code_verifier": "v" * 50,
        "redirect_uri": REDIRECT, "client_id": CLIENT}))
    assert bare.get_json()["error"] == "invalid_dpop_proof"
    issued = token(client, answer["code"], key, clock)
    assert issued.status_code == 200, issued.get_json()
    twice = token(client, answer["code"], key, clock)
    assert (twice.status_code, twice.get_json()["error"]) == (400, "invalid_grant")  # single use
    access = issued.get_json()["access_token"]
    # /credential: a proof by another device key is refused; the DPoP key must be the token's.
    by_other = credential(client, access, other, key, clock)
    assert (by_other.status_code, by_other.get_json()["error"]) == (400, "invalid_proof")
    other_dpop = credential(client, access, key, other, clock)
    assert other_dpop.status_code == 401
    assert credential(client, access, key, key, clock).status_code == 200  # nothing was spent by the refusals


@BOTH_STORES
def test_nothing_to_renew_is_access_denied_with_iss_and_a_revoked_credential_never_logs_in(
        client: FlaskClient, service: IssuerService, clock: FakeClock, ca: Any) -> None:  # noqa: F811
    record = registered(service, permit_ends_in=200)  # no request at all
    key = KeySigner.generate("ES256")
    sd_jwt, _ = first_pickup(client, service, record, key, clock)
    pushed = par(client, key, clock, state="s-1").get_json()
    answer = authorize_and_login(client, pushed["request_uri"], sd_jwt, key, ca, clock)
    assert answer == {"error": "access_denied", "error_description": answer["error_description"], "state": "s-1",
                      "iss": PUBLIC_URL}
    service.revoke(record.id, officer=OFFICER, reason="test")
    pushed = par(client, key, clock).get_json()
    started = client.get("/authorize?" + urllib.parse.urlencode({"client_id": CLIENT,
                                                                 "request_uri": pushed["request_uri"]}))
    from verifier.openid4vp import parse_authorization_link, verify_request_object

    parsed = parse_authorization_link(started.headers["Location"])
    request = verify_request_object(client.get(urllib.parse.urlsplit(parsed.request_uri).path).get_data(as_text=True),
                                    link=parsed, trust_anchors=[ca.certificate], now=clock.now)
    query, held = matching_query(request, [sd_jwt])
    posted = client.post("/resident/login/response", content_type=FORM, data=urllib.parse.urlencode(
        vp_token_form(request, query, held, holder_signer=key, now=clock.now)))
    assert posted.status_code == 400 and "redirect_uri" not in posted.get_json()


@pytest.mark.parametrize("redirect", ["http://wallet.example/cb", "https://wallet.example/cb#frag", "cb"])
def test_a_redirect_uri_must_be_https_or_a_private_scheme(client: FlaskClient, clock: FakeClock,
                                                          redirect: str) -> None:
    key = KeySigner.generate("ES256")
    assert par(client, key, clock, redirect_uri=redirect).get_json()["error"] == "invalid_request"


def test_without_a_login_there_is_no_authorization_code_flow(service: IssuerService, clock: FakeClock) -> None:
    from wallet_api import WalletApiSettings, create_app

    plain = create_app(WalletApiSettings(public_url=PUBLIC_URL), service, clock=clock).test_client()
    server = plain.get("/.well-known/oauth-authorization-server").get_json()
    assert "authorization_endpoint" not in server and server["grant_types_supported"] == [
        "urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    assert plain.post("/token", data={"grant_type": "authorization_code", "code": "x"}).get_json()["error"] == \
        "unsupported_grant_type"
    assert json.dumps(plain.get("/.well-known/openid-credential-issuer").get_json()).count("authorization_servers") == 0
