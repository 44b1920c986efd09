"""The `epermit` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from epermit.demo import DemoError, run_demo

    try:
        run_demo(args.out, serve=args.serve)
    except DemoError as exc:
        print(f"epermit demo: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(args: argparse.Namespace) -> int:
    if args.redis or os.environ.get("EPERMIT_REDIS_URL"):  # gunicorn on Redis (docs/redis.md)
        from epermit.redis_serve import redis_serve_env, serve_redis

        return serve_redis(redis_serve_env(args, os.environ))
    from epermit.office import serve_office

    return serve_office(
        args.data,
        officer_port=args.officer_port,
        wallet_port=args.wallet_port,
        public_url=args.public_url,
        passphrase_file=args.passphrase_file,
        env=os.environ,
        now=int(time.time()),
    )


def build_parser() -> argparse.ArgumentParser:
    from issuer.cli import add_officer_commands
    from keys.cli import add_keys_commands

    parser = argparse.ArgumentParser(
        prog="epermit", description="Electronic residence permits: issue, deliver, verify."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole story end to end on loopback servers")
    demo.add_argument("--out", type=Path, help="folder for the QR codes, credentials and verifier cache")
    demo.add_argument("--serve", action="store_true", help="keep both servers running afterwards with a fresh offer")
    demo.set_defaults(handler=_demo)

    serve = sub.add_parser("serve", help="run the officer and wallet APIs for one office (SQLite store)")
    serve.add_argument("--data", type=Path, default=Path("epermit-data"), help="data folder (keys/, epermit.sqlite3)")
    serve.add_argument("--officer-port", type=int, default=8080)
    serve.add_argument("--wallet-port", type=int, default=8081)
    serve.add_argument("--public-url", help="the wallet API's public URL (default http://127.0.0.1:<wallet-port>)")
    serve.add_argument(
        "--passphrase-file", type=Path, help="file holding the key passphrase (else EPERMIT_KEY_PASSPHRASE)"
    )
    from epermit.redis_serve import add_redis_serve_options

    add_redis_serve_options(serve)
    serve.set_defaults(handler=_serve)

    from issuer.reissue_cli import add_reissue_commands

    add_reissue_commands(sub, add_keys_commands(sub))  # keys ..., keys affected, reissue (docs/keys.md)
    add_officer_commands(sub)
    sub.add_parser(
        "verify",
        help="verify a QR code or SD-JWT VC offline; `epermit verify sync URL` refreshes the cache",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["verify"]:
        # The verifier parses its own arguments: `verify sync URL`, `verify import F`, `verify <QR>`.
        from verifier.cli import main_verify

        return main_verify(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    # Subcommands registered by the packages set `func`; the ones defined here set `handler`.
    handler = getattr(args, "handler", None) or args.func
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
