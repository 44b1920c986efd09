"""Under load, a real threaded server over the SQLite store holds steady: file descriptors, memory, no 500.

werkzeug's threaded server runs each request in a new thread; the store must not keep one SQLite connection
per thread it ever served (that leaked two descriptors per request until the process hit its limit).
The public documents, the metadata and an officer's read all touch the store.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit_valid_at
from epermit.servers import BackgroundServer
from issuer.http import app as officer_api
from issuer.model import Officer, Role
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing
from wallet_api import WalletApiSettings, create_app

CLIENTS = 4
FD_SLACK = 16  # descriptors the interpreter or the pool may open on its own (pool size, a late import)
RSS_SLACK = 48 * 1024 * 1024


@dataclass
class Servers:
    wallet: BackgroundServer
    officer: BackgroundServer
    paths: list[tuple[str, str, dict[str, str]]]  # (server url, path, headers)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    now = int(time.time())
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 60)
    wallet, officer = BackgroundServer(), BackgroundServer()
    store = SQLiteStore(tmp_path / "epermit.sqlite3")
    service = IssuerService(store, keyring, IssuerSettings(public_url=wallet.url, status_list_size=1024))
    record = service.register(sample_permit_valid_at(now), officer="seed")
    registry = OfficerRegistry(store, keyed=service.keyed)
    registry.put(Officer("clerk", "柜员", Role.CLERK, (record.permit.district,)))
    token = registry.issue_token("clerk", ttl=3600)
    wallet.start(create_app(WalletApiSettings(public_url=wallet.url), service))
    officer.start(officer_api.create_app(officer_api.OfficerApiSettings(), service))
    bearer = {"Authorization": f"Bearer {token}"}
    paths = [(wallet.url, "/statuslists/1", {}), (wallet.url, "/trustlist.jwt", {}),
             (wallet.url, "/statuslists", {}), (officer.url, f"/api/v1/records/{record.id}", bearer)]
    yield Servers(wallet, officer, paths)
    officer.stop()
    wallet.stop()
    store.close()


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def resident_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def get(url: str, path: str, headers: dict[str, str]) -> int:
    """One request on its own connection (so the server starts a thread for it), the body read whole."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def load(servers: Servers, requests: int) -> dict[int, int]:
    """``requests`` GETs from CLIENTS threads, round robin over the paths; the count of each status."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(first: int) -> None:
        for n in range(first, requests, CLIENTS):
            try:
                status = get(*servers.paths[n % len(servers.paths)])
            except OSError:
                status = -1
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def steady_under(servers: Servers, requests: int) -> None:
    load(servers, 200)  # warm up: imports, caches, the pool's first connections, the first signing
    fds, rss = open_descriptors(), resident_bytes()
    statuses = load(servers, requests)
    assert statuses == {200: requests}
    time.sleep(0.2)  # the last request threads finish closing their sockets
    assert open_descriptors() - fds <= FD_SLACK, f"{open_descriptors() - fds} more descriptors after {requests} GETs"
    assert resident_bytes() - rss <= RSS_SLACK, f"{(resident_bytes() - rss) >> 20} MiB more after {requests} GETs"


def test_500_requests_leave_no_connections_behind(servers: Servers) -> None:
    steady_under(servers, 500)


@pytest.mark.slow
def test_20000_requests_keep_descriptors_and_memory_flat(servers: Servers) -> None:
    steady_under(servers, 20_000)
