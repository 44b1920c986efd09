"""`epermit serve` (one office's officer and wallet APIs on the embedded SQLite store, or gunicorn on Redis)
and `epermit demo`."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from credential.errors import EpermitError
from epermit.cli.harness import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Subparsers, guarded
from epermit.login_identity import LoginSetupError, login_line, login_verifier
from epermit.office import OfficeData
from epermit.public_url import remember_public_url
from epermit.servers import BackgroundServer
from epermit.transport import Transport, choose_transport
from issuer.http import app as officer_api
from issuer.http.console import CONSOLE_OFF, console_settings_from_env
from issuer.http.logs import configure_json_logging
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from keys import load_login_key
from wallet_api import create_app as create_wallet_app
from wallet_api.settings import WalletApiSettings


def serve_office(
    data: Path,
    *,
    officer_port: int,
    wallet_port: int,
    transport: Transport,
    passphrase_file: Path | None,
    env: Mapping[str, str],
    now: int,
    short_lived_in_memory: bool = False,
) -> int:
    """``short_lived_in_memory``: this process alone serves the store, so its short-lived values may live in
    memory (issuer.store.memory_ephemeral)."""
    office = OfficeData(data)
    configure_json_logging()  # requests and errors as JSON lines on stderr (docs/operations.md)
    try:
        # No unlocked key, no service: there is no unsigned fallback.
        keyring, passphrase = office.unlock_keys(env=env, passphrase_file=passphrase_file)
        login = load_login_key(office.keys_dir, passphrase)
    except EpermitError as exc:
        print(f"epermit serve: cannot unlock the keys: {exc}", file=sys.stderr)
        return EXIT_USAGE
    wallet_server = BackgroundServer(port=wallet_port, ssl_context=transport.tls)
    officer_server = BackgroundServer(port=officer_port, ssl_context=transport.tls)
    url = transport.public_url or wallet_server.url
    try:  # a login no wallet would accept (another host, another root) is refused before anything serves
        identity = login_verifier(login, keyring, public_url=url, keys_dir=office.keys_dir, now=now)
    except LoginSetupError as exc:
        print(f"epermit serve: {exc}", file=sys.stderr)
        return EXIT_USAGE
    service = IssuerService(office.open_store(create=True, short_lived_in_memory=short_lived_in_memory), keyring,
                            IssuerSettings(public_url=url))
    if transport.public_url:  # what `epermit issue` will print in pickup links (epermit.public_url)
        remember_public_url(data, transport.public_url)
    wallet_server.start(transport.wrap(create_wallet_app(
        WalletApiSettings(public_url=url, published_dir=office.published_dir), service, login_verifier=identity)))
    try:
        console = console_settings_from_env(env)
    except (OSError, EpermitError) as exc:
        print(f"epermit serve: officer console: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        officer_settings = officer_api.OfficerApiSettings(metrics_token=env.get("EPERMIT_METRICS_TOKEN") or None)
    except EpermitError as exc:
        print(f"epermit serve: EPERMIT_METRICS_TOKEN: {exc}", file=sys.stderr)
        return EXIT_USAGE
    officer_server.start(transport.wrap(officer_api.create_app(officer_settings, service, console=console)))
    print(f"officer API      {officer_server.url}\nwallet API       {wallet_server.url}  (public URL {url})")
    if console is None:
        print(f"officer console  {CONSOLE_OFF}")
    else:
        print(f"officer console  {officer_server.url}/officer/  (officers sign in with a password and a TOTP code: "
              "epermit officers set-password)")
    print(f"verifier page    {url}/verify/")
    print(login_line(identity, has_key=login is not None))
    print(f"metrics          {officer_server.url}/metrics (bearer EPERMIT_METRICS_TOKEN)" if officer_settings.metrics_token
          else "metrics          off (set EPERMIT_METRICS_TOKEN to 32+ characters to turn /metrics on)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping")
    finally:
        officer_server.stop()
        wallet_server.stop()
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    on_redis = bool(args.redis or os.environ.get("EPERMIT_REDIS_URL"))
    public_url = args.public_url or (os.environ.get("EPERMIT_PUBLIC_URL") if on_redis else None)
    tls_cert = args.tls_cert or (Path(os.environ["EPERMIT_TLS_CERT"]) if on_redis and os.environ.get("EPERMIT_TLS_CERT") else None)
    tls_key = args.tls_key or (Path(os.environ["EPERMIT_TLS_KEY"]) if on_redis and os.environ.get("EPERMIT_TLS_KEY") else None)
    transport = choose_transport(tls_cert=tls_cert, tls_key=tls_key, public_url=public_url,
                                 insecure_http=args.insecure_http, proxy_hops=args.proxy_hops)
    if on_redis:  # gunicorn on Redis (docs/redis.md): the same choice, carried to the workers by the environment
        from epermit.redis_serve import redis_serve_env, serve_redis

        return serve_redis(redis_serve_env(args, os.environ))
    return serve_office(args.data, officer_port=args.officer_port, wallet_port=args.wallet_port,
                        transport=transport, passphrase_file=args.passphrase_file, env=os.environ,
                        now=int(time.time()), short_lived_in_memory=args.short_lived_in_memory)


def _demo(args: argparse.Namespace) -> int:
    from epermit.demo import DemoError, run_demo

    try:
        run_demo(args.out, serve=args.serve, host=args.host)
    except DemoError as exc:
        print(f"epermit demo: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def add_serve_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    from epermit.redis_serve import add_redis_serve_options

    demo = subparsers.add_parser("demo", help="run the whole story end to end on loopback servers")
    demo.add_argument("--out", type=Path, help="folder for the QR codes, credentials and verifier cache")
    demo.add_argument("--serve", action="store_true", help="keep both servers running afterwards with a fresh offer")
    demo.add_argument("--host", default="127.0.0.1",
                      help="address to listen on and to put in the URLs and the certificate (default 127.0.0.1; "
                           "this machine's address on your network lets a phone reach the pages)")
    demo.set_defaults(handler=guarded("demo", _demo))

    serve = subparsers.add_parser("serve", help="run the officer and wallet APIs for one office (SQLite store)")
    serve.add_argument("--data", type=Path, default=Path("epermit-data"), help="data folder (keys/, epermit.sqlite3)")
    serve.add_argument("--officer-port", type=int, default=8080)
    serve.add_argument("--wallet-port", type=int, default=8081)
    serve.add_argument("--public-url", help="the wallet API's public URL (default http://127.0.0.1:<wallet-port>)")
    serve.add_argument(
        "--passphrase-file", type=Path, help="file holding the key passphrase (else EPERMIT_KEY_PASSPHRASE)"
    )
    serve.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve https with this certificate chain")
    serve.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's private key")
    serve.add_argument("--insecure-http", action="store_true",
                       help="allow a plain-http public URL (local development only: wallets require https)")
    serve.add_argument("--short-lived-in-memory", action="store_true",
                       help="SQLite: keep nonces, access tokens, DPoP proof ids and rate counters in this process's "
                            "memory, not in the file (no fsync each; a restart forgets them: docs/redis.md)")
    serve.add_argument("--proxy-hops", type=int, metavar="N",
                       help="trusted proxies in front that set X-Forwarded-* (default 1 with an https "
                            "--public-url and no --tls-cert, else 0)")
    add_redis_serve_options(serve)
    serve.set_defaults(handler=guarded("serve", _serve))
