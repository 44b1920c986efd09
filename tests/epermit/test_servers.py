"""Both APIs behind epermit.servers.BackgroundServer, over a real socket: the security headers are on every
response and the Server header names no software version (werkzeug's server adds its own header, which the
Flask test client never shows)."""

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.servers import BackgroundServer
from issuer.http.app import create_app as officer_app
from issuer.http.console.ui import ConsoleSettings
from issuer.http.context import OfficerApiSettings
from issuer.http.headers import NOTHING_CSP
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys.keyring import KeyRing
from wallet_api import WalletApiSettings
from wallet_api import create_app as wallet_app


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BackgroundServer]]:
    wallet, officer = BackgroundServer(), BackgroundServer()
    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=int(time.time()) - 86400)
    store = SQLiteStore(Path(tmp_path_factory.mktemp("servers")) / "epermit.sqlite3")
    service = IssuerService(store, ring, IssuerSettings(public_url=wallet.url, status_list_size=1 << 12))
    wallet.start(wallet_app(WalletApiSettings(public_url=wallet.url), service))
    officer.start(officer_app(OfficerApiSettings(), service, console=ConsoleSettings(secret_key=os.urandom(32))))
    yield {"wallet": wallet, "officer": officer}
    wallet.stop()
    officer.stop()
    store.close()


def fetch(server: BackgroundServer, method: str, path: str) -> http.client.HTTPResponse:
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request(method, path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def assert_no_versions(server_headers: list[str]) -> None:
    assert len(server_headers) == 1, server_headers
    assert not any(word in server_headers[0].lower() for word in ("werkzeug", "python", "/")), server_headers


JSON_PATHS = [("officer", "GET", "/openapi.json", 200), ("officer", "GET", "/api/v1/records/x", 401),
              ("officer", "POST", "/api/v1/officers", 401), ("officer", "GET", "/nowhere", 404),
              ("wallet", "GET", "/.well-known/openid-credential-issuer", 200), ("wallet", "GET", "/statuslists", 200),
              ("wallet", "POST", "/credential", 401), ("wallet", "DELETE", "/token", 405)]


@pytest.mark.parametrize(("which", "method", "path", "status"), JSON_PATHS)
def test_json_responses_carry_the_security_headers(
    servers: dict[str, BackgroundServer], which: str, method: str, path: str, status: int
) -> None:
    response = fetch(servers[which], method, path)
    assert response.status == status
    assert_no_versions(response.msg.get_all("Server") or [])
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Referrer-Policy") == "no-referrer"
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("Content-Security-Policy") == NOTHING_CSP


def test_pages_keep_their_own_policy(servers: dict[str, BackgroundServer]) -> None:
    console = fetch(servers["officer"], "GET", "/officer/login")
    assert console.status == 200 and console.getheader("Content-Type", "").startswith("text/html")
    assert "form-action 'self'" in console.getheader("Content-Security-Policy", "")
    assert console.getheader("X-Content-Type-Options") == "nosniff"
    assert_no_versions(console.msg.get_all("Server") or [])


def test_the_servers_own_errors_name_no_version(servers: dict[str, BackgroundServer]) -> None:
    host, port = servers["officer"].url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # A request line over the server's 65536 bytes is refused by the server itself (414), before any app;
        # exactly one byte over, so that nothing is left unread (which would reset the connection).
        sock.sendall(b"GET /" + b"x" * (65537 - 5))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1")
    assert head.startswith("HTTP/") and " 414 " in head.splitlines()[0]
    servers_named = [line.split(":", 1)[1].strip() for line in head.splitlines() if line.lower().startswith("server:")]
    assert_no_versions(servers_named)
