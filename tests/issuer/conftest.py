"""Fixtures for the issuer tests. ``store`` is parametrised over every back end: the Redis store plugs
in by adding its name to STORE_BACKENDS and a branch to make_store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from issuer.model import Officer
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from issuer.store.sqlite import SQLiteStore
from keys.keyring import KeyRing
from tests.conftest import FakeClock

from .console_logins import OfficerLogins
from .console_office import OFFICERS, console_app, enrolled

STORE_BACKENDS = ["sqlite", "redis", pytest.param("redis-cluster", marks=pytest.mark.slow)]
PUBLIC_URL = "http://127.0.0.1:8081"


def make_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest | None = None) -> Store:
    if backend == "sqlite":
        return SQLiteStore(tmp_path / "epermit.sqlite3")
    if backend in ("redis", "redis-cluster"):
        assert request is not None, "the Redis back ends need the session's redis-server fixtures"
        from issuer.store.redis import RedisStore  # only when a Redis back end runs

        url = request.getfixturevalue("redis_cluster_url" if backend == "redis-cluster" else "redis_url")
        # A fresh hash tag per test: the tests share one server without seeing each other's keys.
        return RedisStore.from_url(url, cluster=backend == "redis-cluster", prefix="{t" + uuid.uuid4().hex + "}")
    raise ValueError(backend)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.issuer.redis_server import REDIS_SERVER, RedisServer

    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.issuer.redis_server import REDIS_SERVER, RedisClusterProcesses

    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    cluster = RedisClusterProcesses(tmp_path_factory.mktemp("redis-cluster")).start()
    yield cluster.url
    cluster.stop()


@pytest.fixture(params=STORE_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = make_store(request.param, tmp_path, request)
    yield made
    close = getattr(made, "close", None)
    if close is not None:
        close()


@pytest.fixture
def settings() -> IssuerSettings:
    return IssuerSettings(PUBLIC_URL)


@pytest.fixture
def service(store: Store, keyring: KeyRing, settings: IssuerSettings, clock: FakeClock) -> IssuerService:
    return IssuerService(store, keyring, settings, clock)


# The console test office (tests/issuer/console_office.py): a module with its own staff overrides console_staff;
# a module with an app of its own (the JSON API's, the sign-in limits') overrides app.
@pytest.fixture
def app(service: IssuerService) -> Flask:
    return console_app(service)


@pytest.fixture
def console_staff() -> tuple[Officer, ...]:
    return OFFICERS


@pytest.fixture
def tokens(service: IssuerService, clock: FakeClock, console_staff: tuple[Officer, ...]) -> OfficerLogins:
    """The console's staff, each with a password and a TOTP secret."""
    return enrolled(service, clock, console_staff)
