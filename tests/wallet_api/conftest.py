"""Fixtures: a real IssuerService (SQLite in tmp_path, generated keys) behind the real wallet API app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from issuer.records import Offer
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.sqlite_store import SQLiteStore
from keys.keyring import KeyRing
from keys.signers import KeySigner
from wallet_api import WalletApiSettings, create_app

PUBLIC_URL = "https://permits.example.gov.cn"
OFFICER = "officer-0001"


@dataclass
class Clock:
    """One time source for the service and the app, so a test can move it."""

    now: int

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(int(time.time()))


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    return KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=int(time.time()) - 60)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "issuer.sqlite3")
    store.initialize()
    yield store
    store.close()


@pytest.fixture
def service(store: SQLiteStore, keyring: KeyRing, clock: Clock) -> IssuerService:
    # Small status lists keep the tests fast; herd privacy is the issuer's concern, not the HTTP layer's.
    return IssuerService(store, keyring, IssuerSettings(public_url=PUBLIC_URL, status_list_size=1024), clock)


@pytest.fixture
def settings() -> WalletApiSettings:
    return WalletApiSettings(public_url=PUBLIC_URL)


@pytest.fixture
def app(settings: WalletApiSettings, service: IssuerService, clock: Clock) -> Flask:
    return create_app(settings, service, clock=clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def offer(service: IssuerService) -> Offer:
    record = service.register(sample_permit(), officer=OFFICER)
    return service.create_offer(record.id, officer=OFFICER)


@pytest.fixture
def device_key() -> KeySigner:
    return KeySigner.generate("ES256")
