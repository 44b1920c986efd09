"""SQLite: the records' portraits, sealed (issuer.portrait.vault); a change and its audit entry in one commit."""

from __future__ import annotations

from credential.encoding import json_dumps
from credential.model import Permit
from issuer.model import AuditEntry, Record, RecordState
from issuer.store import same_holder
from issuer.store.sqlite.audit import append_entry
from issuer.store.sqlite.db import SQLiteFile
from issuer.store.sqlite.records import record_from_row


class SQLitePortraits:
    _db: SQLiteFile

    def put_portrait(
        self, record_id: str, sealed: bytes, *, expected: RecordState, permit: Permit, now: int, audit: AuditEntry
    ) -> Record | None:
        text = json_dumps(permit.to_dict()).decode("utf-8")
        with self._db.write() as c:
            row = c.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
            if row is None or row["state"] != expected.value:
                return None
            same_holder(record_from_row(row).permit, permit)
            c.execute("UPDATE records SET permit = ?, updated_at = ? WHERE id = ?", (text, now, record_id))
            c.execute("INSERT OR REPLACE INTO portraits VALUES (?, ?, ?)", (record_id, sealed, now))
            append_entry(c, audit)
            row = c.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
        return record_from_row(row)

    def get_portrait(self, record_id: str) -> bytes | None:
        row = self._db.row("SELECT sealed FROM portraits WHERE record_id = ?", (record_id,))
        return None if row is None else bytes(row[0])
