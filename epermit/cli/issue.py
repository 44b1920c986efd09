"""`epermit issue --csv applications.csv --data DIR --officer ID`: bulk registration and pickup offers.

Runs on the office machine against its SQLite store, through the same OfficerDesk as the HTTP API
(roles, districts, bureau rules, audit). ``--officer`` is the issuing officer who makes the offers;
``--clerk`` the window clerk who registers (the separation of duties holds in bulk too). Every row is
validated first; any bad row stops everything (exit 1, each reported with its line number) unless
``--skip-bad``. The keys are unlocked as for `epermit serve` (EPERMIT_KEY_PASSPHRASE or a file).

The sheet and the SMS file are the only copies of the PINs (the store keeps hashes), so they are written
before anything is stored: every row is made ready in memory, the files are staged beside their targets
(epermit.cli.sheet.StagedFile), then the whole batch is stored in one step, then the files are put in place.
An unwritable path, a full disk or a store failure leaves nothing issued, and the same command can run again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from epermit.cli.harness import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Subparsers, guarded
from epermit.cli.sheet import SmsRow, StagedFile, stage_sheet, stage_sms_csv
from epermit.errors import UsageError
from epermit.office import OfficeData
from issuer.bulk import BadRow, IssuedRow, PreparedBatch, commit_batch, prepare_rows, read_rows, validate_rows
from issuer.desk import OfficerDesk
from issuer.model import Officer
from issuer.officers import OfficerRegistry
from issuer.portrait.folder import portrait_reader


def add_issue_command(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    issue = subparsers.add_parser("issue", help="register applications from a CSV file and make pickup offers")
    issue.add_argument("--csv", type=Path, required=True, help="applications, one per row (UTF-8, header)")
    issue.add_argument("--data", type=Path, required=True, help="data folder (keys/, epermit.sqlite3)")
    issue.add_argument("--officer", required=True, help="the issuing officer's id (makes the offers)")
    issue.add_argument("--clerk", help="the clerk's id (registers; default: --officer)")
    issue.add_argument("--skip-bad", action="store_true", help="issue the good rows even if some are bad")
    issue.add_argument("--sheet", type=Path, help="write a printable HTML sheet of pickup QR codes and PINs")
    issue.add_argument("--sms-csv", type=Path, help="write phone,pickup_url,offer_uri,pin,expires_at for an SMS gateway")
    issue.add_argument("--public-url", default="http://127.0.0.1:8081", help="the wallet API's public URL")
    issue.add_argument("--passphrase-file", type=Path, help="file holding the key passphrase")
    issue.add_argument("--no-progress", action="store_true")
    issue.set_defaults(handler=guarded("issue", _issue))


def _officer(registry: OfficerRegistry, officer_id: str) -> Officer:
    officer = registry.get(officer_id)
    if officer is None or officer.disabled:
        raise UsageError(f"no active officer {officer_id!r}")
    return officer


def prepare_bulk(
    desk: OfficerDesk, data: bytes, *, clerk: Officer, officer: Officer, skip_bad: bool, progress: bool,
    photos: Path | None = None,
) -> tuple[PreparedBatch, list[BadRow]]:
    """Validate all, then (if all good or ``skip_bad``) make the good rows ready. Nothing is stored.
    ``photos``: the folder the ``portrait`` column's file names are relative to (the CSV's)."""
    good, bad = validate_rows(read_rows(data), desk, clerk=clerk, now=desk.service.clock(), officer=officer,
                              read_portrait=None if photos is None else portrait_reader(photos))
    if bad and not skip_bad:
        return PreparedBatch((), ()), bad
    rows = prepare_rows(desk, good, clerk=clerk, officer=officer)
    if progress:
        from tqdm import tqdm  # type: ignore[import-untyped]

        rows = tqdm(rows, total=len(good), unit="row", desc="preparing", file=sys.stderr)
    return PreparedBatch.of(rows), bad


def run_bulk(
    desk: OfficerDesk, data: bytes, *, clerk: Officer, officer: Officer, skip_bad: bool, progress: bool
) -> tuple[list[IssuedRow], list[BadRow]]:
    """prepare_bulk, then the batch stored in one step (nothing is issued if there are bad rows, unless
    ``skip_bad``)."""
    batch, bad = prepare_bulk(desk, data, clerk=clerk, officer=officer, skip_bad=skip_bad, progress=progress)
    commit_batch(desk.service, batch)
    return list(batch.issued), bad


def _issue(args: argparse.Namespace) -> int:
    data = args.csv.read_bytes()
    service = OfficeData(args.data).open_service(public_url=args.public_url, passphrase_file=args.passphrase_file)
    desk = OfficerDesk(service)
    officer = _officer(desk.officers, args.officer)
    clerk = _officer(desk.officers, args.clerk or args.officer)
    batch, bad = prepare_bulk(desk, data, clerk=clerk, officer=officer, skip_bad=args.skip_bad,
                              progress=not args.no_progress, photos=args.csv.parent)
    for row in bad:
        print(f"{args.csv}:{row.line}: {row.reason}", file=sys.stderr)
    if bad and not args.skip_bad:
        print(f"{len(bad)} bad row(s): nothing issued (fix them, or pass --skip-bad)", file=sys.stderr)
        return EXIT_REFUSED
    public_url = service.settings.public_url
    staged: list[StagedFile] = []
    texted = 0
    try:  # the only copies of the PINs first, then the offers
        if args.sheet:
            staged.append(stage_sheet(batch.issued, args.sheet, public_url=public_url,
                                      title=f"epermit pickups — {args.csv.name}"))
        if args.sms_csv:
            sms, texted = stage_sms_csv(args.sms_csv, [SmsRow.of_bulk(row, public_url) for row in batch.issued
                                                       if row.phone])
            staged.append(sms)
        commit_batch(service, batch)
    except OSError as exc:  # an unwritable sheet or SMS file, a full disk: the PINs' only copy cannot be made
        for file in staged:
            file.discard()
        print(f"epermit issue: {exc}: nothing issued", file=sys.stderr)
        return EXIT_USAGE
    except BaseException:  # anything else (a refusal, Ctrl-C) also leaves no staged file behind, then goes on up
        for file in staged:
            file.discard()
        raise
    if not _put_in_place(staged):
        return EXIT_USAGE
    print(f"issued {len(batch.issued)} offer(s); skipped {len(bad)} bad row(s)"
          + (f"; sheet {args.sheet}" if args.sheet else "") + (f"; {texted} SMS row(s) in {args.sms_csv}"
                                                                 if args.sms_csv else ""))
    return EXIT_OK


def _put_in_place(staged: list[StagedFile]) -> bool:
    """Rename the staged files to their targets; one that cannot be is kept, and where it is said."""
    placed = True
    for file in staged:
        try:
            file.publish()
        except OSError as exc:
            placed = False
            print(f"epermit issue: the offers ARE issued, but {file.target} could not be written ({exc}); "
                  f"its content is in {file.temporary}: move it there by hand", file=sys.stderr)
    return placed
