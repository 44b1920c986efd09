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

The links point at the public URL the data folder remembers (epermit.public_url; ``--public-url`` overrides
it); a plain-http or loopback URL is refused before anything else unless ``--insecure-http``. Rejected rows
go to a CSV file (epermit.cli.rejected; ``--rejected``, by default beside the input) that is corrected and
submitted again as it is. The progress bar (stderr; on a terminal, or with ``--progress``) runs over the
validation, the issuing and the sheet.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from epermit.cli.harness import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Subparsers, guarded
from epermit.cli.progress import Progress
from epermit.cli.rejected import write_rejected_csv
from epermit.cli.sheet import SmsRow, StagedFile, stage_sheet, stage_sms_csv
from epermit.errors import UsageError
from epermit.office import add_location_options, office_from_args
from epermit.public_url import require_reachable
from issuer.bulk import (
    BadRow,
    IssuedRow,
    PreparedBatch,
    commit_batch,
    prepare_rows,
    read_rows,
    read_table,
    validate_rows,
)
from issuer.desk import OfficerDesk
from issuer.model import Officer
from issuer.officers import OfficerRegistry
from issuer.portrait.folder import portrait_reader
from issuer.service import IssuerService


def add_issue_command(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    issue = subparsers.add_parser("issue", help="register applications from a CSV file and make pickup offers")
    issue.add_argument("--csv", type=Path, required=True, help="applications, one per row (UTF-8, header)")
    add_location_options(issue, data_help="data folder (keys/, and epermit.sqlite3 unless --redis)")
    issue.add_argument("--officer", required=True, help="the issuing officer's id (makes the offers)")
    issue.add_argument("--clerk", help="the clerk's id (registers; default: --officer)")
    issue.add_argument("--skip-bad", action="store_true", help="issue the good rows even if some are bad")
    issue.add_argument("--rejected", type=Path,
                       help="where the rejected rows go, with line and reason, to correct and submit again "
                            "(default: beside --csv, NAME.rejected.csv)")
    issue.add_argument("--sheet", type=Path, help="write a printable HTML sheet: pickup QR tiles, then PIN slips")
    issue.add_argument("--sms-csv", type=Path, help="write phone,pickup_url,offer_uri,pin,expires_at for an SMS gateway")
    issue.add_argument("--public-url", help="the wallet API's public https URL (default: the one the data folder "
                                            "remembers from `keys init` or `serve --public-url`)")
    issue.add_argument("--insecure-http", action="store_true",
                       help="allow links to a plain-http or loopback public URL (local testing only: "
                            "residents' phones cannot open them)")
    issue.add_argument("--passphrase-file", type=Path, help="file holding the key passphrase")
    shown = issue.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", default=None,
                       help="show the progress bar on stderr (default: only on a terminal)")
    shown.add_argument("--no-progress", dest="progress", action="store_false")
    issue.set_defaults(handler=guarded("issue", _issue), progress=None)


def _officer(registry: OfficerRegistry, officer_id: str) -> Officer:
    officer = registry.get(officer_id)
    if officer is None or officer.disabled:
        raise UsageError(f"no active officer {officer_id!r}")
    return officer


def prepare_bulk(
    desk: OfficerDesk, data: bytes, *, clerk: Officer, officer: Officer, skip_bad: bool, progress: bool | Progress,
    photos: Path | None = None,
) -> tuple[PreparedBatch, list[BadRow]]:
    """Validate all, then (if all good or ``skip_bad``) make the good rows ready. Nothing is stored.
    ``progress``: a Progress to advance, or whether to show one (stderr). ``photos``: the folder the
    ``portrait`` column's file names are relative to (the CSV's)."""
    bar = progress if isinstance(progress, Progress) else Progress(shown=progress)
    rows = read_rows(data)
    bar.stage("检查 checking", len(rows))
    good, bad = validate_rows(rows, desk, clerk=clerk, now=desk.service.clock(), officer=officer, tick=bar.tick,
                              read_portrait=None if photos is None else portrait_reader(photos))
    if bad and not skip_bad:
        return PreparedBatch((), ()), bad
    bar.stage("签发 issuing", len(good))
    return PreparedBatch.of(bar.each(prepare_rows(desk, good, clerk=clerk, officer=officer))), bad


def run_bulk(
    desk: OfficerDesk, data: bytes, *, clerk: Officer, officer: Officer, skip_bad: bool, progress: bool
) -> tuple[list[IssuedRow], list[BadRow]]:
    """prepare_bulk, then the batch stored in one step (nothing is issued if there are bad rows, unless
    ``skip_bad``)."""
    with Progress(shown=progress) as bar:
        batch, bad = prepare_bulk(desk, data, clerk=clerk, officer=officer, skip_bad=skip_bad, progress=bar)
        commit_batch(desk.service, batch)
    return list(batch.issued), bad


def _issue(args: argparse.Namespace) -> int:
    data = args.csv.read_bytes()
    service = office_from_args(args).open_service(public_url=args.public_url, passphrase_file=args.passphrase_file)
    if args.sheet or args.sms_csv:  # before anything: a link no phone can open is never printed nor texted
        require_reachable(service.settings.public_url, insecure_http=args.insecure_http)
    desk = OfficerDesk(service)
    officer = _officer(desk.officers, args.officer)
    clerk = _officer(desk.officers, args.clerk or args.officer)
    with Progress(shown=sys.stderr.isatty() if args.progress is None else args.progress) as bar:
        batch, bad = prepare_bulk(desk, data, clerk=clerk, officer=officer, skip_bad=args.skip_bad, progress=bar,
                                  photos=args.csv.parent)
        if bad:
            bar.close()  # the lines below are not drawn over
            _report_rejected(args, data, bad)
        if bad and not args.skip_bad:
            bar.close()
            print(f"{len(bad)} 行有误，未签发任何证件（改正后重新提交 {_rejected_path(args)}，或加 --skip-bad）。"
                  f"{len(bad)} bad row(s): nothing issued (correct and resubmit them, or pass --skip-bad)",
                  file=sys.stderr)
            return EXIT_REFUSED
        texted = _stage_and_commit(args, service, batch, bar)
    if texted is None:
        return EXIT_USAGE
    print(f"已签发 {len(batch.issued)} 份领取，跳过 {len(bad)} 行有误的申请。"
          f"issued {len(batch.issued)} offer(s); skipped {len(bad)} bad row(s)"
          + (f"; sheet {args.sheet}" if args.sheet else "") + (f"; {texted} SMS row(s) in {args.sms_csv}"
                                                                 if args.sms_csv else "")
          + (f"; rejected rows in {_rejected_path(args)}" if bad else ""))
    return EXIT_OK


def _rejected_path(args: argparse.Namespace) -> Path:
    csv_path: Path = args.csv
    return args.rejected or csv_path.with_name(f"{csv_path.stem}.rejected.csv")


def _report_rejected(args: argparse.Namespace, data: bytes, bad: list[BadRow]) -> None:
    for row in bad:
        print(f"{args.csv}:{row.line}: {row.reason}", file=sys.stderr)
    path = _rejected_path(args)
    write_rejected_csv(path, read_table(data).header, bad)
    print(f"有误的行（行号、各列、原因）已写入 {path}，改正后可直接重新提交。"
          f"Rejected rows (line, fields, reason_zh, reason_en) written to {path}: correct them and submit that "
          f"file again.", file=sys.stderr)


def _stage_and_commit(args: argparse.Namespace, service: IssuerService, batch: PreparedBatch,
                      bar: Progress) -> int | None:
    """Stage the sheet and the SMS file, store the batch, put the files in place: the SMS row count, or None
    when nothing (or not every file) could be written."""
    public_url = service.settings.public_url
    staged: list[StagedFile] = []
    texted = 0
    try:  # the only copies of the PINs first, then the offers
        if args.sheet:
            bar.stage("领取单 sheet", len(batch.issued))
            staged.append(stage_sheet(batch.issued, args.sheet, public_url=public_url, title=args.csv.name,
                                      tick=bar.tick))
        if args.sms_csv:
            sms, texted = stage_sms_csv(args.sms_csv, [SmsRow.of_bulk(row, public_url) for row in batch.issued
                                                       if row.phone])
            staged.append(sms)
        commit_batch(service, batch)
    except OSError as exc:  # an unwritable sheet or SMS file, a full disk: the PINs' only copy cannot be made
        for file in staged:
            file.discard()
        bar.close()
        print(f"epermit issue: {exc}: nothing issued", file=sys.stderr)
        return None
    except BaseException:  # anything else (a refusal, Ctrl-C) also leaves no staged file behind, then goes on up
        for file in staged:
            file.discard()
        raise
    bar.close()
    return texted if _put_in_place(staged) else None


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
