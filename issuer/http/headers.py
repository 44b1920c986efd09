"""The security headers of every response of both HTTP APIs (the officer API and the wallet API).

JSON is never to be sniffed as HTML, framed, or followed by a Referer that names a record id: every response
gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``, ``X-Frame-Options: DENY`` and, unless
the page set its own (the officer console, the verifier page), ``Content-Security-Policy`` that loads nothing
and may not be framed. The version of the server software is the servers' business: epermit.servers names
no Werkzeug or Python version; gunicorn says only ``gunicorn``.
"""

from __future__ import annotations

from flask import Flask, Response

NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'"
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
           "Content-Security-Policy": NOTHING_CSP}


def install_security_headers(app: Flask) -> None:
    """Add HEADERS to every response of ``app``, keeping a value a view or a blueprint already set."""

    # App-level after_request runs after the blueprints' (the console's CSP) and for error responses too.
    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
