"""The officer API side of deferred issuance: a pending offer, the supervisor's approve or deny, and the
wallet that was waiting (issuer.api + issuer.desk additions used by the wallet API)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from credential.samples import sample_permit, sample_permit_valid_at
from issuer.http.app import create_app as create_officer_app
from issuer.http.context import OfficerApiSettings
from issuer.model import Officer, Role
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import OFFICER, PUBLIC_URL
from tests.wallet_api.support import access_token, fetch_nonce, make_proof, post_json, request_credential


@pytest.fixture
def officer_client(service: IssuerService) -> FlaskClient:
    return create_officer_app(OfficerApiSettings(), service).test_client()


@pytest.fixture
def tokens(service: IssuerService, clock: FakeClock) -> dict[str, dict[str, str]]:
    district = sample_permit().district
    registry = OfficerRegistry(service.store, keyed=service.keyed, clock=clock)
    issued: dict[str, dict[str, str]] = {}
    for officer in (Officer("issuer", "民警", Role.ISSUING_OFFICER, (district,)),
                    Officer("sup", "所长", Role.SUPERVISOR, (district,))):
        registry.put(officer)
        issued[officer.id] = {"Authorization": f"Bearer {registry.issue_token(officer.id, ttl=3600)}"}
    return issued


def pending_pickup(officer_client: FlaskClient, client: FlaskClient, service: IssuerService,
                   tokens: dict[str, dict[str, str]], clock: FakeClock) -> tuple[str, str, str]:
    record = service.register(sample_permit_valid_at(service.clock()), officer=OFFICER)
    response = officer_client.post(f"/api/v1/records/{record.id}/offers", json={"pending": True},
                                   headers=tokens["issuer"])
    assert response.status_code == 201, response.get_json()
    offer = response.get_json()
    token = access_token(client, offer["pre_authorized_code"], offer["tx_code"])
    proof = make_proof(KeySigner.generate(), aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
    answer = request_credential(client, token, "residence_permit_sd_jwt", [proof])
    assert answer.status_code == 202
    return record.id, token, answer.get_json()["transaction_id"]


def test_supervisor_approves_through_the_officer_api(
    officer_client: FlaskClient, client: FlaskClient, service: IssuerService, tokens: dict[str, dict[str, str]], clock: FakeClock
) -> None:
    record_id, token, transaction_id = pending_pickup(officer_client, client, service, tokens, clock)
    refused = officer_client.post(f"/api/v1/records/{record_id}/approve", headers=tokens["issuer"])
    assert refused.status_code == 403  # separation of duties: the issuing officer cannot approve
    assert post_json(client, "/deferred_credential", token, {"transaction_id": transaction_id}).status_code == 202
    approved = officer_client.post(f"/api/v1/records/{record_id}/approve", headers=tokens["sup"])
    assert approved.status_code == 200, approved.get_json()
    again = officer_client.post(f"/api/v1/records/{record_id}/approve", headers=tokens["sup"])
    assert again.status_code == 409
    assert post_json(client, "/deferred_credential", token, {"transaction_id": transaction_id}).status_code == 200


def test_supervisor_denies_through_the_officer_api(
    officer_client: FlaskClient, client: FlaskClient, service: IssuerService, tokens: dict[str, dict[str, str]], clock: FakeClock
) -> None:
    record_id, token, transaction_id = pending_pickup(officer_client, client, service, tokens, clock)
    denied = officer_client.post(f"/api/v1/records/{record_id}/deny", json={"reason": "address not confirmed"},
                                 headers=tokens["sup"])
    assert denied.status_code == 200, denied.get_json()
    assert denied.get_json()["state"] == "revoked"
    response = post_json(client, "/deferred_credential", token, {"transaction_id": transaction_id})
    assert (response.status_code, response.get_json()["error"]) == (400, "credential_request_denied")


def test_pending_must_be_a_boolean(officer_client: FlaskClient, service: IssuerService,
                                   tokens: dict[str, dict[str, str]]) -> None:
    record = service.register(sample_permit_valid_at(service.clock()), officer=OFFICER)
    response = officer_client.post(f"/api/v1/records/{record.id}/offers", json={"pending": "yes"},
                                   headers=tokens["issuer"])
    assert response.status_code == 400
    plain = officer_client.post(f"/api/v1/records/{record.id}/offers", headers=tokens["issuer"])
    assert plain.status_code == 201  # no body: a normal offer, as before
