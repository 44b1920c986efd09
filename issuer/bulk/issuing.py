"""Issuing good rows: register each by the clerk and offer it by the issuing officer, as the HTTP API does.

``issue_row`` goes through OfficerDesk (the same checks and audit entries as the HTTP API); ``issue_batch``
does the same, many rows per store step; ``prepare_rows`` + ``commit_batch`` (what `epermit issue` uses)
make every row of a batch ready in memory, codes and PINs included, so that the caller writes the only
copy of the PINs before anything is stored, then store the batch in one step, all or nothing.

Row by row every row costs four durable writes (record, its audit entry, offer, its audit entry: four
fsyncs) and a handful of reads. In a batch a chunk of rows is one ``Store.insert_registrations`` call (one
SQLite transaction, one Redis script: one fsync) and the holders' records are read once per chunk, while
each row gets exactly what the row path gives it: the desk's role and district checks, the bureau's rules
(again, in case the store changed since validation), a record, a pickup offer (random code and PIN, stored
hashed) and the two audit entries. Each row is whole or absent.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from credential.errors import EpermitError
from credential.model import CredentialType, Permit
from issuer.bulk.validation import BATCH_ROWS, GoodRow, HolderRules
from issuer.desk import OfficerDesk
from issuer.errors import StateConflictError
from issuer.model import Action, Offer, Officer, Record, RecordState
from issuer.pickup import Pickup
from issuer.service import IssuerService
from issuer.store import BulkStep, Registration


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


def issue_batch(
    desk: OfficerDesk, rows: Sequence[GoodRow], *, clerk: Officer, officer: Officer, chunk: int = BATCH_ROWS
) -> Iterator[IssuedRow]:
    """What issue_rows does, ``chunk`` rows per store step (the rows in order). A row that would not pass
    straight through goes the row path after the rows before it are written, so it is audited and raises
    exactly as there."""
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


def commit_batch(service: IssuerService, batch: PreparedBatch, *, step: BulkStep | None = None) -> None:
    """Store the whole batch in one step (one SQLite transaction, one Redis script): all rows or none.
    ``step``: the batch's place in a streamed run (issuer.bulk.run), counted in the same step; a batch that
    is not the run's next one raises StateConflictError and stores nothing (so no batch is stored twice)."""
    if batch.registrations or step is not None:
        service.store.insert_registrations(batch.registrations, step=step)
