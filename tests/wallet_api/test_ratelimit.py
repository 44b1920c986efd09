"""Rate limits: per client on /token and /nonce, per pre-authorized code on /token; 429 + Retry-After + JSON."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from issuer.errors import SettingsError
from issuer.model import Offer
from issuer.service import IssuerService
from tests.conftest import FakeClock
from tests.wallet_api.conftest import PUBLIC_URL
from tests.wallet_api.support import PRE_AUTH_GRANT
from wallet_api import WalletApiSettings, create_app


@pytest.fixture
def settings() -> WalletApiSettings:
    return WalletApiSettings(public_url=PUBLIC_URL, rate_window=60, token_requests_per_client=4,
                             token_requests_per_code=3, nonce_requests_per_client=5)


def token_from(client: FlaskClient, address: str, code: str, pin: str) -> Any:
    form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code, "tx_code": pin}
    return client.post("/token", data=form, environ_base={"REMOTE_ADDR": address})


def limited(response: Any) -> None:
    assert response.status_code == 429, response.get_json()
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == "rate_limited"
    assert response.headers["Retry-After"] == "60"
    assert response.headers["Cache-Control"] == "no-store"


def test_token_requests_per_client(client: FlaskClient, offer: Offer, clock: FakeClock) -> None:
    for n in range(4):  # unknown codes: each one counts against the address, even malformed ones
        assert token_from(client, "10.0.0.1", f"guess-{n}", "000000").status_code == 400
    limited(token_from(client, "10.0.0.1", offer.pre_authorized_code, offer.tx_code))
    limited(client.post("/token", data="garbage", environ_base={"REMOTE_ADDR": "10.0.0.1"}))
    # Another address is not affected; the limited one is served again after the window.
    assert token_from(client, "10.0.0.2", "guess", "000000").status_code == 400
    clock.now += 60
    assert token_from(client, "10.0.0.1", offer.pre_authorized_code, offer.tx_code).status_code == 200


def test_token_requests_per_code_from_many_addresses(client: FlaskClient, service: IssuerService,
                                                     offer: Offer) -> None:
    wrong = f"{(int(offer.tx_code) + 1) % 1_000_000:06d}"
    for n in range(3):
        assert token_from(client, f"10.1.0.{n}", offer.pre_authorized_code, wrong).status_code == 400
    # A fourth try at this code from yet another address: refused before the PIN is even compared.
    limited(token_from(client, "10.1.0.9", offer.pre_authorized_code, offer.tx_code))
    assert "offer_burned" not in [e.action for e in service.audit.list()]  # 3 PIN attempts counted, not more


def test_nonce_requests_per_client(client: FlaskClient, clock: FakeClock) -> None:
    for _ in range(5):
        assert client.post("/nonce", environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 200
    limited(client.post("/nonce", environ_base={"REMOTE_ADDR": "10.2.0.1"}))
    assert client.post("/nonce", environ_base={"REMOTE_ADDR": "10.2.0.2"}).status_code == 200


@pytest.mark.parametrize("name", ["rate_window", "token_requests_per_client", "token_requests_per_code",
                                  "nonce_requests_per_client", "deferred_interval"])
def test_limits_must_be_positive(name: str) -> None:
    with pytest.raises(SettingsError):
        WalletApiSettings(public_url=PUBLIC_URL, **{name: 0})  # type: ignore[arg-type]


def test_limits_are_shared_by_instances_on_one_store(service: IssuerService, clock: FakeClock, offer: Offer,
                                                     settings: WalletApiSettings) -> None:
    first = create_app(settings, service, clock=clock).test_client()
    second = create_app(settings, service, clock=clock).test_client()
    for n, client in enumerate((first, second, first, second)):
        assert token_from(client, "10.3.0.1", f"guess-{n}", "000000").status_code == 400
    limited(token_from(first, "10.3.0.1", "guess-9", "000000"))
