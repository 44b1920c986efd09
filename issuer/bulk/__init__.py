"""Bulk issuance from a CSV file: check every row, then register and offer each good row.

The parts, one concept each, so that they can be measured and tested alone:
- ``rows``: reading the file, whole (``read_table``, capped: an upload) or streamed (``CsvStream``, any size);
- ``fields``: one row as a permit, a phone and a photo;
- ``validation``: every row judged (the claim model, the clerk's and the issuing officer's role and district,
  the bureau's rules, no document number twice), nothing stored;
- ``issuing``: good rows registered and offered, row by row through OfficerDesk or many per store step,
  prepared (PINs in memory) then committed whole;
- ``journal`` and ``run``: a file on disk streamed in batches, each stored in one atomic step that the store
  counts, so that a run killed anywhere is taken up by running the same command again, nothing issued twice;
- ``report``: what a run hands its rows to (the rejected rows, the PIN outputs) and what it says at the end.
"""

from __future__ import annotations

from issuer.bulk.fields import MAX_FIELD, mainland_mobile, row_permit, with_portrait
from issuer.bulk.issuing import (
    IssuedRow,
    PreparedBatch,
    commit_batch,
    issue_batch,
    issue_row,
    issue_rows,
    prepare_batch,
    prepare_rows,
)
from issuer.bulk.report import BulkReport, Outputs, Rejects
from issuer.bulk.rows import (
    MAX_CSV_BYTES,
    MAX_ROW_CHARS,
    MAX_ROWS,
    PHONE,
    REJECTION_COLUMNS,
    BulkFileError,
    CsvRow,
    CsvStream,
    CsvTable,
    read_rows,
    read_table,
)
from issuer.bulk.run import DEFAULT_BATCH_ROWS, BulkJob, BulkResumeError, count_rows
from issuer.bulk.validation import BATCH_ROWS, BadRow, GoodRow, HolderRules, Tick, validate_rows

__all__ = [
    "BATCH_ROWS", "DEFAULT_BATCH_ROWS", "MAX_CSV_BYTES", "MAX_FIELD", "MAX_ROWS", "MAX_ROW_CHARS", "PHONE",
    "REJECTION_COLUMNS", "BadRow", "BulkFileError", "BulkJob", "BulkReport", "BulkResumeError", "CsvRow",
    "CsvStream", "CsvTable", "GoodRow", "HolderRules", "IssuedRow", "Outputs", "PreparedBatch", "Rejects", "Tick",
    "commit_batch", "count_rows", "issue_batch", "issue_row", "issue_rows", "mainland_mobile", "prepare_batch",
    "prepare_rows", "read_rows", "read_table", "row_permit", "validate_rows", "with_portrait",
]
