"""The employer demo server: https on localhost from its own loopback CA, the verifier cache synced online.

The client_id is ``x509_san_dns:localhost``: the request objects are signed with a key whose certificate
(from this server's loopback CA, epermit.tls) names ``localhost``, the host of every URL the server puts in
a request. A wallet trusts it once it trusts that CA: ``employer-ca.pem`` is written for it, and
``trust-bundle.pem`` holds that CA and the one given for the wallet API (one ``--ca`` file for the wallet).
Before each verdict the server syncs the trust list and status lists from the wallet API (verifier.sync):
status is checked fresh, online.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from epermit.employer.app import EmployerSettings, create_app
from epermit.employer.checks import EmployerChecks
from epermit.servers import BackgroundServer
from epermit.tls import LoopbackCA
from keys import KeySigner
from verifier.cache import VerifierCache
from verifier.openid4vp import VerifierIdentity
from verifier.sync import SyncSummary, sync

HOST = "localhost"
EMPLOYER_CA_FILE = "employer-ca.pem"
TRUST_BUNDLE_FILE = "trust-bundle.pem"


@dataclass
class EmployerDemo:
    server: BackgroundServer
    checks: EmployerChecks
    ca: LoopbackCA

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()


def open_employer(*, wallet_api: str, wallet_tls: ssl.SSLContext | None, cache: VerifierCache, clock: Callable[[], int],
                  root_pem: bytes | None = None, port: int = 0, settings: EmployerSettings | None = None,
                  ca: LoopbackCA | None = None) -> EmployerDemo:
    """Sync once (pinning ``root_pem`` the first time: SyncError or CacheError if that fails), then serve."""
    settings = settings or EmployerSettings()
    sync(wallet_api, cache, now=clock(), root_pem=root_pem, tls=wallet_tls)
    ca = ca or LoopbackCA(now=clock())
    server = BackgroundServer("127.0.0.1", port, ssl_context=ca.issue_server((HOST, "127.0.0.1")).ssl_context(),
                              url_host=HOST)
    signing = ca.issue_server((HOST,))  # its own key: the TLS key signs no request objects
    identity = VerifierIdentity(HOST, KeySigner(signing.key), (signing.certificate,), name_zh=settings.name_zh,
                                name_en=settings.name_en)

    def refresh(now: int) -> SyncSummary:
        return sync(wallet_api, cache, now=now, tls=wallet_tls)

    checks = EmployerChecks(identity, public_url=server.url, issuer=wallet_api, cache=cache, refresh=refresh)
    server.start(create_app(checks, settings, clock=clock))
    return EmployerDemo(server, checks, ca)


def write_trust_files(demo: EmployerDemo, out: Path, wallet_ca_pem: bytes | None) -> tuple[Path, Path]:
    """The employer's CA (public) and a bundle with the wallet API's CA: what `wallet present --ca` takes."""
    out.mkdir(parents=True, exist_ok=True)
    own = out / EMPLOYER_CA_FILE
    own.write_bytes(demo.ca.pem)
    bundle = out / TRUST_BUNDLE_FILE
    bundle.write_bytes(demo.ca.pem + (b"\n" + wallet_ca_pem if wallet_ca_pem else b""))
    return own, bundle
