"""The wallet API for operators: /healthz, /readyz (ready through an outage while it keeps the last copies
it serves), pickups counted, store failures logged even when a last copy answers, and request logs that
carry no code, PIN or token (issuer.http.ops, issuer.http.logs, issuer.http.metrics)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from credential.samples import sample_permit_valid_at
from issuer.http import metrics
from issuer.http.logs import JsonFormatter
from issuer.model import Offer
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from keys import KeyRing
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.issuer.outage import OUTAGE_BACKENDS, sample, store_with_outage
from wallet_api import WalletApiSettings, create_app

from .conftest import BOTH_STORES, OFFICER, PUBLIC_URL
from .support import access_token, fetch_nonce, make_proof, redeem, request_credential


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


@BOTH_STORES
def test_healthz_and_readyz(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"store": "ok", "keys": "ok", "lists": "ok",
                                                                 "login": "ok: off"}}  # no login identity


def test_the_wallet_api_serves_no_metrics(client: FlaskClient) -> None:
    assert client.get("/metrics").status_code == 404


@OUTAGE_BACKENDS
def test_readyz_during_an_outage_names_the_store_and_relies_on_the_last_copies(
    backend: str, tmp_path: Path, keyring: KeyRing, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with store_with_outage(backend, tmp_path) as (store, go_down):
        service = IssuerService(store, keyring, IssuerSettings(public_url=PUBLIC_URL, status_list_size=1024), clock)
        served = create_app(WalletApiSettings(public_url=PUBLIC_URL), service, clock=clock).test_client()
        fresh = create_app(WalletApiSettings(public_url=PUBLIC_URL), service, clock=clock).test_client()
        trust_list = served.get("/trustlist.jwt")
        assert trust_list.status_code == 200
        go_down()
        with caplog.at_level(logging.INFO):
            ready = served.get("/readyz")
            never_served = fresh.get("/readyz")
            kept = served.get("/trustlist.jwt")
        assert ready.status_code == 503
        assert ready.get_json()["failing"] == ["store"]
        assert ready.get_json()["checks"] == {"store": "StoreUnavailableError", "keys": "ok", "lists": "ok: last copies",
                                              "login": "ok: off"}
        assert never_served.status_code == 503
        assert never_served.get_json()["failing"] == ["store", "lists"]
        assert kept.status_code == 200 and kept.data == trust_list.data
        store_errors = [line for line in lines(caplog) if line.get("event") == "store_error"]
        assert {line["where"] for line in store_errors} >= {"readyz:store", "readyz:lists", "last copy"}
        assert all(line["level"] == "error" and line["api"] == "wallet" for line in store_errors)


@BOTH_STORES
def test_a_pickup_is_counted_per_credential_delivered(client: FlaskClient, offer: Offer, clock: FakeClock) -> None:
    before = sample(metrics.exposition().decode(), "epermit_credentials_delivered_total")
    token = access_token(client, offer.pre_authorized_code, offer.tx_code)
    nonce = fetch_nonce(client)
    proofs = [make_proof(KeySigner.generate("ES256"), aud=PUBLIC_URL, nonce=nonce, iat=clock.now) for _ in range(2)]
    response = request_credential(client, token, "residence_permit_sd_jwt", proofs)
    assert response.status_code == 200 and len(response.get_json()["credentials"]) == 2
    refused = request_credential(client, token, "residence_permit_qr", ["not-a-proof"])
    assert refused.status_code == 400  # a refused request delivers nothing
    after = metrics.exposition().decode()
    assert sample(after, "epermit_credentials_delivered_total") == before + 2
    assert sample(after, "epermit_http_requests_total", api="wallet", route="/credential", method="POST",
                  status="200") >= 1


@BOTH_STORES
def test_no_code_pin_or_token_reaches_the_logs(
    client: FlaskClient, service: IssuerService, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    record = service.register(sample_permit_valid_at(clock()), officer=OFFICER)
    offer = service.create_offer(record.id, officer=OFFICER)
    wrong_pin = "000000" if offer.tx_code != "000000" else "111111"
    with caplog.at_level(logging.DEBUG):
        assert redeem(client, offer.pre_authorized_code, wrong_pin).status_code == 400
        token = access_token(client, offer.pre_authorized_code, offer.tx_code)
        client.get(f"/offers/{offer.offer_id}?tx_code={offer.tx_code}")
        request_credential(client, token, "residence_permit_sd_jwt", ["x.y.z"])
        client.post(f"/token?pre-authorized_code={offer.pre_authorized_code}", data={"tx_code": offer.tx_code})
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    for secret in (offer.pre_authorized_code, offer.tx_code, wrong_pin, token, offer.offer_id, record.id,
                   record.permit.holder.citizen_id):
        assert secret not in logged
    requests = [line for line in lines(caplog) if line.get("event") == "request"]
    assert [line["route"] for line in requests] == ["/token", "/token", "/offers/<offer_id>", "/credential", "/token"]
    assert all(set(line) >= {"method", "route", "status", "duration_ms", "request_id"} for line in requests)
