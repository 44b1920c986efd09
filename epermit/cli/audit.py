"""`epermit audit verify|list|head --data DIR [--redis URL]`: check and read the hash-chained audit log of an office.

``verify`` exits 1 and names the first entry that does not fit (edited, deleted, inserted, reordered);
with ``--expect SEQ:HASH`` (a head noted earlier with ``head``) it also catches a cut-off or rewritten
tail. It then replays the chain against the records (issuer.audit.check_record_states) and exits 1 naming
each record whose state the chain does not explain. ``head`` prints the anchor to note outside the machine
(duty book, e-mail, a signed record). Every command here only reads: the store is opened read-only, so they
also run on a read-only copy (a backup, a mounted snapshot) and never create files beside it.
"""

from __future__ import annotations

import argparse
import itertools

from epermit.cli.harness import EXIT_OK, EXIT_REFUSED, Subparsers, guarded
from epermit.errors import UsageError
from epermit.office import add_location_options, office_from_args
from issuer.audit import Anchor, all_entries, check_record_states, verify_chains
from issuer.audit_cursor import AuditCursor, merged
from issuer.errors import AuditChainError, InvalidRequestError
from issuer.store import Store


def add_audit_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    audit = subparsers.add_parser("audit", help="verify and read the tamper-evident audit log")
    commands = audit.add_subparsers(dest="audit_command", required=True)

    verify = commands.add_parser("verify", help="check the hash chain; exit 1 at the first broken entry")
    add_location_options(verify, data_help="data folder holding epermit.sqlite3 (with --redis: the keys)")
    verify.add_argument("--expect", help="a head noted earlier (SEQ:HASH from `epermit audit head`)")
    verify.set_defaults(handler=guarded("audit", _verify))

    listing = commands.add_parser("list", help="print entries (tab-separated), every chain's merged by time; "
                                                "on a sharded store the seq column is CHAIN:SEQ for a district's")
    add_location_options(listing)
    listing.add_argument("--after", default="0", help="SEQ, or SEQ,CHAIN:SEQ,... on a sharded store (a seq per "
                                                        "chain, as the seq column prints them)")
    listing.add_argument("--limit", type=int, default=100)
    listing.set_defaults(handler=guarded("audit", _list))

    head = commands.add_parser("head", help="print the anchor of the newest entries (SEQ:HASH; sharded: "
                                            "SEQ,CHAIN:SEQ,...:HASH, every chain's head together)")
    add_location_options(head)
    head.set_defaults(handler=guarded("audit", _head))


SHOWN_MISMATCHES = 20


def _store(args: argparse.Namespace) -> Store:
    return office_from_args(args).open_registry(read_only=True)


def _verify(args: argparse.Namespace) -> int:
    try:
        expect = Anchor.parse(args.expect) if args.expect else None
    except InvalidRequestError as exc:
        raise UsageError(f"--expect: {exc}") from exc
    store = _store(args)
    try:
        report = verify_chains(store, expect=expect)
    except AuditChainError as exc:
        print(f"audit log BROKEN at entry {exc.seq}: {exc.problem}")
        return EXIT_REFUSED
    head = "empty" if report.head is None else f"head {report.head}"
    mismatches = check_record_states(store)
    if mismatches:
        print(f"audit log chain intact ({report.entries} entries, {head}) but {len(mismatches)} record(s) "
              "disagree with it:")
        for mismatch in mismatches[:SHOWN_MISMATCHES]:
            print(f"  {mismatch}")
        if len(mismatches) > SHOWN_MISMATCHES:
            print(f"  ... and {len(mismatches) - SHOWN_MISMATCHES} more")
        return EXIT_REFUSED
    print(f"audit log OK: {report.entries} entries, {head}; every record's state matches it")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    try:
        after = AuditCursor.parse(args.after)
    except InvalidRequestError as exc:
        raise UsageError(f"--after: {exc}") from exc
    if not 0 < args.limit <= 10_000:
        raise UsageError("--limit must be 1..10000")
    store = _store(args)
    streams = {chain: all_entries(store, after=after.get(chain, 0), chain=chain) for chain in store.audit_chains()}
    for chain, e in itertools.islice(merged(streams), args.limit):
        seq = f"{chain}:{e.seq}" if chain else str(e.seq)
        print(f"{seq}\t{e.time}\t{e.officer}\t{e.action}\t{e.outcome}\t{e.record_id or '-'}\t{e.reason}")
    return EXIT_OK


def _head(args: argparse.Namespace) -> int:
    report = verify_chains(_store(args))  # every chain's head, in one anchor (issuer.audit_anchor)
    print("empty" if report.head is None else str(report.head))
    return EXIT_OK
