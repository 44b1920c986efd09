"""``epermit keys init`` and ``epermit keys publish``: create a key directory, publish a signed trust list.

The passphrase comes from ``--passphrase-file`` or EPERMIT_KEY_PASSPHRASE, never from the command line (it
would show in ``ps`` and shell history). Each command prints one line; a failure prints one line on stderr and
exits with status 2.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from credential.errors import CredentialError
from credential.trustlist import MAX_TRUST_LIST_SIZE, verify_trust_list
from keys.keyring import KeyRing, init_keys
from keys.keystore import read_passphrase, read_small_file

Handler = Callable[[argparse.Namespace], int]


def add_keys_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``keys init`` and ``keys publish``; each sets ``args.handler(args) -> exit status``.

    ``func`` is set to the same callable, for dispatchers that use argparse's usual name.
    """
    keys = subparsers.add_parser("keys", help="create keys and publish the trust list")
    commands = keys.add_subparsers(dest="keys_command", required=True)

    init = commands.add_parser("init", help="create a new key directory (root, credential and status keys)")
    init.add_argument("--dir", type=Path, required=True, help="key directory to create (must not hold files)")
    init.add_argument("--authority-code", required=True, help="GB/T 2260 code of the authority, e.g. 110105")
    init.add_argument("--authority-name", required=True, help="name of the authority, e.g. 北京市公安局朝阳分局")
    _add_passphrase_file(init)
    _set_handler(init, _guarded("init", _init))

    publish = commands.add_parser("publish", help="sign and write the trust list")
    publish.add_argument("--dir", type=Path, required=True, help="key directory")
    publish.add_argument("--out", type=Path, required=True, help="where to write the trust list JWT")
    publish.add_argument("--issuer", required=True, help="public base URL of the issuer (the iss claim)")
    publish.add_argument("--status-list", dest="status_lists", action="extend", nargs="+", default=[],
                         metavar="URI", help="status list URIs to name (repeatable)")
    publish.add_argument("--aggregation-uri", help="URI of the status list aggregation document")
    publish.add_argument("--version", dest="trust_version", type=int,
                         help="trust list version (default: the current unix time, so versions only grow)")
    publish.add_argument("--validity-days", type=int, default=30, help="days until exp (default 30)")
    _add_passphrase_file(publish)
    _set_handler(publish, _guarded("publish", _publish))


def _set_handler(parser: argparse.ArgumentParser, handler: Handler) -> None:
    parser.set_defaults(handler=handler, func=handler)


def _add_passphrase_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--passphrase-file", type=Path,
                        help="file holding the key passphrase (default: $EPERMIT_KEY_PASSPHRASE)")


def _guarded(name: str, handler: Handler) -> Handler:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (CredentialError, OSError, ValueError) as exc:
            print(f"epermit keys {name}: error: {exc}", file=sys.stderr)
            return 2

    return run


def _init(args: argparse.Namespace) -> int:
    passphrase = read_passphrase(env=os.environ, passphrase_file=args.passphrase_file)
    ring = init_keys(args.dir, passphrase, args.authority_code, args.authority_name, int(time.time()))
    print(f"created {args.dir}: root {ring.root.kid}, credential {ring.credential_signer.kid}, "
          f"status {ring.status_signer.kid}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    now = int(time.time())
    version = now if args.trust_version is None else args.trust_version
    if version < 1 or args.validity_days < 1:
        raise ValueError("version and validity days must be positive")
    ring = KeyRing.load(args.dir, read_passphrase(env=os.environ, passphrase_file=args.passphrase_file))
    if args.out.exists():  # never overwrite a published list with an older or equal version
        held = verify_trust_list(read_small_file(args.out, MAX_TRUST_LIST_SIZE).decode("ascii").strip(),
                                 root_key=ring.root.public_key, now=now).version
        if version <= held:
            raise ValueError(f"{args.out} already holds version {held}; refusing to publish version {version}")
    token = ring.trust_list_token(issuer=args.issuer, now=now, version=version, status_lists=args.status_lists,
                                  aggregation_uri=args.aggregation_uri, validity=args.validity_days * 86400)
    partial = args.out.with_name(f".{args.out.name}.{secrets.token_hex(6)}.tmp")
    partial.write_text(token + "\n", encoding="ascii")
    os.replace(partial, args.out)  # readers never see half a trust list
    count = len(ring.credential_signers) + len(ring.status_signers)
    print(f"wrote trust list version {version} with {count} keys to {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the keys commands alone (``python -m keys.cli keys init ...``); epermit.cli wires the same ones."""
    parser = argparse.ArgumentParser(prog="epermit")
    add_keys_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    status: int = args.handler(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
