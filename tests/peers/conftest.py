"""Independent implementations run against epermit: a real HTTPS issuer on loopback and the peers' own code.

The peers are installed by `make peers` (a dependency of `make test`): the npm packages pinned in
tests/peers/js/package-lock.json, the Python ones in the dev extra (token-status-list) or, when they would
pin the project's own dependencies down, in their own environment (.venv-peers, tests/peers/python). A
peer that is missing skips its test on a developer's machine and fails it where CI is set: the suite never
passes in CI without having run them. Peers read the wall clock, so these tests run on it too (time.time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit_valid_at
from epermit.servers import BackgroundServer
from epermit.tls import LoopbackCA
from issuer.model import Offer, offer_uri
from issuer.service import IssuerService
from issuer.settings import IssuerSettings, system_clock
from issuer.store.sqlite import SQLiteStore
from keys.keyring import KeyRing
from wallet_api import WalletApiSettings, create_app

ROOT = Path(__file__).resolve().parents[2]
JS = Path(__file__).resolve().parent / "js"
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"
OFFICER = "officer-0001"
PEER_TIMEOUT = 120  # seconds for one peer run; a hung peer fails the test instead of the suite


def require_peer(available: bool, what: str) -> None:
    """Skip (developer machine) or fail (CI set) when a peer is not installed."""
    if available:
        return
    message = f"{what} is not installed: run `make peers`"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set: a peer test never skips there)")
    pytest.skip(message)


def node_peer(package: str) -> Path:
    """The node binary, once ``package`` is installed under tests/peers/js/node_modules."""
    node = shutil.which("node")
    require_peer(node is not None and (JS / "node_modules" / package / "package.json").is_file(),
                 f"node and the npm package {package}")
    assert node is not None
    return Path(node)


@dataclass
class LiveIssuer:
    """An issuer service behind the real wallet API, over https on 127.0.0.1 with a throw-away CA."""

    url: str
    service: IssuerService
    ca_file: Path

    def offer(self, *, pending: bool = False) -> Offer:
        record = self.service.register(sample_permit_valid_at(self.service.clock()), officer=OFFICER)
        return self.service.create_offer(record.id, officer=OFFICER, pending=pending)

    def offer_uri(self, offer: Offer) -> str:
        return offer_uri(self.url, offer.offer_id)

    def start_node(self, package: str, script: str, argument: str) -> subprocess.Popen[str]:
        """``node script argument`` trusting our CA; the caller talks to it over stdin/stdout."""
        return subprocess.Popen(
            [str(node_peer(package)), str(JS / script), argument], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=JS, env={**os.environ, "NODE_EXTRA_CA_CERTS": str(self.ca_file)},
        )


def live_issuer(tmp_path: Path, settings: dict[str, object]) -> Iterator[LiveIssuer]:
    now = system_clock()
    ca = LoopbackCA(now=now)
    ca_file = ca.write_pem(tmp_path / "loopback-ca.pem")
    server = BackgroundServer("127.0.0.1", 0, ssl_context=ca.issue_server().ssl_context())
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 86400)
    service = IssuerService(SQLiteStore(tmp_path / "epermit.sqlite3"), keyring,
                            IssuerSettings(public_url=server.url, status_list_size=1024), system_clock)
    server.start(create_app(WalletApiSettings(public_url=server.url, **settings), service))  # type: ignore[arg-type]
    try:
        yield LiveIssuer(server.url, service, ca_file)
    finally:
        server.stop()


@pytest.fixture
def issuer(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveIssuer]:
    """The live issuer; ``indirect`` parametrisation passes WalletApiSettings fields."""
    yield from live_issuer(tmp_path, getattr(request, "param", {}))


def wall_clock() -> int:
    return int(time.time())
