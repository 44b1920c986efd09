"""DPoP (RFC 9449) at the wallet API: bound tokens at /token, proofs at the credential, deferred and
notification endpoints, every way a proof is refused, server nonces, and dpop_required."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credential.encoding import b64url_decode, b64url_encode, json_dumps
from credential.jose import P256_ORDER
from credential.jwk import public_jwk
from credential.samples import sample_permit_valid_at
from issuer.errors import SettingsError
from issuer.model import Offer
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES, OFFICER, PUBLIC_URL
from tests.wallet_api.support import PRE_AUTH_GRANT, dpop_proof, fetch_nonce, make_proof
from wallet_api import WalletApiSettings, create_app
from wallet_api.dpop import normalise_htu

CONFIG = "residence_permit_sd_jwt"
QR_CONFIG = "residence_permit_qr"
TOKEN_URL = f"{PUBLIC_URL}/token"
CREDENTIAL_URL = f"{PUBLIC_URL}/credential"


@pytest.fixture
def wallet_key() -> KeySigner:
    """The wallet's DPoP key (not the device key the credential is bound to)."""
    return KeySigner.generate("ES256")


def jkt(signer: KeySigner) -> str:
    jwk = public_jwk(signer.public_key)
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return b64url_encode(hashlib.sha256(json_dumps(members)).digest())


def token_request(client: FlaskClient, offer: Offer, proof: str | list[str] | None) -> Any:
    form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": offer.pre_authorized_code, "tx_code": offer.tx_code}
    headers: list[tuple[str, str]] = []
    if isinstance(proof, str):
        headers = [("DPoP", proof)]
    elif proof is not None:
        headers = [("DPoP", value) for value in proof]
    return client.post("/token", data=form, headers=headers)


def bound_token(client: FlaskClient, offer: Offer, key: KeySigner, clock: FakeClock) -> str:
    response = token_request(client, offer, dpop_proof(key, htu=TOKEN_URL, iat=clock.now))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "DPoP"
    token: str = body["access_token"]
    return token


def credential_body(client: FlaskClient, device_key: KeySigner, clock: FakeClock, *,
                    configuration: str = CONFIG) -> dict[str, Any]:
    proof = make_proof(device_key, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
    return {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}


def post(client: FlaskClient, path: str, body: dict[str, Any], *, authorization: str | None,
         proofs: list[str] = ()) -> Any:  # type: ignore[assignment]
    headers = [("DPoP", proof) for proof in proofs]
    if authorization is not None:
        headers.append(("Authorization", authorization))
    return client.post(path, json=body, headers=headers)


def ask(client: FlaskClient, token: str, key: KeySigner, device_key: KeySigner, clock: FakeClock, *,
        configuration: str = CONFIG, **proof: Any) -> Any:
    """A credential request with the token as DPoP and a proof by ``key``; ``proof`` overrides its arguments.
    A token delivers each configuration once: a second request that should succeed names another one."""
    arguments: dict[str, Any] = {"htu": CREDENTIAL_URL, "iat": clock.now, "access_token": token, **proof}
    return post(client, "/credential", credential_body(client, device_key, clock, configuration=configuration),
                authorization=f"DPoP {token}", proofs=[dpop_proof(key, **arguments)])


def refused(response: Any, error: str, status: int) -> None:
    assert (response.status_code, response.get_json()["error"]) == (status, error), response.get_json()
    if status == 401:  # RFC 9449 §7.1: the DPoP challenge, naming the error and the algorithms
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith(f'DPoP error="{error}"') and 'algs="ES256"' in challenge
    else:
        assert "WWW-Authenticate" not in response.headers


# --- the happy path -----------------------------------------------------------------------------------------

@BOTH_STORES
def test_a_dpop_pickup_binds_the_token_and_every_later_request_proves_the_key(
    client: FlaskClient, service: IssuerService, offer: Offer, wallet_key: KeySigner, device_key: KeySigner,
    clock: FakeClock
) -> None:
    token = bound_token(client, offer, wallet_key, clock)
    assert service.access_grant(token).jkt == jkt(wallet_key)  # the binding is kept with the token

    response = ask(client, token, wallet_key, device_key, clock)
    assert response.status_code == 200, response.get_json()
    assert "DPoP-Nonce" not in response.headers  # nonces not demanded by default
    notification_id = response.get_json()["notification_id"]

    note = {"notification_id": notification_id, "event": "credential_accepted"}
    proof = dpop_proof(wallet_key, htu=f"{PUBLIC_URL}/notification", iat=clock.now, access_token=token)
    assert post(client, "/notification", note, authorization=f"DPoP {token}", proofs=[proof]).status_code == 204


@BOTH_STORES
def test_a_deferred_pickup_polls_with_dpop(
    client: FlaskClient, service: IssuerService, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    record = service.register(sample_permit_valid_at(service.clock()), officer=OFFICER)
    pending = service.create_offer(record.id, officer=OFFICER, pending=True)
    token = bound_token(client, pending, wallet_key, clock)
    response = ask(client, token, wallet_key, device_key, clock)
    assert response.status_code == 202, response.get_json()
    poll = {"transaction_id": response.get_json()["transaction_id"]}
    url = f"{PUBLIC_URL}/deferred_credential"

    unproven = post(client, "/deferred_credential", poll, authorization=f"DPoP {token}")
    refused(unproven, "invalid_dpop_proof", 401)
    service.approve(record.id, officer="supervisor-0001")
    proof = dpop_proof(wallet_key, htu=url, iat=clock.now, access_token=token)
    delivered = post(client, "/deferred_credential", poll, authorization=f"DPoP {token}", proofs=[proof])
    assert delivered.status_code == 200, delivered.get_json()
    assert len(delivered.get_json()["credentials"]) == 1


def test_a_plain_bearer_pickup_still_works_and_metadata_advertises_dpop(
    client: FlaskClient, offer: Offer, device_key: KeySigner, clock: FakeClock
) -> None:
    response = token_request(client, offer, None)
    assert response.get_json()["token_type"] == "Bearer"
    token = response.get_json()["access_token"]
    issued = post(client, "/credential", credential_body(client, device_key, clock), authorization=f"Bearer {token}")
    assert issued.status_code == 200, issued.get_json()
    metadata = client.get("/.well-known/oauth-authorization-server").get_json()
    assert metadata["dpop_signing_alg_values_supported"] == ["ES256"]


# --- refused proofs at a resource -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"htm": "GET"}, "another method"),
        ({"htm": "post"}, "methods are case-sensitive"),
        ({"htu": f"{PUBLIC_URL}/nonce"}, "another endpoint"),
        ({"htu": "https://evil.example/credential"}, "another host"),
        ({"htu": "http://permits.example.gov.cn/credential"}, "another scheme"),
        ({"htu": "https://permits.example.gov.cn:8443/credential"}, "another port"),
        ({"htu": "https://user@permits.example.gov.cn/credential"}, "user information"),
        ({"htu": "/credential"}, "a relative URL"),
        ({"iat": -61}, "stale iat"),
        ({"iat": 61}, "iat in the future"),
        ({"access_token": "another-token"}, "ath of another token"),
        ({"payload": {"ath": None}}, "no ath"),
        ({"payload": {"jti": None}}, "no jti"),
        ({"payload": {"jti": 7}}, "jti not a string"),
        ({"payload": {"iat": "1"}}, "iat not a number"),
        ({"payload": {"nonce": ""}}, "an empty nonce"),
        ({"header": {"typ": "JWT"}}, "wrong typ"),
        ({"header": {"jwk": None}}, "no jwk"),
        ({"header": {"x5c": ["MIIB"]}}, "a certificate chain"),
    ],
)
def test_a_proof_for_another_request_or_time_is_refused_and_consumes_nothing(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock,
    change: dict[str, Any], why: str
) -> None:
    token = bound_token(client, offer, wallet_key, clock)
    change = dict(change)
    if "iat" in change:
        change["iat"] += clock.now
    body = credential_body(client, device_key, clock)
    bad = dpop_proof(wallet_key, **{"htu": CREDENTIAL_URL, "iat": clock.now, "access_token": token,
                                    "jti": "one-jti", **change})
    refused(post(client, "/credential", body, authorization=f"DPoP {token}", proofs=[bad]), "invalid_dpop_proof", 401)
    # Neither the key proof's c_nonce nor the jti were spent by the refused request.
    good = dpop_proof(wallet_key, htu=CREDENTIAL_URL, iat=clock.now, access_token=token, jti="one-jti")
    response = post(client, "/credential", body, authorization=f"DPoP {token}", proofs=[good])
    assert response.status_code == 200, (why, response.get_json())


@pytest.mark.parametrize("offset", [-60, 60])
def test_iat_at_the_edge_of_the_window_is_accepted(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock, offset: int
) -> None:
    token = bound_token(client, offer, wallet_key, clock)
    assert ask(client, token, wallet_key, device_key, clock, iat=clock.now + offset).status_code == 200


def test_the_iat_window_is_configurable(
    service: IssuerService, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    client = create_app(WalletApiSettings(public_url=PUBLIC_URL, dpop_iat_window=5), service, clock=clock).test_client()
    token = bound_token(client, offer, wallet_key, clock)
    refused(ask(client, token, wallet_key, device_key, clock, iat=clock.now - 6), "invalid_dpop_proof", 401)
    assert ask(client, token, wallet_key, device_key, clock, iat=clock.now - 5).status_code == 200


def test_htu_is_compared_after_normalisation_without_query_or_fragment(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    token = bound_token(client, offer, wallet_key, clock)
    htu = "HTTPS://Permits.Example.GOV.cn:443/./x/../%63redential?a=1#frag"
    assert ask(client, token, wallet_key, device_key, clock, htu=htu).status_code == 200


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://a.example", "https://a.example/"),
        ("HTTPS://A.Example:443/p?q#f", "https://a.example/p"),
        ("http://a.example:80/a/./b/../c/", "http://a.example/a/c/"),
        ("http://a.example:8080/%7euser/%2f", "http://a.example:8080/~user/%2F"),
        ("https://[::1]:443/x/..", "https://[::1]/"),
        ("https://a.example/a/b/..", "https://a.example/a/"),
    ],
)
def test_normalise_htu(url: str, normal: str) -> None:
    assert normalise_htu(url) == normal


@pytest.mark.parametrize("url", ["ftp://a.example/", "https:///x", "https://u:p@a.example/", "https://a.example:x/",
                                 "https://a.example/ü", "https://a.example/a b", "//a.example/"])
def test_normalise_htu_refuses_what_is_not_an_http_url(url: str) -> None:
    with pytest.raises(ValueError):
        normalise_htu(url)


@BOTH_STORES
def test_a_replayed_proof_is_refused_even_re_encoded(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    token = bound_token(client, offer, wallet_key, clock)
    proof = dpop_proof(wallet_key, htu=CREDENTIAL_URL, iat=clock.now, access_token=token)
    first = post(client, "/credential", credential_body(client, device_key, clock), authorization=f"DPoP {token}",
                 proofs=[proof])
    assert first.status_code == 200, first.get_json()
    replay = post(client, "/credential", credential_body(client, device_key, clock), authorization=f"DPoP {token}",
                  proofs=[proof])
    refused(replay, "invalid_dpop_proof", 401)
    # ECDSA is malleable: (r, n - s) is another valid signature over the same proof, so replay is judged by jti.
    signing_input, _, signature = proof.rpartition(".")
    raw = b64url_decode(signature)
    s = int.from_bytes(raw[32:], "big")
    twin = f"{signing_input}.{b64url_encode(raw[:32] + (P256_ORDER - s).to_bytes(32, 'big'))}"
    assert twin != proof
    again = post(client, "/credential", credential_body(client, device_key, clock), authorization=f"DPoP {token}",
                 proofs=[twin])
    refused(again, "invalid_dpop_proof", 401)
    assert "already used" in again.get_json()["error_description"]  # the signature verified: caught by jti


def test_a_used_jti_is_forgotten_only_once_the_iat_window_refuses_it(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    token = bound_token(client, offer, wallet_key, clock)
    issued_at = clock.now + 60  # the latest acceptable iat: valid until now + 120
    assert ask(client, token, wallet_key, device_key, clock, iat=issued_at, jti="j").status_code == 200
    clock.now += 120
    refused(ask(client, token, wallet_key, device_key, clock, iat=issued_at, jti="j"), "invalid_dpop_proof", 401)


def test_a_proof_by_another_key_is_invalid_token(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    token = bound_token(client, offer, wallet_key, clock)
    thief = KeySigner.generate("ES256")
    response = ask(client, token, thief, device_key, clock)
    refused(response, "invalid_token", 401)
    assert "another key" in response.get_json()["error_description"]


def test_a_bound_token_without_a_proof_or_as_bearer_is_refused(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    token = bound_token(client, offer, wallet_key, clock)
    body = credential_body(client, device_key, clock)
    refused(post(client, "/credential", body, authorization=f"DPoP {token}"), "invalid_dpop_proof", 401)
    proof = dpop_proof(wallet_key, htu=CREDENTIAL_URL, iat=clock.now, access_token=token)
    downgraded = post(client, "/credential", body, authorization=f"Bearer {token}", proofs=[proof])
    refused(downgraded, "invalid_token", 401)
    two = [proof, dpop_proof(wallet_key, htu=CREDENTIAL_URL, iat=clock.now, access_token=token)]
    refused(post(client, "/credential", body, authorization=f"DPoP {token}", proofs=two), "invalid_dpop_proof", 401)


def test_an_unbound_token_sent_as_dpop_is_refused(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    token = token_request(client, offer, None).get_json()["access_token"]
    refused(ask(client, token, wallet_key, device_key, clock), "invalid_token", 401)


# --- the token endpoint -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "change",
    [
        {"htu": f"{PUBLIC_URL}/credential"},
        {"htm": "PUT"},
        {"iat": -61},
        {"header": {"typ": "openid4vci-proof+jwt"}},
        {"header": {"alg": "ES384"}},
        {"header": {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}},
        {"header": {"jku": "https://evil.example/keys"}},
        {"header": {"crit": ["exp"]}},
        {"private_member": True},
        {"sign_with_other": True},
        {"garbage": "not.a.jwt"},
    ],
)
def test_a_bad_proof_at_the_token_endpoint_is_400_and_leaves_the_code_usable(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, clock: FakeClock, change: dict[str, Any]
) -> None:
    change = dict(change)
    if "iat" in change:
        change["iat"] += clock.now
    if change.pop("private_member", False):
        jwk = {**public_jwk(wallet_key.public_key), "d": "AAAA"}
        change["header"] = {"jwk": jwk}
    arguments: dict[str, Any] = {"htu": TOKEN_URL, "iat": clock.now, **change}
    garbage = arguments.pop("garbage", None)
    signer = KeySigner.generate("ES256") if arguments.pop("sign_with_other", False) else wallet_key
    if signer is not wallet_key:  # a proof whose jwk is not the key that signed it
        arguments["header"] = {"jwk": public_jwk(wallet_key.public_key)}
    proof = garbage or dpop_proof(signer, **arguments)
    response = token_request(client, offer, proof)
    refused(response, "invalid_dpop_proof", 400)
    assert bound_token(client, offer, wallet_key, clock)  # the pre-authorized code was not consumed


def test_two_dpop_headers_at_the_token_endpoint_are_refused(
    client: FlaskClient, offer: Offer, wallet_key: KeySigner, clock: FakeClock
) -> None:
    proofs = [dpop_proof(wallet_key, htu=TOKEN_URL, iat=clock.now) for _ in range(2)]
    refused(token_request(client, offer, proofs), "invalid_dpop_proof", 400)


# --- server nonces ------------------------------------------------------------------------------------------------

@pytest.fixture
def nonce_client(service: IssuerService, clock: FakeClock) -> FlaskClient:
    settings = WalletApiSettings(public_url=PUBLIC_URL, dpop_nonce_required=True, dpop_nonce_ttl=300)
    return create_app(settings, service, clock=clock).test_client()


@BOTH_STORES
def test_a_required_nonce_is_asked_for_with_use_dpop_nonce_and_the_retry_works(
    nonce_client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    client = nonce_client
    first = token_request(client, offer, dpop_proof(wallet_key, htu=TOKEN_URL, iat=clock.now))
    refused(first, "use_dpop_nonce", 400)  # RFC 9449 §8: the token endpoint answers 400 with DPoP-Nonce
    nonce = first.headers["DPoP-Nonce"]
    second = token_request(client, offer, dpop_proof(wallet_key, htu=TOKEN_URL, iat=clock.now, nonce=nonce))
    assert second.status_code == 200, second.get_json()
    assert second.headers["DPoP-Nonce"] == nonce  # still current: the wallet goes on with it
    token = second.get_json()["access_token"]

    assert ask(client, token, wallet_key, device_key, clock, nonce=nonce).status_code == 200
    unknown = ask(client, token, wallet_key, device_key, clock, nonce="made-up")
    refused(unknown, "use_dpop_nonce", 401)  # §9: a resource answers 401 with the DPoP challenge
    assert unknown.headers["DPoP-Nonce"] == nonce
    clock.now += 300  # past the nonce's ttl: a fresh one is made and the old one refused
    late = ask(client, token, wallet_key, device_key, clock, nonce=nonce)
    refused(late, "use_dpop_nonce", 401)
    fresh = late.headers["DPoP-Nonce"]
    assert fresh != nonce
    # the token's other configuration: it has delivered CONFIG once already
    assert ask(client, token, wallet_key, device_key, clock, nonce=fresh, configuration=QR_CONFIG).status_code == 200


def test_a_nonce_rotates_at_half_its_ttl_and_the_previous_one_stays_accepted(
    nonce_client: FlaskClient, offer: Offer, wallet_key: KeySigner, device_key: KeySigner, clock: FakeClock
) -> None:
    client = nonce_client
    nonce = token_request(client, offer, dpop_proof(wallet_key, htu=TOKEN_URL, iat=clock.now)).headers["DPoP-Nonce"]
    token = bound_token_with_nonce(client, offer, wallet_key, clock, nonce)
    clock.now += 150
    response = ask(client, token, wallet_key, device_key, clock, nonce=nonce)
    assert response.status_code == 200  # made 150 s ago: still accepted
    assert response.headers["DPoP-Nonce"] != nonce  # but a new one is handed out


def bound_token_with_nonce(client: FlaskClient, offer: Offer, key: KeySigner, clock: FakeClock, nonce: str) -> str:
    response = token_request(client, offer, dpop_proof(key, htu=TOKEN_URL, iat=clock.now, nonce=nonce))
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["access_token"]
    return token


# --- dpop_required ----------------------------------------------------------------------------------------------

@pytest.fixture
def strict_app(service: IssuerService, clock: FakeClock) -> Flask:
    return create_app(WalletApiSettings(public_url=PUBLIC_URL, dpop_required=True), service, clock=clock)


def test_dpop_required_refuses_plain_bearer_at_token_and_resources(
    strict_app: Flask, service: IssuerService, offer: Offer, wallet_key: KeySigner, device_key: KeySigner,
    clock: FakeClock
) -> None:
    client = strict_app.test_client()
    refused(token_request(client, offer, None), "invalid_dpop_proof", 400)
    # A bearer token from before the setting was turned on (the same store) is no longer accepted.
    record = service.register(sample_permit_valid_at(service.clock()), officer=OFFICER)
    other = service.create_offer(record.id, officer=OFFICER)
    bearer = service.redeem(other.pre_authorized_code, other.tx_code)
    body = credential_body(client, device_key, clock)
    for authorization in (f"Bearer {bearer}", None):
        refused(post(client, "/credential", body, authorization=authorization), "invalid_token", 401)
    token = bound_token(client, offer, wallet_key, clock)
    assert ask(client, token, wallet_key, device_key, clock).status_code == 200


def test_settings_refuse_a_nonce_ttl_too_short_to_rotate() -> None:
    with pytest.raises(SettingsError):
        WalletApiSettings(public_url=PUBLIC_URL, dpop_nonce_ttl=1)
