"""gunicorn factories for bench/wallet_pickup.py: the wallet API on Redis, and a hello-world on the same server.

``create_wallet_app()`` is epermit.gunicorn_app's (same environment, same Redis store and key loading) with
the per-address rate limits raised: the bench is thousands of residents behind one loopback address. The
limits are still counted in the store on every request, so their cost stays in the measurement.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

UNLIMITED = 1 << 30


def create_wallet_app() -> Flask:
    from epermit.gunicorn_app import build_service
    from wallet_api import create_app
    from wallet_api.settings import WalletApiSettings

    service = build_service(os.environ)
    settings = WalletApiSettings(public_url=service.settings.public_url, token_requests_per_client=UNLIMITED,
                                 nonce_requests_per_client=UNLIMITED)
    return create_app(settings, service)


def create_sqlite_wallet_app() -> Flask:
    """The same wallet API on the SQLite store (EPERMIT_SQLITE_PATH), one file shared by the workers."""
    from issuer.service import IssuerService
    from issuer.settings import IssuerSettings
    from issuer.store.sqlite import SQLiteStore
    from keys import load_keyring, read_passphrase
    from wallet_api import create_app
    from wallet_api.settings import WalletApiSettings

    keyring = load_keyring(Path(os.environ["EPERMIT_KEYS_DIR"]), read_passphrase(env=os.environ, passphrase_file=None))
    service = IssuerService(SQLiteStore(os.environ["EPERMIT_SQLITE_PATH"]), keyring,
                            IssuerSettings(public_url=os.environ["EPERMIT_PUBLIC_URL"]))
    settings = WalletApiSettings(public_url=service.settings.public_url, token_requests_per_client=UNLIMITED,
                                 nonce_requests_per_client=UNLIMITED)
    return create_app(settings, service)


def create_hello_app() -> Flask:
    app = Flask("hello")

    @app.post("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app
