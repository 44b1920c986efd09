"""Bulk issuance from a CSV file: validate every row first, then register and offer each good row.

The parts are functions so that they can be measured and tested alone:
``read_rows`` (bounded, UTF-8) -> ``validate_rows`` (every row: the claim model, the clerk's role and
district (and the issuing officer's), the bureau's rules, duplicates in the file; the holders' records read
once per chunk) -> ``issue_row`` per good row (OfficerDesk: register by the clerk, offer by the issuing
officer — the same checks and audit entries as the HTTP API), or ``issue_batch`` (the same, many rows per
store step), or ``prepare_batch`` + ``commit_batch`` (what `epermit issue` uses: every row made ready in
memory, codes and PINs included, so that the caller writes the only copy of the PINs before anything is
stored; then the whole batch in one store step, all or nothing).
Columns: the application fields of credential.model.Permit.to_dict (``portrait_sha256`` may be empty)
and an optional ``phone`` for the SMS gateway file: a mainland mobile number (11 digits from 13 to 19,
spaces and hyphens allowed, an optional +86 or 86 in front), kept as its 11 digits.
A file of rejected rows (epermit.cli.rejected) can be read back as it is: its ``line``, ``reason_zh`` and
``reason_en`` columns are ignored here, and so is the apostrophe it puts before a leading = + - @ (the
spreadsheet's mark for "text, not a formula", as a spreadsheet itself drops it on saving).
An optional ``portrait`` column names a photo file for the row (issuer.portrait.folder), made into the
portrait at validation and kept sealed with the record.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from credential.errors import EpermitError, InvalidApplicationError
from credential.model import APPLICATION_FIELDS, CredentialType, Permit
from issuer.desk import OfficerDesk
from issuer.errors import StateConflictError
from issuer.model import Action, Offer, Officer, Record, RecordState
from issuer.pickup import Pickup
from issuer.portrait.capture import PortraitRejectedError, make_portrait
from issuer.portrait.folder import PORTRAIT_COLUMN
from issuer.rules import beijing_day, check_application
from issuer.service import IssuerService
from issuer.store import Registration

MAX_CSV_BYTES = 8 * 1024 * 1024
MAX_ROWS = 20_000
MAX_FIELD = 400
BATCH_ROWS = 250  # rows per store read or write (issuer.bulk_batch): a Redis script this size runs a few ms
INT_FIELDS = ("sex", "ethnicity")
PHONE = "phone"
# The columns a file of rejected rows adds (epermit.cli.rejected): ignored when it is read back.
REJECTION_COLUMNS = ("line", "reason_zh", "reason_en")
MAINLAND_MOBILE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
FORMULA_MARK = re.compile(r"'(?=[=+\-@])")  # the apostrophe that neutralises a spreadsheet formula
Tick = Callable[[], None]  # one step of a progress bar


class BulkFileError(InvalidApplicationError):
    """The file as a whole is unusable (too large, not UTF-8, no header, unknown columns)."""

    def __init__(self, reason: str) -> None:
        super().__init__("csv", reason)


@dataclass(frozen=True)
class CsvRow:
    line: int  # the file's line number where the row starts (the header is line 1)
    fields: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    header: tuple[str, ...]  # the application columns, in the file's order (rejection columns left out)
    rows: list[CsvRow]


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


@dataclass(frozen=True)
class IssuedRow:
    line: int
    record_id: str
    offer: Offer
    phone: str
    name: str  # for the printed sheet the officer hands out; never written to the audit trail
    document_number: str  # tells two residents of the same name apart on the sheet
    credential_type: CredentialType  # the sheet's title and tiles name it
    citizen_id_last4: str  # with the document number: two 王敏 told apart, and a PIN slip matched to its tile

    @classmethod
    def of(cls, row: GoodRow, record_id: str, offer: Offer) -> IssuedRow:
        permit = row.permit
        return cls(row.line, record_id, offer, row.phone, permit.holder.name, permit.document_number,
                   permit.type, permit.holder.citizen_id[-4:])


def read_rows(data: bytes) -> list[CsvRow]:
    return read_table(data).rows


def read_table(data: bytes) -> CsvTable:
    if len(data) > MAX_CSV_BYTES:
        raise BulkFileError(f"larger than {MAX_CSV_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BulkFileError("not UTF-8") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        known = set(APPLICATION_FIELDS) | {PHONE, PORTRAIT_COLUMN} | set(REJECTION_COLUMNS)
        unknown = [h for h in header if h not in known]
        if unknown or len(set(header)) != len(header):
            raise BulkFileError(f"unknown or repeated columns: {unknown or header}")
        rows: list[CsvRow] = []
        line = reader.line_num + 1
        for values in reader:
            if len(rows) >= MAX_ROWS:
                raise BulkFileError(f"more than {MAX_ROWS} rows")
            if any(v.strip() for v in values):
                fields = {h: FORMULA_MARK.sub("", v, count=1) if v.startswith("'") else v
                          for h, v in zip(header, values, strict=False) if h not in REJECTION_COLUMNS}
                rows.append(CsvRow(line, fields | ({"__extra__": "1"} if len(values) != len(header) else {})))
            line = reader.line_num + 1
    except StopIteration:
        raise BulkFileError("empty file: no header") from None
    except csv.Error as exc:
        raise BulkFileError(f"line {reader.line_num}: {exc}") from exc
    return CsvTable(tuple(h for h in header if h not in REJECTION_COLUMNS), rows)


def mainland_mobile(text: str) -> str:
    """``text`` as the 11 digits of a mainland mobile number (spaces, hyphens and +86 / 86 dropped); an
    empty text stays empty (no phone on file). InvalidApplicationError for anything else."""
    compact = text.replace(" ", "").replace("-", "")
    if not compact:
        return ""
    found = MAINLAND_MOBILE.fullmatch(compact) if compact.isascii() else None
    if found is None:
        raise InvalidApplicationError(PHONE, "not a mainland mobile number (11 digits from 13 to 19, "
                                             "optionally after +86)")
    return found.group(1)


def row_permit(row: CsvRow) -> tuple[Permit, str]:
    if "__extra__" in row.fields:
        raise InvalidApplicationError("csv", "the row has a different number of fields than the header")
    fields: dict[str, object] = {}
    for key, value in row.fields.items():
        if len(value) > MAX_FIELD:
            raise InvalidApplicationError(key, f"longer than {MAX_FIELD} characters")
        fields[key] = value.strip()
    phone = mainland_mobile(str(fields.pop(PHONE, "")))
    fields.pop(PORTRAIT_COLUMN, None)  # the photo: read_portrait in validate_rows
    for key in INT_FIELDS:
        text = str(fields.get(key, ""))
        if text.isascii() and text.isdigit() and len(text) <= 3:
            fields[key] = int(text)
    if fields.get("portrait_sha256") == "":
        fields["portrait_sha256"] = None
    return Permit.from_dict(fields), phone


class HolderRules:
    """The bureau's rules for many rows: the holders' stored records read once per chunk of rows
    (Store.records_of_holders), plus the records of earlier rows not yet stored (``add``)."""

    def __init__(self, service: IssuerService) -> None:
        self._service = service
        self._stored: dict[str, list[Record]] = {}
        self._pending: dict[str, list[Record]] = {}

    def load(self, permits: Iterable[Permit]) -> None:
        self._stored = self._service.store.records_of_holders([p.holder.citizen_id for p in permits])

    def check(self, permit: Permit) -> None:
        """BureauRuleError as IssuerService.check_application (the permit's holder must have been loaded)."""
        holder = permit.holder.citizen_id
        self._service.check_authority(permit)
        check_application(permit, [*self._stored.get(holder, ()), *self._pending.get(holder, ())],
                          today=beijing_day(self._service.clock()), settings=self._service.settings, override=False)

    def add(self, record: Record) -> None:
        self._pending.setdefault(record.permit.holder.citizen_id, []).append(record)


def _parsed(row: CsvRow) -> tuple[Permit, str] | EpermitError:
    try:
        return row_permit(row)
    except EpermitError as exc:
        return exc


def with_portrait(permit: Permit, row: CsvRow, read_portrait: Callable[[str], bytes] | None) -> tuple[Permit, bytes | None]:
    """The permit with the digest of the portrait its row's photo gives, and that portrait (None: no photo)."""
    name = row.fields.get(PORTRAIT_COLUMN, "").strip()
    if not name:
        return permit, None
    if read_portrait is None:
        raise InvalidApplicationError(PORTRAIT_COLUMN, "photo files are read only from a CSV file on disk")
    if permit.holder.portrait_sha256 is not None:
        raise InvalidApplicationError(PORTRAIT_COLUMN, "give a photo or a portrait_sha256, not both")
    try:
        portrait = make_portrait(read_portrait(name))
    except PortraitRejectedError as exc:
        raise InvalidApplicationError(PORTRAIT_COLUMN, f"{name}: {exc}") from exc
    holder = dataclasses.replace(permit.holder, portrait_sha256=hashlib.sha256(portrait).digest())
    return dataclasses.replace(permit, holder=holder), portrait


def validate_rows(
    rows: Sequence[CsvRow], desk: OfficerDesk, *, clerk: Officer, now: int, officer: Officer | None = None,
    tick: Tick | None = None, read_portrait: Callable[[str], bytes] | None = None,
) -> tuple[list[GoodRow], list[BadRow]]:
    """Every row checked, nothing changed (denials of a district are audited, as always). ``officer``: the
    issuing officer who will make the offers, checked too (role and district). ``tick``: called per row.
    ``read_portrait``: the bytes of a photo the ``portrait`` column names (issuer.portrait.folder)."""
    good: list[GoodRow] = []
    bad: list[BadRow] = []
    rules = HolderRules(desk.service)
    numbers: set[str] = set()
    for start in range(0, len(rows), BATCH_ROWS):
        chunk = rows[start:start + BATCH_ROWS]
        parsed = [_parsed(row) for row in chunk]
        rules.load(p[0] for p in parsed if not isinstance(p, EpermitError))
        for row, result in zip(chunk, parsed, strict=True):
            if tick is not None:
                tick()
            try:
                if isinstance(result, EpermitError):
                    raise result
                permit, phone = result
                permit, portrait = with_portrait(permit, row, read_portrait)
                if permit.document_number in numbers:
                    raise InvalidApplicationError("document_number", "repeats an earlier row")
                desk.allow_register(clerk, permit, override=False)
                if officer is not None:
                    desk.allow_offer(officer, permit)
                rules.check(permit)
            except InvalidApplicationError as exc:
                bad.append(BadRow(row.line, str(exc), row.fields, exc))
                continue
            except EpermitError as exc:
                bad.append(BadRow(row.line, f"{getattr(exc, 'error', 'invalid')}: {exc}", row.fields, exc))
                continue
            numbers.add(permit.document_number)
            rules.add(Record(f"line-{row.line}", permit, RecordState.ACTIVE, now, now))
            good.append(GoodRow(row.line, permit, phone, portrait))
    return good, bad


def issue_row(desk: OfficerDesk, row: GoodRow, *, clerk: Officer, officer: Officer) -> IssuedRow:
    record = desk.register(clerk, row.permit)
    if row.portrait is not None:  # the permit names its digest already: keep the bytes (the clerk's action)
        desk.service.keep_portrait(record.id, row.portrait, officer=clerk.id)
    offer = desk.create_offer(officer, record.id)
    return IssuedRow.of(row, record.id, offer)


def issue_rows(
    desk: OfficerDesk, rows: Sequence[GoodRow], *, clerk: Officer, officer: Officer
) -> Iterator[IssuedRow]:
    for row in rows:
        yield issue_row(desk, row, clerk=clerk, officer=officer)


# Batches: many rows per store step ------------------------------------------------------------------
#
# Bulk issuance in batches: the rows of issuer.bulk written many per store step.
#
# Row by row (``issuer.bulk.issue_rows``, as the HTTP API does it) every row costs four durable writes (record,
# its audit entry, offer, its audit entry: four fsyncs) and a handful of reads. Here a chunk of rows is one
# ``Store.insert_registrations`` call (one SQLite transaction, one Redis script: one fsync) and the holders'
# records are read once per chunk, while each row gets exactly what the row path gives it: the desk's role
# and district checks, the bureau's rules (again, in case the store changed since validation), a record, a
# pickup offer (random code and PIN, stored hashed) and the two audit entries. Each row is whole or absent.
# A row that would not pass straight through goes the row path after the rows before it are written, so it
# is audited and raises exactly as there.


def issue_batch(
    desk: OfficerDesk, rows: Sequence[GoodRow], *, clerk: Officer, officer: Officer, chunk: int = BATCH_ROWS
) -> Iterator[IssuedRow]:
    """What issuer.bulk.issue_rows does, ``chunk`` rows per store step (the rows in order)."""
    size = max(1, chunk)
    for start in range(0, len(rows), size):
        yield from _issue_chunk(desk, rows[start:start + size], clerk=clerk, officer=officer)


def _passes(rules: HolderRules, permit: Permit, clerk: Officer, officer: Officer) -> bool:
    """The checks of OfficerDesk.register + create_offer, with no side effect (a failure goes to issue_row)."""
    if not (clerk.may(Action.REGISTER) and clerk.covers(permit.district)
            and officer.may(Action.CREATE_OFFER) and officer.covers(permit.district)):
        return False
    try:
        rules.check(permit)
    except EpermitError:
        return False
    return True


def _ready(pickup: Pickup, service: IssuerService, row: GoodRow, *, clerk: Officer,
           officer: Officer) -> tuple[Registration, IssuedRow]:
    """One good row as the store will write it (record, offer, the two audit entries) and as the officer
    hands it out (the offer with its code and PIN)."""
    now = service.clock()
    record = Record(secrets.token_urlsafe(16), row.permit, RecordState.ACTIVE, now, now)
    offer, stored = pickup.new_offer(record)
    audit = [service.audit.entry(officer=clerk.id, action="register", record_id=record.id, reason=row.permit.type.slug)]
    if row.portrait is not None:
        audit.append(service.audit.entry(officer=clerk.id, action=Action.SET_PORTRAIT.value, record_id=record.id,
                                         reason=f"{len(row.portrait)} bytes, sha256 {hashlib.sha256(row.portrait).hexdigest()[:16]}"))
    audit.append(service.audit.entry(officer=officer.id, action="create_offer", record_id=record.id,
                                     reason=f"offer {offer.ref}"))
    sealed = None if row.portrait is None else service.portraits.seal(record.id, row.portrait)
    registration = Registration(record, stored, tuple(audit), sealed)
    return registration, IssuedRow.of(row, record.id, offer)


def _issue_chunk(desk: OfficerDesk, rows: Sequence[GoodRow], *, clerk: Officer, officer: Officer) -> list[IssuedRow]:
    service = desk.service
    pickup = Pickup(service.store, service.settings, service.clock, service.audit, service.keyed)
    rules = HolderRules(service)
    rules.load(row.permit for row in rows)
    batch: list[Registration] = []
    issued: list[IssuedRow] = []
    for row in rows:
        if not _passes(rules, row.permit, clerk, officer):
            if batch:
                service.store.insert_registrations(batch)
                batch = []
            done = issue_row(desk, row, clerk=clerk, officer=officer)  # audits the refusal and raises
            rules.add(service.get_record(done.record_id))
            issued.append(done)
            continue
        registration, ready = _ready(pickup, service, row, clerk=clerk, officer=officer)
        batch.append(registration)
        rules.add(registration.record)
        issued.append(ready)
    if batch:
        service.store.insert_registrations(batch)
    return issued


# Prepared, then committed whole ----------------------------------------------------------------------
#
# `epermit issue` must never store an offer whose PIN it has not yet written down: the sheet or the SMS file
# is the only copy (the store keeps a hash). So every row is made ready first, nothing stored; the caller
# writes the PINs (epermit.cli.sheet stages the files beside their targets); then the batch is one
# Store.insert_registrations step: every record, offer and audit entry, or none (a rerun then starts clean).


@dataclass(frozen=True)
class PreparedBatch:
    """Good rows made ready to store, with nothing stored yet: ``issued`` (what the officer hands out, the
    PINs included) and ``registrations`` (what the store writes)."""

    issued: tuple[IssuedRow, ...]
    registrations: tuple[Registration, ...]

    @classmethod
    def of(cls, made: Iterable[tuple[Registration, IssuedRow]]) -> PreparedBatch:
        """From prepare_rows (or its iterator as wrapped, e.g. by a progress bar)."""
        pairs = list(made)
        return cls(tuple(i for _, i in pairs), tuple(r for r, _ in pairs))


def prepare_rows(
    desk: OfficerDesk, rows: Sequence[GoodRow], *, clerk: Officer, officer: Officer
) -> Iterator[tuple[Registration, IssuedRow]]:
    """Each row made ready, in order, the holders' records read a chunk at a time; nothing is stored.
    A row that no longer passes the checks it passed in validation (the store changed meanwhile) raises
    StateConflictError, before anything of the batch is stored."""
    service = desk.service
    pickup = Pickup(service.store, service.settings, service.clock, service.audit, service.keyed)
    rules = HolderRules(service)
    for start in range(0, len(rows), BATCH_ROWS):
        chunk = rows[start:start + BATCH_ROWS]
        rules.load(row.permit for row in chunk)
        for row in chunk:
            if not _passes(rules, row.permit, clerk, officer):
                raise StateConflictError(f"line {row.line} no longer passes the checks it passed a moment ago "
                                         "(the registry changed meanwhile): nothing issued, run it again")
            registration, ready = _ready(pickup, service, row, clerk=clerk, officer=officer)
            rules.add(registration.record)
            yield registration, ready


def prepare_batch(desk: OfficerDesk, rows: Sequence[GoodRow], *, clerk: Officer, officer: Officer) -> PreparedBatch:
    return PreparedBatch.of(prepare_rows(desk, rows, clerk=clerk, officer=officer))


def commit_batch(service: IssuerService, batch: PreparedBatch) -> None:
    """Store the whole batch in one step (one SQLite transaction, one Redis script): all rows or none."""
    if batch.registrations:
        service.store.insert_registrations(batch.registrations)
