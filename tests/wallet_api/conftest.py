"""Fixtures: a real IssuerService (generated keys) behind the real wallet API app.

The store is SQLite in tmp_path by default; a test runs on both back ends with ``@BOTH_STORES`` (a real
redis-server per session, a fresh key prefix per test: tests.issuer.conftest.make_store).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer, make_server

from credential.samples import sample_permit_valid_at
from issuer.model import Offer
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from keys.keyring import KeyRing
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.issuer.conftest import make_store, redis_url  # noqa: F401  (redis_url: a session fixture)
from wallet_api import WalletApiSettings, create_app

PUBLIC_URL = "https://permits.example.gov.cn"
OFFICER = "officer-0001"
BOTH_STORES = pytest.mark.parametrize("store_backend", ["sqlite", "redis"], indirect=True)


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    backend: str = getattr(request, "param", "sqlite")
    return backend


@pytest.fixture
def store(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    made = make_store(store_backend, tmp_path, request)
    yield made
    close = getattr(made, "close", None)
    if close is not None:
        close()


@pytest.fixture
def service(store: Store, keyring: KeyRing, clock: FakeClock) -> IssuerService:
    # Small status lists keep the tests fast; herd privacy is the issuer's concern, not the HTTP layer's.
    return IssuerService(store, keyring, IssuerSettings(public_url=PUBLIC_URL, status_list_size=1024), clock)


@pytest.fixture
def settings() -> WalletApiSettings:
    return WalletApiSettings(public_url=PUBLIC_URL)


@pytest.fixture
def app(settings: WalletApiSettings, service: IssuerService, clock: FakeClock) -> Flask:
    return create_app(settings, service, clock=clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def offer(service: IssuerService) -> Offer:
    record = service.register(sample_permit_valid_at(service.clock()), officer=OFFICER)
    return service.create_offer(record.id, officer=OFFICER)


@pytest.fixture
def device_key() -> KeySigner:
    return KeySigner.generate("ES256")


@pytest.fixture
def server(app: Flask) -> Iterator[BaseWSGIServer]:
    """The app behind a real threaded werkzeug server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
