"""SQLite: records, their holders, and bulk registration (records, offers and audit entries in one commit).

A record's insert and its state changes take their audit entry and append it in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence

from credential.encoding import json_dumps
from credential.model import Permit
from credential.statuslist import INVALID
from issuer.errors import StateConflictError
from issuer.model import GENESIS, AuditEntry, Record, RecordState, chained, holder_hash
from issuer.store import BulkProgress, BulkStep, Registration, same_holder
from issuer.store.sqlite.audit import append_entry, audit_row
from issuer.store.sqlite.db import SQLiteFile
from issuer.store.sqlite.offers import INSERT_OFFER, offer_row


def record_from_row(row: sqlite3.Row) -> Record:
    permit = Permit.from_dict(json.loads(row["permit"]))
    return Record(row["id"], permit, RecordState(row["state"]), row["created_at"], row["updated_at"])


def record_row(record: Record) -> tuple[object, ...]:
    permit = json_dumps(record.permit.to_dict()).decode("utf-8")
    return (record.id, record.state.value, record.permit.district, permit, record.created_at, record.updated_at)


def count_batch(c: sqlite3.Connection, step: BulkStep) -> None:
    """Inside the batch's transaction: the run's count goes from step.batch to step.batch + 1, or nothing does."""
    if step.batch == 0:
        counted = c.execute("INSERT INTO bulk_runs VALUES (?, ?, 1, strftime('%s')) ON CONFLICT (bulk_id) DO NOTHING",
                            (step.bulk_id, step.run)).rowcount
    else:
        counted = c.execute("UPDATE bulk_runs SET batches = batches + 1, updated_at = strftime('%s') "
                            "WHERE bulk_id = ? AND run = ? AND batches = ?", (step.bulk_id, step.run, step.batch)).rowcount
    if counted != 1:
        raise StateConflictError(f"batch {step.batch} of bulk run {step.bulk_id[:12]} is not the run's next one "
                                 "(stored already, or another run of the file is ahead)")


class SQLiteRecords:
    _db: SQLiteFile

    def insert_record(self, record: Record, *, audit: AuditEntry | None = None) -> None:
        try:
            with self._db.write() as c:
                c.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", record_row(record))
                c.execute("INSERT INTO record_holders VALUES (?, ?)",
                          (holder_hash(record.permit.holder.citizen_id), record.id))
                if audit is not None:
                    append_entry(c, audit)
        except sqlite3.IntegrityError as exc:
            raise StateConflictError("record id already exists") from exc

    def insert_registrations(self, registrations: Sequence[Registration], *,
                             step: BulkStep | None = None) -> list[AuditEntry]:
        records = [record_row(r.record) for r in registrations]
        holders = [(holder_hash(r.record.permit.holder.citizen_id), r.record.id) for r in registrations]
        offers = [offer_row(r.offer) for r in registrations]
        try:
            with self._db.write() as c:  # one BEGIN IMMEDIATE: one commit (one fsync) for the whole batch
                if step is not None:
                    count_batch(c, step)
                c.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", records)
                c.executemany("INSERT INTO record_holders VALUES (?, ?)", holders)
                c.executemany(INSERT_OFFER, offers)
                c.executemany("INSERT INTO portraits VALUES (?, ?, ?)",
                              [(r.record.id, r.portrait, r.record.created_at) for r in registrations
                               if r.portrait is not None])
                last = c.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (0, GENESIS) if last is None else (last[0], last[1])
                linked: list[AuditEntry] = []
                for entry in (e for r in registrations for e in r.audit):
                    seq += 1
                    linked.append(chained(entry, seq=seq, prev_hash=prev))
                    prev = linked[-1].hash
                c.executemany("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              [audit_row(e) for e in linked])
        except sqlite3.IntegrityError as exc:
            raise StateConflictError("a record id, offer id or code already exists") from exc
        return linked

    def bulk_progress(self, bulk_id: str) -> BulkProgress:
        row = self._db.row("SELECT run, batches FROM bulk_runs WHERE bulk_id = ?", (bulk_id,))
        return BulkProgress("", 0) if row is None else BulkProgress(row["run"], int(row["batches"]))

    def end_bulk(self, bulk_id: str) -> None:
        with self._db.write() as c:
            c.execute("DELETE FROM bulk_runs WHERE bulk_id = ?", (bulk_id,))

    def get_record(self, record_id: str) -> Record | None:
        row = self._db.row("SELECT * FROM records WHERE id = ?", (record_id,))
        return None if row is None else record_from_row(row)

    def record_districts(self, record_ids: Sequence[str]) -> dict[str, str]:
        rows = self._db.rows("SELECT id, district FROM records WHERE id IN (SELECT value FROM json_each(?))",
                             (json.dumps(list(record_ids)),))
        return {row["id"]: row["district"] for row in rows}

    def update_record_state(
        self, record_id: str, *, expected: RecordState, new: RecordState, status_value: int, now: int,
        audit: AuditEntry,
    ) -> Record | None:
        with self._db.write() as c:
            changed = c.execute(
                "UPDATE records SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                (new.value, now, record_id, expected.value),
            ).rowcount
            if changed != 1:
                return None
            if new is not RecordState.ACTIVE:  # a suspended or revoked record's pickup must not redeem
                c.execute("UPDATE offers SET state = 'cancelled' WHERE record_id = ? AND state = 'open'", (record_id,))
            c.execute(
                "UPDATE status_entries SET value = ? WHERE (list_no, idx) IN "
                "(SELECT list_no, idx FROM delivered d WHERE record_id = ? AND "
                "NOT EXISTS (SELECT 1 FROM retired x WHERE x.list_no = d.list_no AND x.idx = d.idx))",
                (status_value, record_id),
            )
            c.execute(
                "UPDATE status_lists SET generation = generation + 1 WHERE list_no IN "
                "(SELECT list_no FROM delivered WHERE record_id = ?)",
                (record_id,),
            )
            append_entry(c, audit)
            row = c.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
        return record_from_row(row)

    def record_states(self) -> Iterator[tuple[str, RecordState]]:
        after = ""
        while True:  # by id, a page per read: no transaction held open while the caller works
            page = self._db.rows("SELECT id, state FROM records WHERE id > ? ORDER BY id LIMIT 1000", (after,))
            yield from ((row[0], RecordState(row[1])) for row in page)
            if len(page) < 1000:
                return
            after = page[-1][0]

    def records_of_holder(self, citizen_id: str) -> list[Record]:
        rows = self._db.rows(
            "SELECT r.* FROM records r JOIN record_holders h ON h.record_id = r.id WHERE h.holder_hash = ? "
            "ORDER BY r.created_at, r.rowid",
            (holder_hash(citizen_id),),
        )
        return [record_from_row(row) for row in rows]

    def records_of_holders(self, citizen_ids: Sequence[str]) -> dict[str, list[Record]]:
        by_hash = {holder_hash(c): c for c in citizen_ids}
        found: dict[str, list[Record]] = {c: [] for c in by_hash.values()}
        rows = self._db.rows(  # the hashes as one JSON array parameter: one query whatever their number
            "SELECT h.holder_hash AS holder_hash, r.* FROM records r JOIN record_holders h ON h.record_id = r.id "
            "WHERE h.holder_hash IN (SELECT value FROM json_each(?)) ORDER BY r.created_at, r.rowid",
            (json.dumps(list(by_hash)),),
        )
        for row in rows:
            found[by_hash[row["holder_hash"]]].append(record_from_row(row))
        return found

    def update_record_permit(
        self, record_id: str, *, expected: RecordState, permit: Permit, now: int
    ) -> Record | None:
        text = json_dumps(permit.to_dict()).decode("utf-8")
        with self._db.write() as c:
            row = c.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
            if row is None or row["state"] != expected.value:
                return None
            same_holder(record_from_row(row).permit, permit)
            c.execute("UPDATE records SET permit = ?, updated_at = ? WHERE id = ?", (text, now, record_id))
            row = c.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
        return record_from_row(row)

    def retire_delivered(self, record_id: str, *, now: int) -> list[tuple[int, int]] | None:
        with self._db.write() as c:
            row = c.execute("SELECT state FROM records WHERE id = ?", (record_id,)).fetchone()
            if row is None or row["state"] != RecordState.ACTIVE.value:
                return None
            live = [(r[0], r[1]) for r in c.execute(
                "SELECT list_no, idx FROM delivered d WHERE record_id = ? AND "
                "NOT EXISTS (SELECT 1 FROM retired x WHERE x.list_no = d.list_no AND x.idx = d.idx) "
                "ORDER BY list_no, idx",
                (record_id,),
            )]
            for list_no, idx in live:
                c.execute("UPDATE status_entries SET value = ? WHERE list_no = ? AND idx = ?",
                          (INVALID, list_no, idx))
                c.execute("INSERT INTO retired VALUES (?, ?, ?, ?)", (list_no, idx, record_id, now))
            for list_no in sorted({list_no for list_no, _ in live}):
                c.execute("UPDATE status_lists SET generation = generation + 1 WHERE list_no = ?", (list_no,))
            c.execute(
                "UPDATE offers SET state = 'cancelled' WHERE record_id = ? AND state IN ('open', 'redeemed')",
                (record_id,),
            )
        return live
