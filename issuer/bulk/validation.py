"""Checking rows before anything is stored: every row as the desk and the bureau's rules would judge it.

Per row: the claim model (issuer.bulk.fields), the clerk's role and district (and the issuing officer's),
the bureau's rules against the holder's records, and no document number twice in the file. The holders'
stored records are read once per chunk of rows (Store.records_of_holders); the rows checked earlier in the
same file, not stored yet, count as records too (``EarlierRows``: in memory here, in the run's journal on
disk for a streamed file, issuer.bulk.journal). Nothing is changed, except that a denial of a district is
audited, as always.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from credential.errors import EpermitError, InvalidApplicationError
from credential.model import Permit
from issuer.bulk.fields import ReadPortrait, row_permit, with_portrait
from issuer.bulk.rows import CsvRow
from issuer.desk import OfficerDesk
from issuer.model import Officer, Record, RecordState
from issuer.rules import beijing_day, check_application
from issuer.service import IssuerService

BATCH_ROWS = 250  # rows per store read or write: a Redis script this size runs a few ms
Tick = Callable[[], None]  # one step of a progress bar


@dataclass(frozen=True)
class GoodRow:
    line: int
    permit: Permit
    phone: str
    portrait: bytes | None = None  # the portrait file made from the row's photo (its digest is in the permit)


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str
    fields: dict[str, str] = field(default_factory=dict, compare=False)  # as read, for the rejected-rows file
    cause: EpermitError | None = field(default=None, compare=False)  # what refused it, for words (zh, en)


class EarlierRows(Protocol):
    """The rows of the file judged good before the ones being checked, not stored yet."""

    def load(self, permits: Sequence[Permit]) -> None:
        """Make has_number and records answer for these permits (the next chunk's)."""

    def has_number(self, number: str) -> bool: ...

    def records(self, permit: Permit) -> list[Record]:
        """The earlier rows of ``permit``'s holder as records (the rules read their type and validity)."""

    def add(self, record: Record) -> None: ...


class MemoryEarlier:
    """EarlierRows for rows that fit in memory (a batch, an upload)."""

    def __init__(self) -> None:
        self._numbers: set[str] = set()
        self._holders: dict[str, list[Record]] = {}

    def load(self, permits: Sequence[Permit]) -> None:
        pass

    def has_number(self, number: str) -> bool:
        return number in self._numbers

    def records(self, permit: Permit) -> list[Record]:
        return self._holders.get(permit.holder.citizen_id, [])

    def add(self, record: Record) -> None:
        self._numbers.add(record.permit.document_number)
        self._holders.setdefault(record.permit.holder.citizen_id, []).append(record)


class HolderRules:
    """The bureau's rules for many rows: the holders' stored records read once per chunk of rows, plus the
    records of earlier rows not yet stored (``add``)."""

    def __init__(self, service: IssuerService, earlier: EarlierRows | None = None) -> None:
        self._service = service
        self._stored: dict[str, list[Record]] = {}
        self.earlier = earlier or MemoryEarlier()

    def load(self, permits: Iterable[Permit]) -> None:
        chunk = list(permits)
        self._stored = self._service.store.records_of_holders([p.holder.citizen_id for p in chunk])
        self.earlier.load(chunk)

    def check(self, permit: Permit) -> None:
        """BureauRuleError as IssuerService.check_application (the permit's holder must have been loaded)."""
        self._service.check_authority(permit)
        records = [*self._stored.get(permit.holder.citizen_id, ()), *self.earlier.records(permit)]
        check_application(permit, records, today=beijing_day(self._service.clock()), settings=self._service.settings,
                          override=False)

    def add(self, record: Record) -> None:
        self.earlier.add(record)


def _parsed(row: CsvRow) -> tuple[Permit, str] | EpermitError:
    try:
        return row_permit(row)
    except EpermitError as exc:
        return exc


@dataclass(frozen=True)
class Checker:
    """Who registers and offers, and how a row's photo is read: what checking a row needs besides the row."""

    desk: OfficerDesk
    clerk: Officer
    now: int
    officer: Officer | None = None  # the issuing officer who will make the offers, checked too
    read_portrait: ReadPortrait | None = None

    def chunk(self, rows: Sequence[CsvRow], rules: HolderRules) -> Iterator[GoodRow | BadRow]:
        """Each row judged, in order; a good row counts as an earlier row for the ones after it."""
        parsed = [_parsed(row) for row in rows]
        rules.load(p[0] for p in parsed if not isinstance(p, EpermitError))
        for row, result in zip(rows, parsed, strict=True):
            try:
                if isinstance(result, EpermitError):
                    raise result
                permit, phone = result
                permit, portrait = with_portrait(permit, row, self.read_portrait)
                if rules.earlier.has_number(permit.document_number):
                    raise InvalidApplicationError("document_number", "repeats an earlier row")
                self.desk.allow_register(self.clerk, permit, override=False)
                if self.officer is not None:
                    self.desk.allow_offer(self.officer, permit)
                rules.check(permit)
            except InvalidApplicationError as exc:
                yield BadRow(row.line, str(exc), row.fields, exc)
                continue
            except EpermitError as exc:
                yield BadRow(row.line, f"{getattr(exc, 'error', 'invalid')}: {exc}", row.fields, exc)
                continue
            rules.add(Record(f"line-{row.line}", permit, RecordState.ACTIVE, self.now, self.now))
            yield GoodRow(row.line, permit, phone, portrait)


def validate_rows(
    rows: Sequence[CsvRow], desk: OfficerDesk, *, clerk: Officer, now: int, officer: Officer | None = None,
    tick: Tick | None = None, read_portrait: ReadPortrait | None = None,
) -> tuple[list[GoodRow], list[BadRow]]:
    """Every row checked, nothing changed (denials of a district are audited, as always). ``officer``: the
    issuing officer who will make the offers, checked too (role and district). ``tick``: called per row.
    ``read_portrait``: the bytes of a photo the ``portrait`` column names (issuer.portrait.folder)."""
    checker = Checker(desk, clerk, now, officer, read_portrait)
    rules = HolderRules(desk.service)
    good: list[GoodRow] = []
    bad: list[BadRow] = []
    for start in range(0, len(rows), BATCH_ROWS):
        for judged in checker.chunk(rows[start:start + BATCH_ROWS], rules):
            if tick is not None:
                tick()
            if isinstance(judged, GoodRow):
                good.append(judged)
            else:
                bad.append(judged)
    return good, bad
