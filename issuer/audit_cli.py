"""`epermit audit verify|list|head --data DIR`: check and read the hash-chained audit log of an office.

``verify`` exits 1 and names the first entry that does not fit (edited, deleted, inserted, reordered);
with ``--expect SEQ:HASH`` (a head noted earlier with ``head``) it also catches a cut-off or rewritten
tail. ``head`` prints the anchor to note outside the machine (duty book, e-mail, a signed record).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from credential.errors import EpermitError
from issuer.audit import Anchor, all_entries, verify_chain
from issuer.errors import AuditChainError
from issuer.store.sqlite import SQLiteStore

STORE_FILE = "epermit.sqlite3"


def add_audit_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = subparsers.add_parser("audit", help="verify and read the tamper-evident audit log")
    commands = audit.add_subparsers(dest="audit_command", required=True)

    verify = commands.add_parser("verify", help="check the hash chain; exit 1 at the first broken entry")
    verify.add_argument("--data", type=Path, required=True, help="data folder holding epermit.sqlite3")
    verify.add_argument("--expect", help="a head noted earlier (SEQ:HASH from `epermit audit head`)")
    verify.set_defaults(func=_guarded(_verify))

    listing = commands.add_parser("list", help="print entries (tab-separated)")
    listing.add_argument("--data", type=Path, required=True)
    listing.add_argument("--after", type=int, default=0)
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(func=_guarded(_list))

    head = commands.add_parser("head", help="print the anchor SEQ:HASH of the newest entry")
    head.add_argument("--data", type=Path, required=True)
    head.set_defaults(func=_guarded(_head))


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (EpermitError, ValueError, OSError) as exc:
            print(f"epermit audit: {exc}", file=sys.stderr)
            return 1

    return run


def _store(data: Path) -> SQLiteStore:
    if not (data / STORE_FILE).is_file():
        raise ValueError(f"no store in {data}")
    return SQLiteStore(data / STORE_FILE)


def _verify(args: argparse.Namespace) -> int:
    expect = Anchor.parse(args.expect) if args.expect else None
    try:
        report = verify_chain(all_entries(_store(args.data)), expect=expect)
    except AuditChainError as exc:
        print(f"audit log BROKEN at entry {exc.seq}: {exc.problem}")
        return 1
    head = "empty" if report.head is None else f"head {report.head}"
    print(f"audit log OK: {report.entries} entries, {head}")
    return 0


def _list(args: argparse.Namespace) -> int:
    if not 0 <= args.after or not 0 < args.limit <= 10_000:
        raise ValueError("--after must be >= 0 and --limit 1..10000")
    for e in _store(args.data).list_audit(after=args.after, limit=args.limit):
        print(f"{e.seq}\t{e.time}\t{e.officer}\t{e.action}\t{e.outcome}\t{e.record_id or '-'}\t{e.reason}")
    return 0


def _head(args: argparse.Namespace) -> int:
    report = verify_chain(all_entries(_store(args.data)))
    print("empty" if report.head is None else str(report.head))
    return 0
