"""Bulk issuance in batches: the rows of issuer.bulk written many per store step.

Row by row (``issuer.bulk.issue_rows``, as the HTTP API does it) every row costs four durable writes (record,
its audit entry, offer, its audit entry: four fsyncs) and a handful of reads. Here a chunk of rows is one
``Store.insert_registrations`` call (one SQLite transaction, one Redis script: one fsync) and the holders'
records are read once per chunk, while each row gets exactly what the row path gives it: the desk's role
and district checks, the bureau's rules (again, in case the store changed since validation), a record, a
pickup offer (random code and PIN, stored hashed) and the two audit entries. Each row is whole or absent.
A row that would not pass straight through goes the row path after the rows before it are written, so it
is audited and raises exactly as there.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence

from credential.errors import CredentialError
from credential.model import Permit
from issuer.bulk import BATCH_ROWS, GoodRow, HolderRules, IssuedRow, issue_row
from issuer.desk import OfficerDesk
from issuer.officers import Action, Officer
from issuer.pickup import Pickup
from issuer.records import Record, RecordState
from issuer.store import Registration


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
    except CredentialError:
        return False
    return True


def _issue_chunk(desk: OfficerDesk, rows: Sequence[GoodRow], *, clerk: Officer, officer: Officer) -> list[IssuedRow]:
    service = desk.service
    pickup = Pickup(service.store, service.settings, service.clock, service.audit)
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
        now = service.clock()
        record = Record(secrets.token_urlsafe(16), row.permit, RecordState.ACTIVE, now, now)
        offer, stored = pickup.new_offer(record)
        batch.append(Registration(record, stored, (
            service.audit.entry(officer=clerk.id, action="register", record_id=record.id, reason=row.permit.type.slug),
            service.audit.entry(officer=officer.id, action="create_offer", record_id=record.id,
                                reason=f"offer {offer.offer_id}"),
        )))
        rules.add(record)
        issued.append(IssuedRow(row.line, record.id, offer, row.phone, row.permit.holder.name))
    if batch:
        service.store.insert_registrations(batch)
    return issued
