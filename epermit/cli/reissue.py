"""``epermit keys affected KID --data DIR`` and ``epermit reissue --kid KID --data DIR [--sms-csv FILE]``.

Both work on an office's data folder (``keys/`` and ``epermit.sqlite3``, as ``epermit serve`` uses them).
The public URL (for status list URIs and offer links) is read from the trust list the issuer last
published, or given with ``--public-url``. Exit codes: epermit.cli.harness (a record that failed to
re-issue exits 1).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from epermit.cli.harness import EXIT_OK, EXIT_REFUSED, Subparsers, guarded
from epermit.cli.sheet import SmsRow, write_sms_csv
from epermit.errors import UsageError
from epermit.office import add_location_options, office_from_args
from issuer.reissue import Outcome, affected_records, reissue
from issuer.service import IssuerService


def add_reissue_commands(subparsers: Subparsers[argparse.ArgumentParser],
                         keys_commands: Subparsers[argparse.ArgumentParser]) -> None:
    """``reissue`` under the top level, ``affected`` under ``keys``."""
    affected = keys_commands.add_parser("affected", help="list the credentials a key signed (compromise drill)")
    affected.add_argument("kid", help="the signing key id")
    _add_data(affected)
    affected.set_defaults(handler=guarded("keys affected", _affected))

    command = subparsers.add_parser("reissue", help="re-issue every credential a revoked key signed (new offers)")
    command.add_argument("--kid", required=True, help="the revoked signing key id")
    _add_data(command)
    command.add_argument("--sms-csv", type=Path, help="write the new offers (link, PIN) for the SMS batch here (0600)")
    command.add_argument("--passphrase-file", type=Path,
                         help="file holding the key passphrase (default: $EPERMIT_KEY_PASSPHRASE, else a prompt)")
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    command.set_defaults(handler=guarded("reissue", _reissue))


def _add_data(parser: argparse.ArgumentParser) -> None:
    add_location_options(parser, data_help="office data folder (keys/, and epermit.sqlite3 unless --redis)")
    parser.add_argument("--public-url", help="the wallet API's public URL (default: from the published trust list)")


def _affected(args: argparse.Namespace) -> int:
    store = office_from_args(args).open_registry()
    found = affected_records(store, args.kid)
    for item in found:
        permit = item.record.permit
        print(f"{item.record.id}\t{item.record.state.value}\t{permit.document_number}\t"
              f"{len(item.credentials)} credential(s)")
    print(f"{len(found)} record(s) hold credentials signed by {args.kid}", file=sys.stderr)
    return EXIT_OK


def _reissue(args: argparse.Namespace) -> int:
    if args.sms_csv is not None and args.sms_csv.exists():
        raise UsageError(f"{args.sms_csv} exists; refusing to overwrite it")
    service = office_from_args(args).open_service(public_url=args.public_url, passphrase_file=args.passphrase_file)
    outcomes = reissue(service, args.kid, progress=not args.quiet)
    if args.sms_csv is not None:
        write_sms_csv(args.sms_csv, sms_rows(service, outcomes))
    counts = Counter(outcome.action for outcome in outcomes)
    summary = ", ".join(f"{counts[a]} {a}" for a in ("reissued", "skipped_suspended", "skipped_revoked", "failed"))
    print(f"{len(outcomes)} record(s): {summary}")
    for outcome in outcomes:
        if outcome.action == "failed":
            print(f"failed {outcome.record_id}: {outcome.detail}", file=sys.stderr)
    return EXIT_REFUSED if counts["failed"] else EXIT_OK


def sms_rows(service: IssuerService, outcomes: Iterable[Outcome]) -> list[SmsRow]:
    """One row per new offer (the record keeps no phone number: the clerk matches rows by document number)."""
    rows = []
    for outcome in outcomes:
        if outcome.offer is None:
            continue
        permit = service.get_record(outcome.record_id).permit
        rows.append(SmsRow.of_offer(outcome.offer, public_url=service.settings.public_url, phone="",
                                    record_id=outcome.record_id, document_number=permit.document_number,
                                    name=permit.holder.name))
    return rows
