"""`epermit issue --csv applications.csv --data DIR --officer ID`: bulk registration and pickup offers.

Runs on the office machine against its SQLite store, through the same OfficerDesk as the HTTP API
(roles, districts, bureau rules, audit). ``--officer`` is the issuing officer who makes the offers;
``--clerk`` the window clerk who registers (the separation of duties holds in bulk too). Every row is
validated first; any bad row stops everything (exit 1, each reported with its line number) unless
``--skip-bad``. The keys are unlocked as for `epermit serve` (EPERMIT_KEY_PASSPHRASE or a file).

A file of any size is streamed (issuer.bulk.run): checked in full first, then issued in batches of
``--batch-rows``, each stored in one step. The sheet and the SMS file are the only copies of the PINs (the
store keeps hashes), so each batch's PINs are written and flushed to the files growing beside their targets
(epermit.cli.outputs) before the batch is stored; the files are put in place when every batch is. An
unwritable path, or a failure before the first batch is stored, leaves nothing issued. A run interrupted
later (a kill, a full disk, a power cut) keeps the batches it stored: the same command again goes on from
the next batch, and the files keep exactly the PINs of the stored offers.

The links point at the public URL the data folder remembers (epermit.public_url; ``--public-url`` overrides
it); a plain-http or loopback URL is refused before anything else unless ``--insecure-http``. Rejected rows
go to a CSV file (epermit.cli.rejected; ``--rejected``, by default beside the input) that is corrected and
submitted again as it is. The progress bar (stderr; on a terminal, or with ``--progress``) runs over the
check, the issuing and the sheet.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from credential.errors import EpermitError
from epermit.cli.harness import EXIT_OK, EXIT_REFUSED, Subparsers, exit_code, guarded
from epermit.cli.outputs import BulkOutputs, RejectedFile
from epermit.cli.progress import Progress
from epermit.errors import UsageError
from epermit.office import add_location_options, office_from_args
from epermit.public_url import require_reachable
from issuer.bulk import (
    DEFAULT_BATCH_ROWS,
    BadRow,
    BulkJob,
    CsvStream,
    IssuedRow,
    PreparedBatch,
    commit_batch,
    count_rows,
    prepare_rows,
    read_rows,
    validate_rows,
)
from issuer.bulk.run import file_digest
from issuer.desk import OfficerDesk
from issuer.model import Officer
from issuer.officers import OfficerRegistry
from issuer.portrait.folder import portrait_reader


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
    issue.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS,
                       help=f"rows stored per step (default {DEFAULT_BATCH_ROWS}); an interrupted run goes on with "
                            "the size it started with")
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
    service = office_from_args(args).open_service(public_url=args.public_url, passphrase_file=args.passphrase_file)
    if args.sheet or args.sms_csv:  # before anything: a link no phone can open is never printed nor texted
        require_reachable(service.settings.public_url, insecure_http=args.insecure_http)
    desk = OfficerDesk(service)
    officer = _officer(desk.officers, args.officer)
    clerk = _officer(desk.officers, args.clerk or args.officer)
    csv_path: Path = args.csv
    with csv_path.open("rb") as data:
        header = CsvStream(data).header  # an unusable file is refused before anything
    job = BulkJob(desk, clerk, officer, csv_path, skip_bad=args.skip_bad, batch_rows=args.batch_rows,
                  read_portrait=portrait_reader(csv_path.parent),
                  outputs_named=BulkOutputs.named(args.sheet, args.sms_csv))
    outputs = BulkOutputs(sheet=args.sheet, sms=args.sms_csv, public_url=service.settings.public_url,
                          title=csv_path.name)
    rejects = RejectedFile(_rejected_path(args), csv_path, header)
    with Progress(shown=sys.stderr.isatty() if args.progress is None else args.progress) as bar:
        if bar.shown:
            bar.stage("检查 checking", count_rows(csv_path))
        try:
            report = job.run(outputs, rejects, checked=bar.advance, issuing=lambda n: bar.stage("签发 issuing", n),
                             issued=bar.advance)
        except (EpermitError, OSError) as exc:
            bar.close()
            rejects.discard()
            stored = service.store.bulk_progress(file_digest(csv_path)).batches if csv_path.is_file() else 0
            print(f"epermit issue: {exc}: " + ("nothing issued" if not stored else
                  f"{stored} batch(es) are issued and kept; run the same command again to go on from there"),
                  file=sys.stderr)
            return exit_code(exc)
        if args.sheet and not report.stopped:  # the sheet was joined from its tiles and slips at the end
            bar.stage("领取单 sheet", report.issued + report.issued_before)
            bar.advance(report.issued + report.issued_before)
    if report.bad:
        print(f"有误的行（行号、各列、原因）已写入 {_rejected_path(args)}，改正后可直接重新提交。"
              f"Rejected rows (line, fields, reason_zh, reason_en) written to {_rejected_path(args)}: correct them "
              f"and submit that file again.", file=sys.stderr)
    if report.stopped:
        print(f"{report.bad} 行有误，未签发任何证件（改正后重新提交 {_rejected_path(args)}，或加 --skip-bad）。"
              f"{report.bad} bad row(s): nothing issued (correct and resubmit them, or pass --skip-bad)",
              file=sys.stderr)
        return EXIT_REFUSED
    resumed = "" if report.resumed_at is None else (
        f"（接续中断的签发：此前已签发 {report.issued_before} 份）"
        f" (resumed an interrupted run at data row {report.resumed_at + 1}: {report.issued_before} issued before)")
    print(f"已签发 {report.issued} 份领取，跳过 {report.bad} 行有误的申请。"
          f"issued {report.issued} offer(s); skipped {report.bad} bad row(s)"
          + (f"; sheet {args.sheet}" if args.sheet else "") + (f"; {outputs.texted} SMS row(s) in {args.sms_csv}"
                                                                 if args.sms_csv else "")
          + (f"; rejected rows in {_rejected_path(args)}" if report.bad else "") + resumed)
    return EXIT_OK


def _rejected_path(args: argparse.Namespace) -> Path:
    csv_path: Path = args.csv
    return args.rejected or csv_path.with_name(f"{csv_path.stem}.rejected.csv")
