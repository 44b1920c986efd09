"""Over a real HTTP server, both stores: one pickup buys each configuration once, then its token is spent.

Before, an access token worked for its whole lifetime: 6 credential requests of 5 proofs each gave 30
credentials, bound to any keys the holder of the token chose. Now each configuration of the offer is
delivered once per token (a batch, at most the wallet API's batch_size keys, counting as one delivery);
a refused request spends nothing, and the token still serves its notifications.
"""

from __future__ import annotations

import pytest
from werkzeug.serving import BaseWSGIServer

from issuer.model import Offer
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES, OFFICER, PUBLIC_URL
from tests.wallet_api.httpclient import Answer, call
from tests.wallet_api.support import PRE_AUTH_GRANT, make_proof
from tests.wallet_api.test_concurrency import crowd
from wallet_api import WalletApiSettings

SD_JWT, QR = "residence_permit_sd_jwt", "residence_permit_qr"


@pytest.fixture
def settings() -> WalletApiSettings:
    return WalletApiSettings(public_url=PUBLIC_URL, nonce_requests_per_client=10_000)


def local(server: BaseWSGIServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_port}{path}"


def access_token(server: BaseWSGIServer, offer: Offer) -> str:
    form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": offer.pre_authorized_code, "tx_code": offer.tx_code}
    answer = call("POST", local(server, "/token"), form=form)
    assert answer.status == 200, answer.body
    token: str = answer.json()["access_token"]
    return token


def credential_request(server: BaseWSGIServer, token: str, configuration_id: str, keys: int, now: int, *,
                       nonce: str | None = None) -> Answer:
    nonce = nonce or call("POST", local(server, "/nonce")).json()["c_nonce"]
    proofs = [make_proof(KeySigner.generate(), aud=PUBLIC_URL, nonce=nonce, iat=now) for _ in range(keys)]
    return call("POST", local(server, "/credential"), token=token,
                body={"credential_configuration_id": configuration_id, "proofs": {"jwt": proofs}})


@BOTH_STORES
def test_six_full_batches_buy_each_configuration_once(
    server: BaseWSGIServer, service: IssuerService, offer: Offer, settings: WalletApiSettings, clock: FakeClock
) -> None:
    token = access_token(server, offer)
    answers = [credential_request(server, token, (SD_JWT, QR)[n % 2], settings.batch_size, clock.now)
               for n in range(6)]
    assert [a.status for a in answers] == [200, 200, 401, 401, 401, 401]
    assert {a.json()["error"] for a in answers[2:]} == {"invalid_token"}
    assert [len(a.json()["credentials"]) for a in answers[:2]] == [settings.batch_size] * 2
    assert len(service.store.delivered(offer.record_id)) == 2 * settings.batch_size  # not 30
    # The spent token still reports what became of what it got (OpenID4VCI §11).
    report = {"notification_id": answers[0].json()["notification_id"], "event": "credential_accepted"}
    assert call("POST", local(server, "/notification"), token=token, body=report).status == 204


@BOTH_STORES
def test_concurrent_requests_for_one_configuration_deliver_once(
    server: BaseWSGIServer, service: IssuerService, offer: Offer, clock: FakeClock
) -> None:
    token = access_token(server, offer)
    nonces = [call("POST", local(server, "/nonce")).json()["c_nonce"] for _ in range(50)]
    results = crowd(lambda: credential_request(server, token, SD_JWT, 1, clock.now, nonce=nonces.pop()))
    assert sorted(a.status for a in results) == [200] + [401] * 49
    assert len(service.store.delivered(offer.record_id)) == 1


@BOTH_STORES
def test_a_refused_request_spends_nothing(
    server: BaseWSGIServer, service: IssuerService, offer: Offer, clock: FakeClock
) -> None:
    """A bad proof, a used nonce, a configuration the token does not cover: the delivery is still there."""
    token = access_token(server, offer)
    stale = credential_request(server, token, SD_JWT, 1, clock.now - 3600)  # a proof too old
    assert (stale.status, stale.json()["error"]) == (400, "invalid_proof")
    other = credential_request(server, token, "residence_registration_sd_jwt", 1, clock.now)
    assert (other.status, other.json()["error"]) == (400, "unknown_credential_configuration")
    assert credential_request(server, token, SD_JWT, 2, clock.now).status == 200
    assert len(service.store.delivered(offer.record_id)) == 2


@BOTH_STORES
def test_a_deferred_request_is_the_configurations_one_delivery(
    server: BaseWSGIServer, service: IssuerService, clock: FakeClock
) -> None:
    """Pending approval, each credential request opens a transaction that delivers after approval: a
    second one for the same configuration would deliver twice, so it is refused too."""
    from credential.samples import sample_permit_valid_at

    record = service.register(sample_permit_valid_at(clock.now), officer=OFFICER)
    token = access_token(server, service.create_offer(record.id, officer=OFFICER, pending=True))
    first = credential_request(server, token, QR, 1, clock.now)
    assert first.status == 202
    again = credential_request(server, token, QR, 1, clock.now)
    assert (again.status, again.json()["error"]) == (401, "invalid_token")
    service.approve(record.id, officer="sup-0001")
    poll = call("POST", local(server, "/deferred_credential"), token=token,
                body={"transaction_id": first.json()["transaction_id"]})
    assert poll.status == 200 and len(poll.json()["credentials"]) == 1
    assert credential_request(server, token, SD_JWT, 1, clock.now).status == 200  # the other configuration
    assert len(service.store.delivered(record.id)) == 2
