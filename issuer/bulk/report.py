"""What a streamed bulk run hands its rows to, and what it says when it is done.

The run (issuer.bulk.run) knows no file format: the rejected rows go to a ``Rejects`` as the check finds
them, the issued rows of each batch to ``Outputs`` (the PIN sheet, the SMS file: epermit.cli.outputs), which
writes them durably *before* the batch is stored and says how large its files then are, so that a resumed
run can cut them back to the last batch the store holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from issuer.bulk.issuing import IssuedRow
from issuer.bulk.validation import BadRow


class Rejects(Protocol):
    def write(self, bad: BadRow) -> None: ...

    def finish(self) -> None:
        """The check is over: the rejected rows (if any) put in place."""


class Outputs(Protocol):
    def open(self, sizes: Mapping[str, int] | None) -> None:
        """Start the files (``None``) or take up those of an interrupted run, cut back to ``sizes``."""

    def write(self, issued: Sequence[IssuedRow]) -> dict[str, int]:
        """Append one batch's rows, flushed to disk; the files' sizes after it."""

    def finish(self) -> None:
        """Every batch is stored: the files completed and put in place (done already: nothing to do)."""

    def discard(self) -> None:
        """Nothing was stored: the files removed."""


@dataclass(frozen=True)
class BulkReport:
    rows: int  # data rows in the file
    bad: int  # rows the check rejected
    issued: int  # rows issued by this run
    resumed_at: int | None = None  # the first data row this run issued, if an earlier run had stored batches
    issued_before: int = 0  # rows the interrupted runs had stored
    stopped: bool = False  # bad rows and no --skip-bad: nothing issued
