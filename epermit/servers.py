"""Real HTTP servers on loopback, each in a background thread (the demo and the tests use them)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _LateBoundApp:
    """Lets a server bind its port before the app exists: the app needs the URL, the URL needs the port."""

    def __init__(self) -> None:
        self.app: WSGIApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"starting"]
        return self.app(environ, start_response)


SERVER_NAME = "epermit"


class _QuietHandler(WSGIRequestHandler):
    """No access log on the terminal (the demo prints its own story), and no software versions on the wire."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def version_string(self) -> str:
        # The Server header of every response, the server's own errors included: werkzeug would name its
        # version and Python's, which tells an attacker which advisories to try.
        return SERVER_NAME


class BackgroundServer:
    """A threaded werkzeug server on host:port (0 = a free port), started by ``start(app)``; https when given
    an ``ssl_context`` (epermit.tls), plain http otherwise (tests, and a server behind a TLS proxy)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, ssl_context: ssl.SSLContext | None = None,
                 url_host: str | None = None) -> None:
        self._late = _LateBoundApp()
        self._server: BaseWSGIServer = make_server(
            host, port, self._late, threaded=True, request_handler=_QuietHandler, ssl_context=ssl_context
        )
        self._scheme = "https" if ssl_context is not None else "http"
        self._url_host = url_host or self._server.host  # e.g. "localhost" when the certificate names it
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{self._scheme}://{self._url_host}:{self._server.port}"

    def start(self, app: WSGIApp) -> BackgroundServer:
        self._late.app = app
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
