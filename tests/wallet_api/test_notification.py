"""The notification endpoint: 204 for a report about our credentials, recorded once for the officer."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from issuer.model import Offer
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import PUBLIC_URL
from tests.wallet_api.support import access_token, fetch_nonce, make_proof, post_json, request_credential


def picked_up(client: FlaskClient, offer: Offer, key: KeySigner, clock: FakeClock) -> tuple[str, str]:
    """(access token, notification_id) after one credential response."""
    token = access_token(client, offer.pre_authorized_code, offer.tx_code)
    proof = make_proof(key, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
    response = request_credential(client, token, "residence_permit_sd_jwt", [proof])
    assert response.status_code == 200
    notification_id: str = response.get_json()["notification_id"]
    return token, notification_id


def notify(client: FlaskClient, token: str | None, body: object) -> Any:
    return post_json(client, "/notification", token, body)


def refused(response: Any, error: str, status: int = 400) -> None:
    assert (response.status_code, response.get_json()["error"]) == (status, error), response.get_json()


def test_accepted_is_204_and_the_officer_sees_the_pickup_confirmed_once(
    client: FlaskClient, service: IssuerService, offer: Offer, device_key: KeySigner, clock: FakeClock
) -> None:
    token, notification_id = picked_up(client, offer, device_key, clock)
    for _ in range(3):  # idempotent: every identical report succeeds
        response = notify(client, token, {"notification_id": notification_id, "event": "credential_accepted"})
        assert response.status_code == 204 and response.data == b""
    confirmed = [e for e in service.audit.list() if e.action == "pickup_confirmed"]
    assert len(confirmed) == 1
    assert confirmed[0].record_id == offer.record_id and confirmed[0].officer == "wallet"
    response = notify(client, token, {"notification_id": notification_id, "event": "credential_deleted",
                                      "event_description": "The user removed it", "future_field": 1})
    assert response.status_code == 204
    deleted = [e for e in service.audit.list() if e.action == "pickup_deleted"]
    assert len(deleted) == 1 and deleted[0].reason.endswith(": The user removed it")


def test_failure_is_recorded(client: FlaskClient, service: IssuerService, offer: Offer, device_key: KeySigner,
                             clock: FakeClock) -> None:
    token, notification_id = picked_up(client, offer, device_key, clock)
    response = notify(client, token, {"notification_id": notification_id, "event": "credential_failure",
                                      "event_description": "Could not store the Credential. Out of storage."})
    assert response.status_code == 204
    assert [e.action for e in service.audit.list()][-1] == "pickup_failed"


def test_unknown_or_foreign_notification_ids(client: FlaskClient, service: IssuerService, offer: Offer,
                                             device_key: KeySigner, clock: FakeClock) -> None:
    token, notification_id = picked_up(client, offer, device_key, clock)
    for bad in ("never-issued", "n" * 1000):
        refused(notify(client, token, {"notification_id": bad, "event": "credential_accepted"}),
                "invalid_notification_id")
    from credential.samples import sample_permit

    other_record = service.register(sample_permit(resident=1), officer="o-1")
    other_offer = service.create_offer(other_record.id, officer="o-1")
    other_token = access_token(client, other_offer.pre_authorized_code, other_offer.tx_code)
    refused(notify(client, other_token, {"notification_id": notification_id, "event": "credential_accepted"}),
            "invalid_notification_id")
    assert not [e for e in service.audit.list() if e.action == "pickup_confirmed"]


@pytest.mark.parametrize(
    "body",
    [
        {"event": "credential_accepted"},
        {"notification_id": "", "event": "credential_accepted"},
        {"notification_id": 5, "event": "credential_accepted"},
        {"notification_id": "n"},
        {"notification_id": "n", "event": "CREDENTIAL_ACCEPTED"},
        {"notification_id": "n", "event": "credential_revoked"},
        {"notification_id": "n", "event": "credential_accepted", "event_description": 'has "quotes"'},
        {"notification_id": "n", "event": "credential_accepted", "event_description": "非ASCII"},
        {"notification_id": "n", "event": "credential_accepted", "event_description": "x" * 501},
        {"notification_id": "n", "event": "credential_accepted", "event_description": 7},
        [],
    ],
)
def test_malformed_reports_are_invalid_notification_request(
    client: FlaskClient, offer: Offer, body: object
) -> None:
    token = access_token(client, offer.pre_authorized_code, offer.tx_code)
    response = notify(client, token, body)
    refused(response, "invalid_notification_request")
    assert response.headers["Cache-Control"] == "no-store"


def test_non_json_bodies(client: FlaskClient, offer: Offer) -> None:
    token = access_token(client, offer.pre_authorized_code, offer.tx_code)
    headers = {"Authorization": f"Bearer {token}"}
    for data, content_type in (("{", "application/json"), ("notification_id=n", "application/x-www-form-urlencoded"),
                               ('{"a":1,"a":2}', "application/json")):
        refused(client.post("/notification", data=data, content_type=content_type, headers=headers),
                "invalid_notification_request")


def test_the_token_comes_first(client: FlaskClient, offer: Offer, device_key: KeySigner, clock: FakeClock) -> None:
    token, notification_id = picked_up(client, offer, device_key, clock)
    for bad in (None, "not-a-token"):
        response = notify(client, bad, {"notification_id": notification_id, "event": "credential_accepted"})
        refused(response, "invalid_token", 401)
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    clock.now += 601  # the access token expired
    refused(notify(client, token, {"notification_id": notification_id, "event": "credential_accepted"}),
            "invalid_token", 401)


def test_openid4vci_models_accept_our_notification_messages(
    client: FlaskClient, offer: Offer, device_key: KeySigner, clock: FakeClock
) -> None:
    notification = pytest.importorskip("openid4vci.models.notification")
    credential_models = pytest.importorskip("openid4vci.models.credential")
    token = access_token(client, offer.pre_authorized_code, offer.tx_code)
    proof = make_proof(device_key, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
    response = credential_models.CredentialResponse.model_validate(
        request_credential(client, token, "residence_permit_sd_jwt", [proof]).get_json())
    assert response.notification_id
    request = notification.NotificationRequest(notification_id=response.notification_id,
                                               event=notification.NotificationEvent.CREDENTIAL_ACCEPTED)
    assert notify(client, token, request.model_dump(mode="json", exclude_none=True)).status_code == 204
    error = notify(client, token, {"notification_id": "x", "event": "credential_accepted"}).get_json()["error"]
    assert error == notification.NotificationErrorCode.INVALID_NOTIFICATION_ID.value
