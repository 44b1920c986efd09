"""A bulk CSV of any size, streamed: checked, then issued in batches, resumable without issuing twice.

1. The file's SHA-256 names the run. The store says how many of its batches it holds (Store.bulk_progress):
   none, a new run; some, an interrupted run, taken up where it stopped, with its journal (issuer.bulk.journal).
2. The check pass (skipped when resuming: it was done): every row read and judged in chunks, the earlier rows'
   numbers and holders in the journal; the bad rows to the Rejects, their numbers to the journal. Any bad row
   and no ``skip_bad``: nothing is issued.
3. The issue pass: batches of ``batch_rows`` data rows (bad rows left out). For each batch: the rows made
   ready (codes and PINs, rules checked again against the store, where the earlier batches now are), then
   written by the Outputs (the only copy of the PINs, flushed), their sizes to the journal, then the batch
   stored in one atomic step that also counts it (Store.insert_registrations with a BulkStep): stored only as
   the run's next batch. A kill anywhere leaves either the batch stored and counted, or neither; the rerun
   cuts the outputs back to the sizes after the last stored batch and goes on from the next.
4. The outputs put in place, the run's count dropped from the store, the journal removed.
Memory: one chunk of rows, one batch, and the journal's page cache; never the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from credential.errors import EpermitError
from issuer.bulk.fields import ReadPortrait, row_permit, with_portrait
from issuer.bulk.issuing import PreparedBatch, commit_batch, prepare_rows
from issuer.bulk.journal import Journal, journal_path
from issuer.bulk.report import BulkReport, Outputs, Rejects
from issuer.bulk.rows import CsvRow, CsvStream
from issuer.bulk.validation import BATCH_ROWS, BadRow, Checker, GoodRow, HolderRules
from issuer.desk import OfficerDesk
from issuer.errors import IssuerError, StateConflictError
from issuer.model import Officer
from issuer.store import BulkStep

DEFAULT_BATCH_ROWS = 1000  # rows per stored batch: one transaction / one Redis script each
Count = Callable[[int], None]  # rows done, for a progress bar


class BulkResumeError(IssuerError):
    """An interrupted run cannot be taken up as asked (its journal is gone, or the outputs differ)."""


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def stream_rows(path: Path) -> Iterator[CsvRow]:
    with path.open("rb") as data:
        yield from CsvStream(data)


def count_rows(path: Path) -> int:
    return sum(1 for _ in stream_rows(path))


@dataclass(frozen=True)
class BulkJob:
    desk: OfficerDesk
    clerk: Officer
    officer: Officer
    csv: Path
    skip_bad: bool = False
    batch_rows: int = DEFAULT_BATCH_ROWS
    read_portrait: ReadPortrait | None = None
    outputs_named: str = ""  # which output files the run writes (a resumed run must write the same ones)

    def run(self, outputs: Outputs, rejects: Rejects, *, checked: Count | None = None,
            issuing: Count | None = None, issued: Count | None = None) -> BulkReport:
        """The run (module docstring). ``checked``: rows checked so far (a chunk's count at a time);
        ``issuing``: called once with the good rows there are; ``issued``: rows issued (a batch's at a time)."""
        store = self.desk.service.store
        bulk_id = file_digest(self.csv)
        progress = store.bulk_progress(bulk_id)
        done = progress.batches
        journal = Journal(journal_path(self.csv))
        try:
            meta = journal.meta()
            if progress.run:
                if not meta:  # opened just now: nothing to keep
                    journal.remove()
                if meta.get("bulk_id") != bulk_id or meta.get("run") != progress.run or meta.get("checked") != "1":
                    raise BulkResumeError(f"{done} batch(es) of this file are issued by a run whose journal is not "
                                          f"{journal.path} (another copy of the file, or the journal is gone): "
                                          "this run cannot take it up (finish that run where it started)")
                if meta.get("outputs") != self.outputs_named:
                    raise BulkResumeError("resume with the same --sheet and --sms-csv as the "
                                          f"interrupted run ({meta.get('outputs') or 'none'})")
            else:
                self._unfinished_elsewhere(meta, bulk_id)
                journal.start({"bulk_id": bulk_id, "run": secrets.token_hex(16), "checked": "0",
                               "batch_rows": str(max(1, self.batch_rows)), "outputs": self.outputs_named})
                try:
                    meta = self._check(journal, rejects, checked)
                except BaseException:  # an unusable file, a store failure: nothing stored, nothing to resume
                    journal.remove()
                    raise
            rows, bad = int(meta["rows"]), int(meta["bad"])
            if bad and not self.skip_bad and not progress.run:  # (a resumed run goes on as it was started)
                journal.remove()
                return BulkReport(rows, bad, 0, stopped=True)
            if issuing is not None:
                issuing(rows - bad)
            return self._issue(journal, BulkStep(bulk_id, done, meta["run"]), int(meta["batch_rows"]), rows, bad,
                               outputs, issued)
        finally:
            journal.close()

    def _unfinished_elsewhere(self, meta: dict[str, str], bulk_id: str) -> None:
        """Refuse to start over a journal whose run (of this file as it was) is interrupted, not finished: its
        partial files hold the PINs of offers it stored, and a new run would overwrite them."""
        earlier = meta.get("bulk_id", "")
        if earlier and earlier != bulk_id:
            progress = self.desk.service.store.bulk_progress(earlier)
            if progress.run and progress.run == meta.get("run"):
                raise BulkResumeError(f"{self.csv} changed after its run was interrupted with {progress.batches} "
                                      "batch(es) issued: put the file back as it was and run the same command to "
                                      "finish that run (its sheet and SMS files hold those PINs)")

    def _check(self, journal: Journal, rejects: Rejects, count: Count | None) -> dict[str, str]:
        service = self.desk.service
        checker = Checker(self.desk, self.clerk, service.clock(), self.officer, self.read_portrait)
        rules = HolderRules(service, journal.earlier())
        rows = bad = 0
        chunk: list[CsvRow] = []

        def judge() -> None:
            nonlocal bad
            bad_indices = []
            for row, judged in zip(chunk, checker.chunk(chunk, rules), strict=True):
                if isinstance(judged, BadRow):
                    rejects.write(judged)
                    bad_indices.append(row.index)
            journal.add_bad(bad_indices)
            bad += len(bad_indices)
            if count is not None:
                count(len(chunk))
            chunk.clear()

        for row in stream_rows(self.csv):
            rows += 1
            chunk.append(row)
            if len(chunk) == BATCH_ROWS:
                judge()
        judge()
        rules.load([])  # the last chunk's rows written out
        rejects.finish()
        journal.set_meta({"rows": str(rows), "bad": str(bad), "checked": "1"})
        return journal.meta()

    def _issue(self, journal: Journal, start: BulkStep, size: int, rows: int, bad: int, outputs: Outputs,
               count: Count | None) -> BulkReport:
        """The batches from ``start.batch`` on (those before are stored)."""
        service = self.desk.service
        done = start.batch
        sizes = journal.sizes_after(done - 1) if done else None
        if done and sizes is None:
            raise BulkResumeError(f"the journal {journal.path} lacks batch {done - 1}: cannot resume")
        issued = before = 0
        try:
            outputs.open(sizes)
            for batch, chunk in self._batches(size):
                bad_rows = journal.bad_between(batch * size, batch * size + size - 1)
                if batch < done:  # stored by the interrupted run
                    before += len(chunk) - len(bad_rows)
                    continue
                good = self._good(chunk, bad_rows)
                try:
                    prepared = PreparedBatch.of(prepare_rows(self.desk, good, clerk=self.clerk, officer=self.officer))
                except StateConflictError as exc:
                    raise StateConflictError(f"{exc.args[0].split(':')[0]} no longer passes the checks it passed "
                                             f"(the registry changed meanwhile): batch {batch} and the rest not "
                                             f"issued; {batch} batch(es) before it are") from exc
                journal.record_batch(batch, outputs.write(prepared.issued))  # the PINs' only copy first
                commit_batch(service, prepared, step=dataclasses.replace(start, batch=batch))
                issued += len(good)
                if count is not None:
                    count(len(good))
        except BaseException:
            if service.store.bulk_progress(start.bulk_id).run != start.run:  # nothing stored: a rerun starts clean
                outputs.discard()
                journal.remove()
            raise
        outputs.finish()
        service.store.end_bulk(start.bulk_id)
        journal.remove()
        return BulkReport(rows, bad, issued, done * size if done else None, before)

    def _batches(self, size: int) -> Iterator[tuple[int, list[CsvRow]]]:
        """The file read again, a batch of data rows at a time (data rows batch*size onwards)."""
        batch, chunk = 0, list[CsvRow]()
        for row in stream_rows(self.csv):
            if row.index // size != batch:
                yield batch, chunk
                batch, chunk = row.index // size, []
            chunk.append(row)
        if chunk:
            yield batch, chunk

    def _good(self, rows: list[CsvRow], bad: set[int]) -> list[GoodRow]:
        good = []
        for row in rows:
            if row.index in bad:
                continue
            try:
                permit, phone = row_permit(row)
                permit, portrait = with_portrait(permit, row, self.read_portrait)
            except EpermitError as exc:  # the file checked good a moment ago: it changed under the run
                raise StateConflictError(f"line {row.line} no longer reads as it did when checked: {exc}") from exc
            good.append(GoodRow(row.line, permit, phone, portrait))
        return good
