"""`epermit serve`: one office's officer and wallet APIs on the embedded SQLite store."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path

from credential.errors import EpermitError
from epermit.servers import BackgroundServer
from issuer import api as officer_api
from issuer.console import console_settings_from_env
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.sqlite_store import SQLiteStore
from keys import load_keyring, read_passphrase
from wallet_api import create_app as create_wallet_app
from wallet_api.settings import WalletApiSettings


def serve_office(
    data: Path,
    *,
    officer_port: int,
    wallet_port: int,
    public_url: str | None,
    passphrase_file: Path | None,
    env: Mapping[str, str],
    now: int,
) -> int:
    keys_dir = data / "keys"
    if not keys_dir.is_dir():
        print(f"epermit: no keys in {keys_dir}; create them with `epermit keys init --dir {keys_dir}`", file=sys.stderr)
        return 2
    try:
        # No unlocked key, no service: there is no unsigned fallback.
        keyring = load_keyring(keys_dir, read_passphrase(env=env, passphrase_file=passphrase_file))
    except EpermitError as exc:
        print(f"epermit: cannot unlock the keys: {exc}", file=sys.stderr)
        return 2
    wallet_server = BackgroundServer(port=wallet_port)
    officer_server = BackgroundServer(port=officer_port)
    url = public_url or wallet_server.url
    service = IssuerService(SQLiteStore(data / "epermit.sqlite3"), keyring, IssuerSettings(public_url=url))
    wallet_server.start(create_wallet_app(WalletApiSettings(public_url=url), service))
    try:
        console = console_settings_from_env(env)
    except (OSError, ValueError) as exc:
        print(f"epermit: officer console: {exc}", file=sys.stderr)
        return 2
    officer_server.start(officer_api.create_app(officer_api.OfficerApiSettings(), service, console=console))
    if console is None:
        print("officer console off (set EPERMIT_CONSOLE_SECRET to 32+ random bytes to turn it on)")
    print(f"officer API  {officer_server.url}\nwallet API   {wallet_server.url}  (public URL {url})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping")
    finally:
        officer_server.stop()
        wallet_server.stop()
    return 0
