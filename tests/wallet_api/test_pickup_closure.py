"""Over a real HTTP server, both stores: a suspended or revoked record's open pickup is closed at once, and a
refused request costs the resident nothing.

Before, revoking or suspending a record left its open offer redeemable: the by-reference offer was still
served, /token spent the resident's code and handed out a token, and only /credential refused.
"""

from __future__ import annotations

import datetime

import pytest
from werkzeug.serving import BaseWSGIServer

from credential.passclaims import validity_window
from credential.samples import sample_permit
from issuer.model import Offer, offer_url
from issuer.rules import beijing_day
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES, OFFICER, PUBLIC_URL
from tests.wallet_api.httpclient import Answer, call
from tests.wallet_api.support import PRE_AUTH_GRANT, make_proof

SUPERVISOR = "sup-0001"


def local(server: BaseWSGIServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_port}{path}"


def token_request(server: BaseWSGIServer, offer: Offer) -> Answer:
    return call("POST", local(server, "/token"), form={"grant_type": PRE_AUTH_GRANT,
                                                       "pre-authorized_code": offer.pre_authorized_code,
                                                       "tx_code": offer.tx_code})


def offer_document(server: BaseWSGIServer, offer: Offer) -> Answer:
    return call("GET", local(server, offer_url(PUBLIC_URL, offer.offer_id).removeprefix(PUBLIC_URL)))


@BOTH_STORES
@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_a_suspended_or_revoked_record_closes_its_open_pickup(
    server: BaseWSGIServer, service: IssuerService, offer: Offer, action: str
) -> None:
    assert offer_document(server, offer).status == 200
    getattr(service, action)(offer.record_id, officer=SUPERVISOR, reason="closed", reason_code="OTHER")
    assert offer_document(server, offer).status == 404
    answer = token_request(server, offer)
    assert (answer.status, answer.json()["error"]) == (400, "invalid_grant")
    stored = service.store.get_offer(offer.ref)
    assert stored is not None and stored.state == "cancelled"
    if action == "suspend":  # a lift does not reopen it: the office makes a new offer
        service.lift(offer.record_id, officer=SUPERVISOR, reason="cleared", reason_code="RESOLVED")
        assert token_request(server, offer).status == 400
        fresh = service.create_offer(offer.record_id, officer=OFFICER)
        assert token_request(server, fresh).status == 200


@BOTH_STORES
def test_a_redeemed_pickup_stays_redeemed_when_the_record_is_suspended(
    server: BaseWSGIServer, service: IssuerService, offer: Offer
) -> None:
    """Only open offers close: a redeemed one keeps its history; its token is refused at /credential."""
    token = token_request(server, offer).json()["access_token"]
    service.suspend(offer.record_id, officer=SUPERVISOR, reason="hold", reason_code="OTHER")
    stored = service.store.get_offer(offer.ref)
    assert stored is not None and stored.state == "redeemed"
    nonce = call("POST", local(server, "/nonce")).json()["c_nonce"]
    proof = make_proof(KeySigner.generate("ES256"), aud=PUBLIC_URL, nonce=nonce, iat=service.clock())
    answer = call("POST", local(server, "/credential"), token=token,
                  body={"credential_configuration_id": "residence_permit_sd_jwt", "proofs": {"jwt": [proof]}})
    assert (answer.status, answer.json()["error"]) == (400, "credential_request_denied")


@BOTH_STORES
def test_a_pickup_whose_permit_has_ended_keeps_its_code(
    server: BaseWSGIServer, service: IssuerService, clock: FakeClock
) -> None:
    """The right PIN for a permit whose validity ended while the offer was open: refused at /token with the
    reason, the code not spent (nothing /credential would refuse is worth the resident's code)."""
    today = beijing_day(clock())
    permit = sample_permit(valid_from=today - datetime.timedelta(days=200), valid_until=today)
    made = service.create_offer(service.register(permit, officer=OFFICER).id, officer=OFFICER)
    clock.now = validity_window(permit)[1]  # midnight ends the validity; the offer lives a week
    answer = token_request(server, made)
    assert (answer.status, answer.json()["error"]) == (400, "invalid_grant")
    assert "validity has ended" in answer.json()["error_description"]
    stored = service.store.get_offer(made.ref)
    assert stored is not None and stored.state == "open"
