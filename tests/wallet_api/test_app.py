"""The app factory, the settings and the last-resort error handling."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from flask.testing import FlaskClient

from issuer.errors import SettingsError
from issuer.service import IssuerService
from tests.conftest import FakeClock
from tests.wallet_api.conftest import PUBLIC_URL
from wallet_api import WalletApiSettings, create_app


@pytest.mark.parametrize(
    "kwargs",
    [
        {"public_url": "permits.example.gov.cn"},
        {"public_url": "ftp://permits.example.gov.cn"},
        {"public_url": PUBLIC_URL + "/"},
        {"public_url": PUBLIC_URL + "?x=1"},
        {"public_url": PUBLIC_URL, "batch_size": 0},
        {"public_url": PUBLIC_URL, "max_body_bytes": 0},
        {"public_url": PUBLIC_URL, "proof_algorithms": ()},
        {"public_url": PUBLIC_URL, "proof_algorithms": ("ES256", "none")},
        {"public_url": PUBLIC_URL, "proof_future_skew": -1},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(SettingsError):
        WalletApiSettings(**kwargs)  # type: ignore[arg-type]


def test_the_issuer_identifier_must_match_the_service(service: IssuerService) -> None:
    with pytest.raises(SettingsError):
        create_app(WalletApiSettings(public_url="https://other.example.gov.cn"), service)


def test_unknown_paths_and_methods_answer_json(client: FlaskClient) -> None:
    response = client.get("/no/such/path")
    assert (response.status_code, response.get_json()["error"]) == (404, "not_found")
    response = client.delete("/nonce")
    assert (response.status_code, response.get_json()["error"]) == (405, "method_not_allowed")
    response = client.get("/credential")
    assert response.status_code == 405 and response.mimetype == "application/json"


class _BrokenNonces(IssuerService):
    def new_nonce(self, *, counts: Sequence[tuple[str, str, int, int]] = ()) -> str:
        raise RuntimeError("the store fell over")


def test_an_unexpected_error_is_a_json_500_without_details(service: IssuerService, clock: FakeClock) -> None:
    broken = _BrokenNonces(service.store, service.keyring, service.settings, clock)
    client = create_app(WalletApiSettings(public_url=PUBLIC_URL), broken, clock=clock).test_client()
    response = client.post("/nonce")
    assert response.status_code == 500
    assert response.get_json() == {"error": "server_error", "error_description": "internal error"}
    assert b"fell over" not in response.data


def test_importing_the_package_does_no_work() -> None:
    import subprocess
    import sys

    code = "import sys, wallet_api; assert 'issuer.service' not in sys.modules and 'issuer.store.sqlite' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
