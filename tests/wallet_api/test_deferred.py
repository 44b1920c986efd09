"""Deferred issuance: an offer made before approval answers 202, the wallet polls, an officer decides."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from credential.jwk import public_jwk
from credential.samples import sample_permit_valid_at
from credential.sdjwt import verify_sd_jwt_vc
from issuer.errors import StateConflictError
from issuer.model import Offer, RecordState
from issuer.service import IssuerService
from keys.keyring import KeyRing
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES, OFFICER, PUBLIC_URL
from tests.wallet_api.support import access_token, fetch_nonce, make_proof, post_json, request_credential
from tests.wallet_api.test_flow import resolver

CONFIG = "residence_permit_sd_jwt"
SUPERVISOR = "supervisor-0001"


@pytest.fixture
def pending_offer(service: IssuerService) -> Offer:
    record = service.register(sample_permit_valid_at(service.clock()), officer=OFFICER)
    return service.create_offer(record.id, officer=OFFICER, pending=True)


def ask(client: FlaskClient, token: str, keys: list[KeySigner], clock: FakeClock, config: str = CONFIG) -> Any:
    nonce = fetch_nonce(client)
    return request_credential(client, token, config,
                              [make_proof(key, aud=PUBLIC_URL, nonce=nonce, iat=clock.now) for key in keys])


def deferred_202(client: FlaskClient, token: str, keys: list[KeySigner], clock: FakeClock) -> str:
    response = ask(client, token, keys, clock)
    assert response.status_code == 202, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"transaction_id", "interval"} and body["interval"] == 300
    transaction_id: str = body["transaction_id"]
    return transaction_id


def poll(client: FlaskClient, token: str, transaction_id: object) -> Any:
    return post_json(client, "/deferred_credential", token, {"transaction_id": transaction_id})


def refused(response: Any, error: str, status: int = 400) -> None:
    assert (response.status_code, response.get_json()["error"]) == (status, error), response.get_json()
    assert response.headers["Cache-Control"] == "no-store"


@BOTH_STORES
def test_pending_then_approved_delivers_to_the_proven_keys(
    client: FlaskClient, service: IssuerService, pending_offer: Offer, keyring: KeyRing, clock: FakeClock
) -> None:
    token = access_token(client, pending_offer.pre_authorized_code, pending_offer.tx_code)
    keys = [KeySigner.generate(), KeySigner.generate()]
    transaction_id = deferred_202(client, token, keys, clock)
    assert service.store.delivered(pending_offer.record_id) == []  # nothing signed while pending

    pending = poll(client, token, transaction_id)
    assert pending.status_code == 202
    assert pending.get_json() == {"transaction_id": transaction_id, "interval": 300}

    clock.now += 3600  # past the access token's 600 s: deferral keeps it alive for polling
    service.approve(pending_offer.record_id, officer=SUPERVISOR)
    response = poll(client, token, transaction_id)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["notification_id"]
    credentials = [verify_sd_jwt_vc(c["credential"], resolve_key=resolver(keyring), now=clock.now,
                                    require_key_binding=False) for c in body["credentials"]]
    assert [public_jwk(c.holder_key) for c in credentials if c.holder_key] == [public_jwk(k.public_key)
                                                                                for k in keys]
    assert len({c.status_idx for c in credentials}) == 2
    refused(poll(client, token, transaction_id), "invalid_transaction_id")  # used up
    actions = [entry.action for entry in service.audit.list()]
    assert {"deliver_deferred", "approve", "deliver"} <= set(actions)


def test_a_qr_configuration_is_delivered_as_qr_text_after_approval(
    client: FlaskClient, service: IssuerService, pending_offer: Offer, device_key: KeySigner, clock: FakeClock
) -> None:
    token = access_token(client, pending_offer.pre_authorized_code, pending_offer.tx_code)
    response = ask(client, token, [device_key], clock, "residence_permit_qr")
    assert response.status_code == 202
    service.approve(pending_offer.record_id, officer=SUPERVISOR)
    delivered = poll(client, token, response.get_json()["transaction_id"])
    assert delivered.get_json()["credentials"][0]["credential"].startswith("EP1:")


@BOTH_STORES
def test_denied_application_is_credential_request_denied(
    client: FlaskClient, service: IssuerService, pending_offer: Offer, device_key: KeySigner, clock: FakeClock
) -> None:
    token = access_token(client, pending_offer.pre_authorized_code, pending_offer.tx_code)
    transaction_id = deferred_202(client, token, [device_key], clock)
    record = service.deny(pending_offer.record_id, officer=SUPERVISOR, reason="registration not confirmed")
    assert record.state is RecordState.REVOKED
    refused(poll(client, token, transaction_id), "credential_request_denied")
    refused(poll(client, token, transaction_id), "invalid_transaction_id")  # the transaction is dropped
    refused(ask(client, token, [device_key], clock), "credential_request_denied")


def test_a_record_suspended_while_pending_is_denied(
    client: FlaskClient, service: IssuerService, pending_offer: Offer, device_key: KeySigner, clock: FakeClock
) -> None:
    token = access_token(client, pending_offer.pre_authorized_code, pending_offer.tx_code)
    transaction_id = deferred_202(client, token, [device_key], clock)
    service.suspend(pending_offer.record_id, officer=SUPERVISOR, reason="address check")
    refused(poll(client, token, transaction_id), "credential_request_denied")


def test_transaction_ids_are_bound_to_their_token(
    client: FlaskClient, service: IssuerService, pending_offer: Offer, offer: Offer, device_key: KeySigner,
    clock: FakeClock,
) -> None:
    token = access_token(client, pending_offer.pre_authorized_code, pending_offer.tx_code)
    transaction_id = deferred_202(client, token, [device_key], clock)
    other = access_token(client, offer.pre_authorized_code, offer.tx_code)
    refused(poll(client, other, transaction_id), "invalid_transaction_id")
    assert poll(client, token, transaction_id).status_code == 202  # the foreign poll did not destroy it


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"transaction_id": "never-issued"}, "invalid_transaction_id"),
        ({"transaction_id": "x" * 5000}, "invalid_transaction_id"),
        ({}, "invalid_credential_request"),
        ({"transaction_id": ""}, "invalid_credential_request"),
        ({"transaction_id": 7}, "invalid_credential_request"),
        ([], "invalid_credential_request"),
        ({"transaction_id": "t", "credential_response_encryption": {"jwk": {}, "enc": "A128GCM"}},
         "invalid_encryption_parameters"),
    ],
)
def test_bad_deferred_requests(client: FlaskClient, offer: Offer, body: object, error: str) -> None:
    token = access_token(client, offer.pre_authorized_code, offer.tx_code)
    refused(post_json(client, "/deferred_credential", token, body), error)


def test_deferred_endpoint_needs_the_token(client: FlaskClient, service: IssuerService, pending_offer: Offer,
                                           device_key: KeySigner, clock: FakeClock) -> None:
    token = access_token(client, pending_offer.pre_authorized_code, pending_offer.tx_code)
    transaction_id = deferred_202(client, token, [device_key], clock)
    for bad in (None, "not-a-token"):
        response = poll(client, bad, transaction_id)  # type: ignore[arg-type]
        refused(response, "invalid_token", 401)
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    clock.now += 7 * 86400 + 1  # the transaction and the token it kept alive both end
    refused(poll(client, token, transaction_id), "invalid_token", 401)
    response = client.post("/deferred_credential", data="{", content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_officer_decisions_need_a_pending_record(service: IssuerService, offer: Offer,
                                                  pending_offer: Offer) -> None:
    with pytest.raises(StateConflictError):
        service.approve(offer.record_id, officer=SUPERVISOR)  # never pending
    with pytest.raises(StateConflictError):
        service.deny(offer.record_id, officer=SUPERVISOR, reason="no")
    with pytest.raises(StateConflictError):  # a plain offer would bypass the approval
        service.create_offer(pending_offer.record_id, officer=OFFICER)
    assert service.awaiting_approval(pending_offer.record_id)
    service.approve(pending_offer.record_id, officer=SUPERVISOR)
    assert not service.awaiting_approval(pending_offer.record_id)
    with pytest.raises(StateConflictError):
        service.approve(pending_offer.record_id, officer=SUPERVISOR)  # once
    service.create_offer(pending_offer.record_id, officer=OFFICER)  # approved: plain offers work again


def test_openid4vci_models_accept_the_deferred_messages(
    client: FlaskClient, service: IssuerService, pending_offer: Offer, device_key: KeySigner, clock: FakeClock
) -> None:
    credential_models = pytest.importorskip("openid4vci.models.credential")
    deferred_models = pytest.importorskip("openid4vci.models.deferred")
    metadata = pytest.importorskip("openid4vci.models.metadata")
    document = metadata.CredentialIssuerMetadata.model_validate(
        client.get("/.well-known/openid-credential-issuer").get_json())
    assert str(document.deferred_credential_endpoint) == f"{PUBLIC_URL}/deferred_credential"
    assert str(document.notification_endpoint) == f"{PUBLIC_URL}/notification"

    token = access_token(client, pending_offer.pre_authorized_code, pending_offer.tx_code)
    first = credential_models.CredentialResponse.model_validate(ask(client, token, [device_key], clock).get_json())
    assert first.transaction_id and first.interval == 300 and first.credentials is None
    request = {"transaction_id": first.transaction_id}
    deferred_models.DeferredCredentialRequest.model_validate(request)
    still = deferred_models.DeferredCredentialResponse.model_validate(
        post_json(client, "/deferred_credential", token, request).get_json())
    assert still.transaction_id == first.transaction_id
    service.approve(pending_offer.record_id, officer=SUPERVISOR)
    done = deferred_models.DeferredCredentialResponse.model_validate(
        post_json(client, "/deferred_credential", token, request).get_json())
    assert done.credentials and done.notification_id and done.transaction_id is None
