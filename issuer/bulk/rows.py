"""Reading a bulk CSV: the header's columns, then the rows with their line numbers, from bytes or a stream.

``read_table`` takes a whole file in memory (the caps bound it: an upload, a test); ``CsvStream`` reads a
file on disk a row at a time, so that a file of any size costs the memory of one row. A single row (a huge
line, or a quote never closed) is capped at MAX_ROW_CHARS, since a stream with no line end would otherwise be
read whole into one field. Blank rows are skipped; every other row is a data row, numbered from 0 in file
order (``index``): the batches of issuer.bulk.run are ranges of these numbers.
A file of rejected rows (epermit.cli.rejected) can be read back as it is: its ``line``, ``reason_zh`` and
``reason_en`` columns are ignored, and so is the apostrophe it puts before a leading = + - @ (the
spreadsheet's mark for "text, not a formula", as a spreadsheet itself drops it on saving).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from credential.errors import InvalidApplicationError
from credential.model import APPLICATION_FIELDS
from issuer.portrait.folder import PORTRAIT_COLUMN

MAX_CSV_BYTES = 8 * 1024 * 1024  # read_table only (a file in memory); CsvStream has no file cap
MAX_ROWS = 20_000
MAX_ROW_CHARS = 64 * 1024  # one row: every field at its cap (issuer.bulk.fields.MAX_FIELD) fits many times over
PHONE = "phone"
# The columns a file of rejected rows adds (epermit.cli.rejected): ignored when it is read back.
REJECTION_COLUMNS = ("line", "reason_zh", "reason_en")
FORMULA_MARK = re.compile(r"'(?=[=+\-@])")  # the apostrophe that neutralises a spreadsheet formula
EXTRA = "__extra__"  # a row with more or fewer fields than the header (the row's error, not the file's)


class BulkFileError(InvalidApplicationError):
    """The file as a whole is unusable (too large, not UTF-8, no header, unknown columns, a runaway row)."""

    def __init__(self, reason: str) -> None:
        super().__init__("csv", reason)


@dataclass(frozen=True)
class CsvRow:
    line: int  # the file's line number where the row starts (the header is line 1)
    fields: dict[str, str]
    index: int = 0  # the data row's number in the file, from 0 (blank rows not counted)


@dataclass(frozen=True)
class CsvTable:
    header: tuple[str, ...]  # the application columns, in the file's order (rejection columns left out)
    rows: list[CsvRow]


class _Lines:
    """The text's lines for csv.reader, none longer than the budget a row has left (``new_row`` refills it)."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._left = MAX_ROW_CHARS

    def new_row(self) -> None:
        self._left = MAX_ROW_CHARS

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self._text.readline(self._left + 1)  # never more than the budget in memory
        if not line:
            raise StopIteration
        self._left -= len(line)
        if self._left < 0:
            raise BulkFileError(f"a row longer than {MAX_ROW_CHARS} characters (a quote not closed?)")
        return line


class CsvStream:
    """The header, then the rows of a UTF-8 CSV stream, read incrementally (BulkFileError on a bad file)."""

    def __init__(self, binary: IO[bytes]) -> None:
        self._lines = _Lines(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""))
        self._reader = csv.reader(self._lines, strict=True)
        try:
            header = [h.strip() for h in next(self._reader)]
        except StopIteration:
            raise BulkFileError("empty file: no header") from None
        except (csv.Error, UnicodeDecodeError, BulkFileError) as exc:
            raise _file_error(exc, 1) from exc
        known = set(APPLICATION_FIELDS) | {PHONE, PORTRAIT_COLUMN} | set(REJECTION_COLUMNS)
        unknown = [h for h in header if h not in known]
        if unknown or len(set(header)) != len(header):
            raise BulkFileError(f"unknown or repeated columns: {unknown or header}")
        self._header = header
        self.header = tuple(h for h in header if h not in REJECTION_COLUMNS)

    def __iter__(self) -> Iterator[CsvRow]:
        header, reader = self._header, self._reader
        line, index = reader.line_num + 1, 0
        while True:
            self._lines.new_row()
            try:
                values = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError, BulkFileError) as exc:
                raise _file_error(exc, line) from exc
            if any(v.strip() for v in values):
                fields = {h: FORMULA_MARK.sub("", v, count=1) if v.startswith("'") else v
                          for h, v in zip(header, values, strict=False) if h not in REJECTION_COLUMNS}
                yield CsvRow(line, fields | ({EXTRA: "1"} if len(values) != len(header) else {}), index)
                index += 1
            line = reader.line_num + 1


def _file_error(exc: Exception, line: int) -> BulkFileError:
    if isinstance(exc, BulkFileError):
        return BulkFileError(f"line {line}: {exc.args[0].removeprefix('csv: ')}")
    if isinstance(exc, UnicodeDecodeError):
        return BulkFileError(f"line {line}: not UTF-8")
    return BulkFileError(f"line {line}: {exc}")


def read_table(data: bytes) -> CsvTable:
    """A whole file in memory, within MAX_CSV_BYTES and MAX_ROWS."""
    if len(data) > MAX_CSV_BYTES:
        raise BulkFileError(f"larger than {MAX_CSV_BYTES} bytes")
    stream = CsvStream(io.BytesIO(data))
    rows: list[CsvRow] = []
    for row in stream:
        if len(rows) >= MAX_ROWS:
            raise BulkFileError(f"more than {MAX_ROWS} rows")
        rows.append(row)
    return CsvTable(stream.header, rows)


def read_rows(data: bytes) -> list[CsvRow]:
    return read_table(data).rows
