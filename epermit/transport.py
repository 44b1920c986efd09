"""How the two APIs meet the network: TLS in this process, TLS at a proxy in front, or plain http locally.

OpenID4VCI 1.0 requires an https Credential Issuer Identifier, and a resident's phone gives WebCrypto, the
camera and service workers only to https pages, so `epermit serve` refuses a public URL that is not https
unless the operator says ``--insecure-http`` (local development). With ``--tls-cert/--tls-key`` the
servers speak TLS themselves; with an https ``--public-url`` and no certificate they sit behind a
TLS-terminating proxy, whose X-Forwarded-For/-Proto/-Host headers are trusted for ``proxy_hops`` hops
(werkzeug's ProxyFix) so that rate limits see the client, not the proxy.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.middleware.proxy_fix import ProxyFix

from epermit.errors import UsageError
from epermit.servers import WSGIApp

HOW = ("give --tls-cert and --tls-key, or an https --public-url behind a TLS proxy, "
       "or --insecure-http for local development")


@dataclass(frozen=True)
class Transport:
    tls: ssl.SSLContext | None  # this process terminates TLS
    public_url: str | None  # None: the wallet server's own URL
    proxy_hops: int  # 0: nobody in front whose forwarding headers count

    def wrap(self, app: WSGIApp) -> WSGIApp:
        if not self.proxy_hops:
            return app
        hops = self.proxy_hops
        fixed: WSGIApp = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        return fixed


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context


def choose_transport(*, tls_cert: Path | None, tls_key: Path | None, public_url: str | None,
                     insecure_http: bool, proxy_hops: int | None) -> Transport:
    """The transport the options ask for, or UsageError naming what is missing."""
    if (tls_cert is None) != (tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    scheme = urlsplit(public_url).scheme if public_url else None
    if tls_cert is not None and tls_key is not None:
        if scheme not in (None, "https"):
            raise UsageError("with TLS the public URL must be https")
        return Transport(server_tls(tls_cert, tls_key), public_url, proxy_hops or 0)
    if scheme == "https":  # TLS ends at a proxy in front of us
        return Transport(None, public_url, 1 if proxy_hops is None else proxy_hops)
    if not insecure_http:
        raise UsageError(f"the public URL {public_url or '(default)'} is not https: {HOW}")
    return Transport(None, public_url, proxy_hops or 0)
