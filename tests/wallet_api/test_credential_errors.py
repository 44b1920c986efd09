"""POST /credential refusals: token, request shape, proofs and nonces, each with its OpenID4VCI error code."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from issuer.model import Offer
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import OFFICER, PUBLIC_URL
from tests.wallet_api.support import fetch_nonce, make_proof, redeem, request_credential

CONFIG = "residence_permit_sd_jwt"


@pytest.fixture
def token(client: FlaskClient, offer: Offer) -> str:
    response = redeem(client, offer.pre_authorized_code, offer.tx_code)
    assert response.status_code == 200
    access_token: str = response.get_json()["access_token"]
    return access_token


def proof_for(client: FlaskClient, key: KeySigner, clock: FakeClock, **overrides: Any) -> str:
    return make_proof(key, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now, **overrides)


def refused(response: Any, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == error


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-token", "DPoP abc"]
)
def test_no_or_bad_bearer_token_is_401_invalid_token(
    client: FlaskClient, device_key: KeySigner, clock: FakeClock, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    body = {"credential_configuration_id": CONFIG, "proofs": {"jwt": [proof_for(client, device_key, clock)]}}
    response = client.post("/credential", json=body, headers=headers)
    refused(response, "invalid_token", 401)
    # A token sent with the DPoP scheme is answered with the DPoP challenge (RFC 9449 §7.1; tests/wallet_api/test_dpop.py).
    expected = "DPoP " if authorization == "DPoP abc" else 'Bearer error="invalid_token"'
    assert response.headers["WWW-Authenticate"].startswith(expected)


def test_an_expired_token_is_invalid_token(client: FlaskClient, token: str, device_key: KeySigner, clock: FakeClock) -> None:
    proof = proof_for(client, device_key, clock)
    clock.now += 601
    response = request_credential(client, token, CONFIG, [proof])
    refused(response, "invalid_token", 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize("action", ["suspend", "revoke"])
def test_a_record_suspended_or_revoked_after_redemption_is_denied(
    client: FlaskClient, service: IssuerService, offer: Offer, token: str, device_key: KeySigner, clock: FakeClock,
    action: str,
) -> None:
    getattr(service, action)(offer.record_id, officer=OFFICER, reason="check at the window")
    response = request_credential(client, token, CONFIG, [proof_for(client, device_key, clock)])
    refused(response, "credential_request_denied")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"header": {"typ": "JWT"}}, "invalid_proof"),
        ({"header": {"alg": "none"}}, "invalid_proof"),
        ({"header": {"jwk": None, "kid": "device-key-1"}}, "invalid_proof"),
        ({"payload": {"aud": "https://evil.example"}}, "invalid_proof"),
        ({"payload": {"iat": -1}}, "invalid_proof"),
        ({"payload": {"nonce": None}}, "invalid_proof"),
        ({"payload": {"nonce": "never-issued"}}, "invalid_nonce"),
    ],
)
def test_bad_proofs(
    client: FlaskClient, token: str, device_key: KeySigner, clock: FakeClock, overrides: dict[str, Any], error: str
) -> None:
    refused(request_credential(client, token, CONFIG, [proof_for(client, device_key, clock, **overrides)]), error)


def test_stale_iat_is_invalid_proof(client: FlaskClient, token: str, device_key: KeySigner, clock: FakeClock) -> None:
    proof = proof_for(client, device_key, clock, payload={"iat": clock.now - 301})
    refused(request_credential(client, token, CONFIG, [proof]), "invalid_proof")


def test_a_reused_nonce_is_invalid_nonce(client: FlaskClient, token: str, device_key: KeySigner, clock: FakeClock) -> None:
    proof = proof_for(client, device_key, clock)
    assert request_credential(client, token, CONFIG, [proof]).status_code == 200
    refused(request_credential(client, token, CONFIG, [proof]), "invalid_nonce")


def test_a_refused_proof_does_not_spend_the_nonce(
    client: FlaskClient, token: str, device_key: KeySigner, clock: FakeClock
) -> None:
    nonce = fetch_nonce(client)
    bad = make_proof(device_key, aud="https://evil.example", nonce=nonce, iat=clock.now)
    refused(request_credential(client, token, CONFIG, [bad]), "invalid_proof")
    good = make_proof(device_key, aud=PUBLIC_URL, nonce=nonce, iat=clock.now)
    assert request_credential(client, token, CONFIG, [good]).status_code == 200


def test_unknown_configuration(client: FlaskClient, token: str, device_key: KeySigner, clock: FakeClock) -> None:
    for configuration_id in ("residence_registration_sd_jwt", "mdl_mdoc"):
        response = request_credential(client, token, configuration_id, [proof_for(client, device_key, clock)])
        refused(response, "unknown_credential_configuration")


def test_too_many_proofs(client: FlaskClient, token: str, clock: FakeClock) -> None:
    nonce = fetch_nonce(client)
    proofs = [make_proof(KeySigner.generate(), aud=PUBLIC_URL, nonce=nonce, iat=clock.now) for _ in range(6)]
    refused(request_credential(client, token, CONFIG, proofs), "invalid_credential_request")
    assert request_credential(client, token, CONFIG, proofs[:5]).status_code == 200  # batch_size is 5


def test_two_proofs_for_one_key(client: FlaskClient, token: str, device_key: KeySigner, clock: FakeClock) -> None:
    nonce = fetch_nonce(client)
    proofs = [make_proof(device_key, aud=PUBLIC_URL, nonce=nonce, iat=clock.now - i) for i in range(2)]
    refused(request_credential(client, token, CONFIG, proofs), "invalid_proof")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"credential_configuration_id": CONFIG}, "invalid_proof"),
        ({"credential_configuration_id": CONFIG, "proofs": {"jwt": []}}, "invalid_proof"),
        ({"credential_configuration_id": CONFIG, "proofs": {"jwt": "x.y.z"}}, "invalid_proof"),
        ({"credential_configuration_id": CONFIG, "proofs": {"di_vp": [{}]}}, "invalid_proof"),
        ({"credential_configuration_id": CONFIG, "proofs": {"jwt": [1]}}, "invalid_proof"),
        ({"credential_configuration_id": CONFIG, "proof": {"proof_type": "jwt", "jwt": "x"}},
         "invalid_credential_request"),
        ({"credential_identifier": "x", "proofs": {"jwt": ["x"]}}, "invalid_credential_request"),
        ({"proofs": {"jwt": ["x"]}}, "invalid_credential_request"),
        ({"credential_configuration_id": 7, "proofs": {"jwt": ["x"]}}, "invalid_credential_request"),
        ({"credential_configuration_id": CONFIG, "proofs": {"jwt": ["x"]},
          "credential_response_encryption": {"jwk": {}, "enc": "A256GCM"}}, "invalid_encryption_parameters"),
    ],
)
def test_bad_request_bodies(client: FlaskClient, token: str, body: dict[str, Any], error: str) -> None:
    refused(client.post("/credential", json=body, headers={"Authorization": f"Bearer {token}"}), error)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{", "application/json"),
        ('{"a":1,"a":2}', "application/json"),
        ("[]", "application/json"),
        ("[" * 100 + "]" * 100, "application/json"),
        ('{"credential_configuration_id": NaN}', "application/json"),
        ('{"credential_configuration_id": "residence_permit_sd_jwt"}', "text/plain"),
        (b"\xff\xfe", "application/json"),
    ],
)
def test_malformed_json_is_400(client: FlaskClient, token: str, data: str | bytes, content_type: str) -> None:
    response = client.post("/credential", data=data, content_type=content_type,
                           headers={"Authorization": f"Bearer {token}"})
    refused(response, "invalid_credential_request")


def test_an_oversized_body_is_413_json(client: FlaskClient, token: str) -> None:
    body = b'{"pad":"' + b"a" * (64 * 1024) + b'"}'
    response = client.post("/credential", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    refused(response, "invalid_request", 413)
    response = client.post("/token", data=b"grant_type=" + b"a" * (70 * 1024),
                           content_type="application/x-www-form-urlencoded")
    refused(response, "invalid_request", 413)
