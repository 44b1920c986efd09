"""``epermit keys affected KID --data DIR`` and ``epermit reissue --kid KID --data DIR [--sms-csv FILE]``.

Both work on an office's data folder (``keys/`` and ``epermit.sqlite3``, as ``epermit serve`` uses them).
The public URL (for status list URIs and offer links) is read from the trust list the issuer last
published, or given with ``--public-url``. Exit 0 on success, 2 with one line on stderr otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from credential.errors import EpermitError, MalformedError
from credential.jose import parse_compact
from credential.trustlist import MAX_TRUST_LIST_SIZE
from issuer.reissue import affected_records, reissue, sms_rows, write_sms_csv
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.sqlite_store import SQLiteStore
from keys import load_keyring, read_passphrase

STORE_FILE = "epermit.sqlite3"


def add_reissue_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
                         keys_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``reissue`` under the top level, ``affected`` under ``keys``."""
    affected = keys_commands.add_parser("affected", help="list the credentials a key signed (compromise drill)")
    affected.add_argument("kid", help="the signing key id")
    _add_data(affected)
    run_affected = _guarded("keys affected", _affected)
    affected.set_defaults(handler=run_affected, func=run_affected)

    re = subparsers.add_parser("reissue", help="re-issue every credential a revoked key signed (new offers)")
    re.add_argument("--kid", required=True, help="the revoked signing key id")
    _add_data(re)
    re.add_argument("--sms-csv", type=Path, help="write the new offers (link, PIN) for the SMS batch here (0600)")
    re.add_argument("--passphrase-file", type=Path,
                    help="file holding the key passphrase (default: $EPERMIT_KEY_PASSPHRASE, else a prompt)")
    re.add_argument("--quiet", action="store_true", help="no progress bar")
    run_reissue = _guarded("reissue", _reissue)
    re.set_defaults(handler=run_reissue, func=run_reissue)


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="office data folder (keys/, epermit.sqlite3)")
    parser.add_argument("--public-url", help="the wallet API's public URL (default: from the published trust list)")


def _guarded(name: str, handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (EpermitError, OSError, ValueError) as exc:
            print(f"epermit {name}: error: {exc}", file=sys.stderr)
            return 2

    return run


def _store(data: Path) -> SQLiteStore:
    path = data / STORE_FILE
    if not path.is_file():
        raise ValueError(f"no registry at {path}")
    return SQLiteStore(path)


def _public_url(store: SQLiteStore, given: str | None) -> str:
    if given:
        return given.rstrip("/")
    stored = store.get_trust_list()
    if stored is None:
        raise ValueError("no trust list published yet: give --public-url")
    issuer = parse_compact(stored.token, max_size=MAX_TRUST_LIST_SIZE).payload.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise MalformedError("the stored trust list has no iss")
    return issuer


def _affected(args: argparse.Namespace) -> int:
    store = _store(args.data)
    found = affected_records(store, args.kid)
    for item in found:
        permit = item.record.permit
        print(f"{item.record.id}\t{item.record.state.value}\t{permit.document_number}\t"
              f"{len(item.credentials)} credential(s)")
    print(f"{len(found)} record(s) hold credentials signed by {args.kid}", file=sys.stderr)
    return 0


def _reissue(args: argparse.Namespace) -> int:
    store = _store(args.data)
    url = _public_url(store, args.public_url)
    keyring = load_keyring(args.data / "keys", read_passphrase(env=os.environ, passphrase_file=args.passphrase_file))
    service = IssuerService(store, keyring, IssuerSettings(public_url=url))
    if args.sms_csv is not None and args.sms_csv.exists():
        raise ValueError(f"{args.sms_csv} exists; refusing to overwrite it")
    outcomes = reissue(service, args.kid, progress=not args.quiet)
    if args.sms_csv is not None:
        write_sms_csv(args.sms_csv, sms_rows(service, outcomes))
    counts = Counter(outcome.action for outcome in outcomes)
    summary = ", ".join(f"{counts[a]} {a}" for a in ("reissued", "skipped_suspended", "skipped_revoked", "failed"))
    print(f"{len(outcomes)} record(s): {summary}")
    for outcome in outcomes:
        if outcome.action == "failed":
            print(f"failed {outcome.record_id}: {outcome.detail}", file=sys.stderr)
    return 2 if counts["failed"] else 0
