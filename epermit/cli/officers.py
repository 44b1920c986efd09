"""`epermit officers ...`: manage officers and their bearer tokens in the SQLite store of a data folder.

Every change is audited with the actor ``console`` (the office machine). Issuing a token and revoking one
by its value need the store secret of the folder's keys (the store keeps only a keyed hash of a token), so
they ask for the key passphrase; the other commands do not. Exit codes: epermit.cli.harness.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from epermit.cli.harness import EXIT_REFUSED, Subparsers, guarded
from epermit.errors import UsageError
from epermit.office import OfficeData
from issuer.audit import AuditLog
from issuer.errors import InvalidRequestError, OfficerExistsError
from issuer.model import MAX_TOKEN_LENGTH, OK, REFUSED, Role
from issuer.officers import OfficerRegistry
from issuer.settings import system_clock
from issuer.store.sqlite import SQLiteStore

DAY = 86400
CONSOLE = "console"  # the audit trail's actor for commands run on the office machine


def open_store(data: Path) -> SQLiteStore:
    """Officers may be added to a new folder: the store is created on first use."""
    return OfficeData(data).open_store(create=True)


def add_officer_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    officers = subparsers.add_parser("officers", help="manage officers and their API tokens")
    commands = officers.add_subparsers(dest="officers_command", required=True)

    add = commands.add_parser("add", help="add a new officer (an existing id: use change)")
    add.add_argument("--data", type=Path, required=True, help="data folder holding epermit.sqlite3")
    add.add_argument("--id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--district", action="append", default=[], help="six-digit code; repeat for several")
    add.set_defaults(handler=guarded("officers", _add))

    change = commands.add_parser("change", help="change an officer's role, districts or name (revokes its tokens)")
    change.add_argument("--data", type=Path, required=True)
    change.add_argument("--id", required=True)
    change.add_argument("--name")
    change.add_argument("--role", choices=[role.value for role in Role])
    change.add_argument("--district", action="append", help="six-digit code; repeat for several (replaces all)")
    change.set_defaults(handler=guarded("officers", _change))

    token = commands.add_parser("token", help="issue a bearer token (printed once)")
    token.add_argument("--data", type=Path, required=True)
    token.add_argument("--id", required=True)
    token.add_argument("--ttl-days", type=int, default=90)
    _add_passphrase(token)
    token.set_defaults(handler=guarded("officers", _token))

    listing = commands.add_parser("list", help="list officers")
    listing.add_argument("--data", type=Path, required=True)
    listing.set_defaults(handler=guarded("officers", _list))

    disable = commands.add_parser("disable", help="disable an officer and revoke every token")
    disable.add_argument("--data", type=Path, required=True)
    disable.add_argument("--id", required=True)
    disable.set_defaults(handler=guarded("officers", _disable))

    revoke = commands.add_parser("revoke-token", help="revoke one token (read from stdin) or all of an officer's")
    revoke.add_argument("--data", type=Path, required=True)
    who = revoke.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", help="revoke every token of this officer")
    who.add_argument("--token-stdin", action="store_true", help="revoke the one token given on stdin")
    _add_passphrase(revoke)
    revoke.set_defaults(handler=guarded("officers", _revoke_token))


def _add_passphrase(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--passphrase-file", type=Path,
                        help="file holding the key passphrase (default: $EPERMIT_KEY_PASSPHRASE, else a prompt)")


def _audit(store: SQLiteStore, action: str, reason: str, *, outcome: str = OK) -> None:
    AuditLog(store, system_clock).append(officer=CONSOLE, action=action, record_id=None, reason=reason,
                                         outcome=outcome)


def _add(args: argparse.Namespace) -> int:
    store = open_store(args.data)
    try:
        officer = OfficerRegistry(store).add(args.id, name=args.name, role=args.role, districts=args.district)
    except OfficerExistsError as exc:
        _audit(store, "officer_add", f"{exc.officer_id} exists", outcome=REFUSED)
        print(f"epermit officers: officer {exc.officer_id} already exists; to give it another role, districts or "
              f"name: epermit officers change --data {args.data} --id {exc.officer_id} [--role ROLE] "
              "[--district CODE ...] [--name NAME]", file=sys.stderr)
        return EXIT_REFUSED
    _audit(store, "officer_add", f"{officer.id} {officer.role.value} {','.join(officer.districts)}")
    print(f"officer {officer.id} ({officer.role.value}) districts {','.join(officer.districts) or '-'}")
    return 0


def _change(args: argparse.Namespace) -> int:
    if args.name is None and args.role is None and args.district is None:
        raise UsageError("give --role, --district or --name")
    store = open_store(args.data)
    change = OfficerRegistry(store).change(args.id, name=args.name, role=args.role, districts=args.district)
    _audit(store, "officer_change", str(change))
    officer = change.after
    print(f"officer {officer.id} ({officer.role.value}) districts {','.join(officer.districts) or '-'}; "
          f"{change.tokens_revoked} token(s) revoked, console sessions ended: issue a new token")
    return 0


def _token(args: argparse.Namespace) -> int:
    if not 0 < args.ttl_days <= 3650:
        raise UsageError("--ttl-days must be 1..3650")
    store = open_store(args.data)
    if OfficerRegistry(store).get(args.id) is None:  # before asking for the passphrase
        raise InvalidRequestError(f"no officer {args.id!r}")
    keyed = OfficeData(args.data).keyed_hash(passphrase_file=args.passphrase_file)
    token = OfficerRegistry(store, keyed=keyed).issue_token(args.id, ttl=args.ttl_days * DAY)
    _audit(store, "token_issue", f"{args.id} ttl {args.ttl_days * DAY}")
    print(token)
    return 0


def _list(args: argparse.Namespace) -> int:
    for officer in open_store(args.data).list_officers():
        state = "disabled" if officer.disabled else "active"
        print(f"{officer.id}\t{officer.role.value}\t{','.join(officer.districts)}\t{state}\t{officer.name}")
    return 0


def _disable(args: argparse.Namespace) -> int:
    store = open_store(args.data)
    OfficerRegistry(store).disable(args.id)
    _audit(store, "officer_disable", args.id)
    print(f"officer {args.id} disabled; tokens revoked")
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    store = open_store(args.data)
    keyed = OfficeData(args.data).keyed_hash(passphrase_file=args.passphrase_file) if args.token_stdin else None
    registry = OfficerRegistry(store, keyed=keyed)
    if args.token_stdin:
        officer_id = registry.revoke_token(sys.stdin.readline(MAX_TOKEN_LENGTH + 2).strip())
        _audit(store, "token_revoke", f"{officer_id} one")
        print(f"token of {officer_id} revoked")
    else:
        if registry.get(args.id) is None:
            raise UsageError(f"no officer {args.id!r}")
        count = registry.revoke_tokens(args.id)
        _audit(store, "token_revoke", f"{args.id} all ({count})")
        print(f"{count} token(s) of {args.id} revoked")
    return 0
