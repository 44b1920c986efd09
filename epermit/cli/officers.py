"""`epermit officers ...`: manage officers, their console sign-in and their API tokens.

The registry is the SQLite store of the data folder, or with ``--redis URL`` (or EPERMIT_REDIS_URL) the
Redis store of a Redis deployment (the folder then holds the keys only). Every change is audited with the
actor ``console`` (the office machine). Issuing a token, revoking one by its value and enrolling a TOTP
secret need the store secret of the folder's keys (a token is kept as a keyed hash, a TOTP secret sealed),
so they ask for the key passphrase; the other commands do not. A password is read from
EPERMIT_OFFICER_PASSWORD or a prompt, never from the command line (which other users and the shell history
see). Exit codes: epermit.cli.harness.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from credential.codes import DISTRICT_LABELS, validate_district
from credential.errors import InvalidApplicationError
from epermit.cli.harness import EXIT_REFUSED, Subparsers, guarded
from epermit.errors import UsageError
from epermit.office import OfficeData, add_location_options, office_from_args
from epermit.private_files import write_private_bytes
from issuer.audit import AuditLog
from issuer.errors import InvalidRequestError, OfficerExistsError
from issuer.logins import ConsoleLogins, reset_totp, set_password
from issuer.model import MAX_TOKEN_LENGTH, OK, REFUSED, Role
from issuer.officers import OfficerRegistry
from issuer.passwords import MAX_LENGTH
from issuer.qr import qr_png, qr_svg, qr_terminal
from issuer.settings import system_clock
from issuer.store import Store

DAY = 86400
CONSOLE = "console"  # the audit trail's actor for commands run on the office machine
PASSWORD_ENV = "EPERMIT_OFFICER_PASSWORD"  # noqa: S105 - the variable's name, not a password


def open_store(office: OfficeData) -> Store:
    """Officers may be added to a new folder: the SQLite store is created on first use."""
    return office.open_registry(create=True)


def add_officer_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    officers = subparsers.add_parser("officers", help="manage officers, their console sign-in and API tokens")
    commands = officers.add_subparsers(dest="officers_command", required=True)

    def command(name: str, help_text: str, handler: object, *, passphrase: bool = False) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help_text)
        add_location_options(parser, data_help="data folder (keys/, and epermit.sqlite3 unless --redis)")
        if passphrase:
            parser.add_argument("--passphrase-file", type=Path, help="file holding the key passphrase "
                                                                     "(default: $EPERMIT_KEY_PASSPHRASE, else a prompt)")
        parser.set_defaults(handler=guarded("officers", handler))  # type: ignore[arg-type]
        return parser

    add = command("add", "add a new officer (an existing id: use change)", _add)
    add.add_argument("--id", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--district", action="append", default=[], help="district code of the city (GB/T 2260); "
                                                                      "repeat for several")

    change = command("change", "change an officer's role, districts or name (revokes its tokens)", _change)
    change.add_argument("--id", required=True)
    change.add_argument("--name")
    change.add_argument("--role", choices=[role.value for role in Role])
    change.add_argument("--district", action="append", help="district code; repeat for several (replaces all)")

    token = command("token", "issue an API bearer token for a machine (printed once)", _token, passphrase=True)
    token.add_argument("--id", required=True)
    token.add_argument("--ttl-days", type=int, default=90)

    command("list", "list officers", _list)

    disable = command("disable", "disable an officer, revoke every token, end its console sessions", _disable)
    disable.add_argument("--id", required=True)

    revoke = command("revoke-token", "revoke one token (read from stdin) or all of an officer's", _revoke_token,
                     passphrase=True)
    who = revoke.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", help="revoke every token of this officer")
    who.add_argument("--token-stdin", action="store_true", help="revoke the one token given on stdin")

    password = command("set-password", f"set an officer's console password (from ${PASSWORD_ENV} or a prompt)",
                       _set_password)
    password.add_argument("--id", required=True)

    enrol = command("enrol-totp", "enrol a new TOTP secret for the officer's authenticator app (shown once)",
                    _enrol_totp, passphrase=True)
    enrol.add_argument("--id", required=True)
    enrol.add_argument("--qr", type=Path, help="write the QR code to this .png or .svg file (0600) instead of "
                                               "drawing it on the terminal")

    reset = command("reset-totp", "forget the officer's TOTP secret (lost phone): it enrols at the next sign-in",
                    _reset_totp)
    reset.add_argument("--id", required=True)


def _audit(store: Store, action: str, reason: str, *, outcome: str = OK) -> None:
    AuditLog(store, system_clock).append(officer=CONSOLE, action=action, record_id=None, reason=reason,
                                         outcome=outcome)


def city_districts(codes: Sequence[str]) -> list[str]:
    """The codes as the console and the desk take a district: county-level GB/T 2260 codes of the city."""
    for code in codes:
        try:
            validate_district(code)
        except InvalidApplicationError as exc:
            raise InvalidRequestError(f"--district {code!r}: {str(exc).removeprefix('district: ')}") from exc
        if code not in DISTRICT_LABELS:
            raise InvalidRequestError(f"--district {code}: not a district of the city "
                                      f"(one of {', '.join(DISTRICT_LABELS)})")
    return list(codes)


def _add(args: argparse.Namespace) -> int:
    office = office_from_args(args)
    if args.role != Role.BUREAU_AUDITOR.value and not args.district:
        raise UsageError("give the officer's districts: --district CODE (repeat for several)")
    districts = city_districts(args.district)
    store = open_store(office)
    try:
        officer = OfficerRegistry(store).add(args.id, name=args.name, role=args.role, districts=districts)
    except OfficerExistsError as exc:
        _audit(store, "officer_add", f"{exc.officer_id} exists", outcome=REFUSED)
        print(f"epermit officers: officer {exc.officer_id} already exists; to give it another role, districts or "
              f"name: epermit officers change --data {args.data} --id {exc.officer_id} [--role ROLE] "
              "[--district CODE ...] [--name NAME]", file=sys.stderr)
        return EXIT_REFUSED
    _audit(store, "officer_add", f"{officer.id} {officer.role.value} {','.join(officer.districts)}")
    print(f"officer {officer.id} ({officer.role.value}) districts {','.join(officer.districts) or '-'}\n"
          f"next: epermit officers set-password --data {args.data} --id {officer.id} (the console sign-in)")
    return 0


def _change(args: argparse.Namespace) -> int:
    if args.name is None and args.role is None and args.district is None:
        raise UsageError("give --role, --district or --name")
    districts = city_districts(args.district) if args.district is not None else None
    store = open_store(office_from_args(args))
    change = OfficerRegistry(store).change(args.id, name=args.name, role=args.role, districts=districts)
    _audit(store, "officer_change", str(change))
    officer = change.after
    print(f"officer {officer.id} ({officer.role.value}) districts {','.join(officer.districts) or '-'}; "
          f"{change.tokens_revoked} token(s) revoked, console sessions ended (the officer signs in again)")
    return 0


def _token(args: argparse.Namespace) -> int:
    if not 0 < args.ttl_days <= 3650:
        raise UsageError("--ttl-days must be 1..3650")
    office = office_from_args(args)
    store = open_store(office)
    if OfficerRegistry(store).get(args.id) is None:  # before asking for the passphrase
        raise InvalidRequestError(f"no officer {args.id!r}")
    keyed = office.keyed_hash(passphrase_file=args.passphrase_file)
    token = OfficerRegistry(store, keyed=keyed).issue_token(args.id, ttl=args.ttl_days * DAY)
    _audit(store, "token_issue", f"{args.id} ttl {args.ttl_days * DAY}")
    print(token)
    return 0


def _list(args: argparse.Namespace) -> int:
    store = open_store(office_from_args(args))
    for officer in store.list_officers():
        state = "disabled" if officer.disabled else "active"
        secrets = store.get_officer_secrets(officer.id)
        sign_in = "-" if secrets is None or secrets.password_hash is None else \
            "password+totp" if secrets.totp_sealed is not None else "password (enrols totp at sign-in)"
        print(f"{officer.id}\t{officer.role.value}\t{','.join(officer.districts)}\t{state}\t{officer.name}\t{sign_in}")
    return 0


def _disable(args: argparse.Namespace) -> int:
    store = open_store(office_from_args(args))
    OfficerRegistry(store).disable(args.id)
    _audit(store, "officer_disable", args.id)
    print(f"officer {args.id} disabled; tokens revoked, console sessions ended")
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    office = office_from_args(args)
    store = open_store(office)
    keyed = office.keyed_hash(passphrase_file=args.passphrase_file) if args.token_stdin else None
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


def read_new_password(env: Mapping[str, str]) -> str:
    """From EPERMIT_OFFICER_PASSWORD, else typed twice at a prompt (no echo); never an argument."""
    if PASSWORD_ENV in env:
        return env[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise UsageError(f"no password given (set {PASSWORD_ENV} or run in a terminal)")
    typed = getpass.getpass("New console password (12+ characters): ")
    if getpass.getpass("Repeat it: ") != typed:
        raise UsageError("the two passwords differ")
    return typed


def _require_officer(store: Store, officer_id: str) -> None:
    if store.get_officer(officer_id) is None:
        raise UsageError(f"no officer {officer_id!r}")


def _set_password(args: argparse.Namespace) -> int:
    office = office_from_args(args)
    store = open_store(office)
    _require_officer(store, args.id)  # before the prompt
    password = read_new_password(os.environ)[:MAX_LENGTH + 1]
    set_password(store, args.id, password)
    _audit(store, "officer_password", args.id)
    secrets = store.get_officer_secrets(args.id)
    enrolled = secrets is not None and secrets.totp_sealed is not None
    print(f"password of {args.id} set; console sessions ended"
          + ("" if enrolled else f"\nnext: the officer enrols an authenticator app at the first sign-in, or: "
                                 f"epermit officers enrol-totp --data {args.data} --id {args.id}"))
    return 0


def _enrol_totp(args: argparse.Namespace) -> int:
    if args.qr is not None and args.qr.suffix.lower() not in (".png", ".svg"):
        raise UsageError("--qr must name a .png or .svg file")
    office = office_from_args(args)
    store = open_store(office)
    _require_officer(store, args.id)  # before asking for the passphrase
    keyed = office.keyed_hash(passphrase_file=args.passphrase_file)
    enrolment = ConsoleLogins(store, keyed=keyed).enrol_totp(args.id)
    _audit(store, "totp_enrol", f"{args.id} office machine")
    if args.qr is not None:
        write_private_bytes(args.qr, qr_svg(enrolment.uri) if args.qr.suffix.lower() == ".svg" else qr_png(enrolment.uri))
        print(f"QR code written to {args.qr} (0600: it is the secret; delete it once scanned)")
    else:
        print(qr_terminal(enrolment.uri))
    print(f"{enrolment.uri}\nsecret (shown once; to type it into the app): {enrolment.text}\n"
          f"console sessions of {args.id} ended; the next sign-in takes the app's 6-digit code")
    return 0


def _reset_totp(args: argparse.Namespace) -> int:
    store = open_store(office_from_args(args))
    _require_officer(store, args.id)
    reset_totp(store, args.id)
    _audit(store, "totp_reset", args.id)
    print(f"TOTP of {args.id} reset; console sessions ended; the officer enrols again at the next sign-in "
          "(password, then the QR code)")
    return 0
