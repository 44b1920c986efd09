"""The SQLite Store: the embedded default, one file shared by threads and processes.

Each read-modify-write is one ``BEGIN IMMEDIATE`` transaction (see issuer.sqlite_db), so two writers
serialise on the file lock instead of both acting on the old state.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from credential.encoding import json_dumps
from credential.model import Permit
from credential.statuslist import INVALID, StatusList
from issuer.audit import GENESIS, AuditEntry, chained
from issuer.errors import StateConflictError
from issuer.officers import Officer, Role
from issuer.records import PublishedStatusList, Record, RecordState
from issuer.sqlite_db import SQLiteFile
from issuer.sqlite_schema import SCHEMA
from issuer.store import (
    FILL_LIMIT,
    Registration,
    StatusListFullError,
    StoredOffer,
    StoredStatusList,
    StoredTrustList,
)

# Below FILL_LIMIT at least one try in ten finds a free index: 400 misses in a row is ~1e-18.
_ALLOCATION_TRIES = 400
_PURGE_ONE_IN = 64  # expired ephemeral rows are swept now and then, not on every write


def holder_hash(citizen_id: str) -> str:
    """The index key of a holder's records (an index, not a secret: the permit itself is stored too)."""
    return hashlib.sha256(b"epermit-holder\x1f" + citizen_id.encode("utf-8")).hexdigest()


class SQLiteStore:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000) -> None:
        self._db = SQLiteFile(path, busy_timeout_ms=busy_timeout_ms)
        self.initialize()

    def initialize(self) -> None:
        """Create the schema if absent (idempotent; safe when several processes start at once)."""
        self._db.initialize(SCHEMA)

    def close(self) -> None:
        self._db.close()

    # --- records -------------------------------------------------------------------------------------
    @staticmethod
    def _record(row: sqlite3.Row) -> Record:
        permit = Permit.from_dict(json.loads(row["permit"]))
        return Record(row["id"], permit, RecordState(row["state"]), row["created_at"], row["updated_at"])

    @staticmethod
    def _record_row(record: Record) -> tuple[object, ...]:
        permit = json_dumps(record.permit.to_dict()).decode("utf-8")
        return (record.id, record.state.value, record.permit.district, permit, record.created_at, record.updated_at)

    def insert_record(self, record: Record) -> None:
        try:
            with self._db.write() as c:
                c.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", self._record_row(record))
                c.execute("INSERT INTO record_holders VALUES (?, ?)",
                          (holder_hash(record.permit.holder.citizen_id), record.id))
        except sqlite3.IntegrityError as exc:
            raise StateConflictError("record id already exists") from exc

    def insert_registrations(self, registrations: Sequence[Registration]) -> list[AuditEntry]:
        records = [self._record_row(r.record) for r in registrations]
        holders = [(holder_hash(r.record.permit.holder.citizen_id), r.record.id) for r in registrations]
        offers = [self._offer_row(r.offer) for r in registrations]
        try:
            with self._db.write() as c:  # one BEGIN IMMEDIATE: one commit (one fsync) for the whole batch
                c.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", records)
                c.executemany("INSERT INTO record_holders VALUES (?, ?)", holders)
                c.executemany("INSERT INTO offers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", offers)
                last = c.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (0, GENESIS) if last is None else (last[0], last[1])
                linked: list[AuditEntry] = []
                for entry in (e for r in registrations for e in r.audit):
                    seq += 1
                    linked.append(chained(entry, seq=seq, prev_hash=prev))
                    prev = linked[-1].hash
                c.executemany("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                    (e.seq, e.time, e.officer, e.action, e.record_id, e.reason, e.outcome, e.prev_hash, e.hash)
                    for e in linked])
        except sqlite3.IntegrityError as exc:
            raise StateConflictError("a record id, offer id or code already exists") from exc
        return linked

    def get_record(self, record_id: str) -> Record | None:
        row = self._db.row("SELECT * FROM records WHERE id = ?", (record_id,))
        return None if row is None else self._record(row)

    def update_record_state(
        self, record_id: str, *, expected: RecordState, new: RecordState, status_value: int, now: int
    ) -> Record | None:
        with self._db.write() as c:
            changed = c.execute(
                "UPDATE records SET state = ?, updated_at = ? WHERE id = ? AND state = ?",
                (new.value, now, record_id, expected.value),
            ).rowcount
            if changed != 1:
                return None
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
            row = c.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
        return self._record(row)

    def records_of_holder(self, citizen_id: str) -> list[Record]:
        rows = self._db.rows(
            "SELECT r.* FROM records r JOIN record_holders h ON h.record_id = r.id WHERE h.holder_hash = ? "
            "ORDER BY r.created_at, r.rowid",
            (holder_hash(citizen_id),),
        )
        return [self._record(row) for row in rows]

    def records_of_holders(self, citizen_ids: Sequence[str]) -> dict[str, list[Record]]:
        by_hash = {holder_hash(c): c for c in citizen_ids}
        found: dict[str, list[Record]] = {c: [] for c in by_hash.values()}
        rows = self._db.rows(  # the hashes as one JSON array parameter: one query whatever their number
            "SELECT h.holder_hash AS holder_hash, r.* FROM records r JOIN record_holders h ON h.record_id = r.id "
            "WHERE h.holder_hash IN (SELECT value FROM json_each(?)) ORDER BY r.created_at, r.rowid",
            (json.dumps(list(by_hash)),),
        )
        for row in rows:
            found[by_hash[row["holder_hash"]]].append(self._record(row))
        return found

    def update_record_permit(
        self, record_id: str, *, expected: RecordState, permit: Permit, now: int
    ) -> Record | None:
        text = json_dumps(permit.to_dict()).decode("utf-8")
        with self._db.write() as c:
            row = c.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
            if row is None or row["state"] != expected.value:
                return None
            old = self._record(row).permit
            if (old.type, old.holder.citizen_id, old.district) != (permit.type, permit.holder.citizen_id,
                                                                    permit.district):
                raise ValueError("an endorsement keeps the type, the holder and the district")
            c.execute("UPDATE records SET permit = ?, updated_at = ? WHERE id = ?", (text, now, record_id))
            row = c.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
        return self._record(row)

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
                "UPDATE offers SET state = 'cancelled', pre_authorized_code = NULL "
                "WHERE record_id = ? AND state IN ('open', 'redeemed')",
                (record_id,),
            )
        return live

    # --- status lists --------------------------------------------------------------------------------
    def open_status_list(self, list_no: int, size: int) -> bool:
        with self._db.write() as c:
            return c.execute(
                "INSERT OR IGNORE INTO status_lists (list_no, size) VALUES (?, ?)", (list_no, size)
            ).rowcount == 1

    def status_list_numbers(self) -> list[int]:
        return [row[0] for row in self._db.rows("SELECT list_no FROM status_lists ORDER BY list_no")]

    def allocate_status_index(self, list_no: int, size: int) -> int:
        with self._db.write() as c:
            c.execute("INSERT OR IGNORE INTO status_lists (list_no, size) VALUES (?, ?)", (list_no, size))
            row = c.execute("SELECT size, allocated FROM status_lists WHERE list_no = ?", (list_no,)).fetchone()
            list_size = row["size"]
            if row["allocated"] >= int(list_size * FILL_LIMIT):
                raise StatusListFullError(list_no)
            for _ in range(_ALLOCATION_TRIES):
                idx = secrets.randbelow(list_size)
                # The UNIQUE (list_no, idx) constraint is what makes an index never handed out twice.
                if c.execute(
                    "INSERT OR IGNORE INTO status_entries (list_no, idx) VALUES (?, ?)", (list_no, idx)
                ).rowcount == 1:
                    c.execute("UPDATE status_lists SET allocated = allocated + 1 WHERE list_no = ?", (list_no,))
                    return idx
        raise StatusListFullError(list_no)

    def set_status(self, list_no: int, idx: int, value: int) -> None:
        with self._db.write() as c:
            if c.execute(
                "UPDATE status_entries SET value = ? WHERE list_no = ? AND idx = ?", (value, list_no, idx)
            ).rowcount != 1:
                raise LookupError(f"status index {list_no}/{idx} was never allocated")
            c.execute("UPDATE status_lists SET generation = generation + 1 WHERE list_no = ?", (list_no,))

    def status_bits(self, list_no: int) -> StatusList:
        def read(c: sqlite3.Connection) -> tuple[sqlite3.Row | None, list[sqlite3.Row]]:
            head = c.execute("SELECT size FROM status_lists WHERE list_no = ?", (list_no,)).fetchone()
            rows = c.execute(
                "SELECT idx, value FROM status_entries WHERE list_no = ? AND value != 0", (list_no,)
            ).fetchall()
            return head, rows

        head, rows = self._db.snapshot(read)  # the size and the entries from one snapshot
        if head is None:
            raise LookupError(f"status list {list_no} was never opened")
        bits = StatusList(head["size"], 2)
        for row in rows:
            bits.set(row["idx"], row["value"])
        return bits

    def status_generation(self, list_no: int) -> int:
        row = self._db.row("SELECT generation FROM status_lists WHERE list_no = ?", (list_no,))
        if row is None:
            raise LookupError(f"status list {list_no} was never opened")
        return int(row[0])

    # --- delivered credentials -----------------------------------------------------------------------
    def add_delivered(self, record_id: str, list_no: int, idx: int, now: int, *, kid: str | None = None) -> bool:
        with self._db.write() as c:
            row = c.execute("SELECT state FROM records WHERE id = ?", (record_id,)).fetchone()
            if row is None or row["state"] != RecordState.ACTIVE.value:
                return False
            c.execute("INSERT INTO delivered VALUES (?, ?, ?, ?)", (record_id, list_no, idx, now))
            if kid is not None:
                c.execute("INSERT INTO delivered_keys VALUES (?, ?, ?, ?)", (list_no, idx, kid, record_id))
            return True

    def delivered(self, record_id: str) -> list[tuple[int, int]]:
        rows = self._db.rows(
            "SELECT list_no, idx FROM delivered WHERE record_id = ? ORDER BY created_at, list_no, idx", (record_id,)
        )
        return [(row[0], row[1]) for row in rows]

    def deliveries_signed_by(self, kid: str) -> list[tuple[str, int, int]]:
        rows = self._db.rows(
            "SELECT k.record_id, k.list_no, k.idx FROM delivered_keys k WHERE k.kid = ? AND NOT EXISTS "
            "(SELECT 1 FROM retired x WHERE x.list_no = k.list_no AND x.idx = k.idx) ORDER BY k.record_id, k.list_no, k.idx",
            (kid,),
        )
        return [(str(row[0]), int(row[1]), int(row[2])) for row in rows]

    # --- offers --------------------------------------------------------------------------------------
    @staticmethod
    def _offer(row: sqlite3.Row | None) -> StoredOffer | None:
        if row is None:
            return None
        return StoredOffer(
            row["offer_id"], row["record_id"], row["code_hash"], row["tx_code_hash"], row["pre_authorized_code"],
            row["expires_at"], tuple(json.loads(row["configuration_ids"])), row["state"], row["created_at"],
        )

    @staticmethod
    def _offer_row(offer: StoredOffer) -> tuple[object, ...]:
        return (offer.offer_id, offer.record_id, offer.code_hash, offer.tx_code_hash, offer.pre_authorized_code,
                offer.expires_at, json.dumps(list(offer.configuration_ids)), offer.state, offer.created_at)

    def insert_offer(self, offer: StoredOffer) -> None:
        with self._db.write() as c:
            c.execute("INSERT INTO offers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._offer_row(offer))

    def get_offer(self, offer_id: str) -> StoredOffer | None:
        return self._offer(self._db.row("SELECT * FROM offers WHERE offer_id = ?", (offer_id,)))

    def get_offer_by_code_hash(self, code_hash: str) -> StoredOffer | None:
        return self._offer(self._db.row("SELECT * FROM offers WHERE code_hash = ?", (code_hash,)))

    def finish_offer(self, code_hash: str, *, state: str, now: int) -> bool:
        if state not in ("redeemed", "burned"):
            raise ValueError(f"an offer cannot finish as {state!r}")
        with self._db.write() as c:
            return c.execute(
                "UPDATE offers SET state = ?, pre_authorized_code = NULL "
                "WHERE code_hash = ? AND state = 'open' AND expires_at > ?",
                (state, code_hash, now),
            ).rowcount == 1

    # --- ephemeral values and counters ---------------------------------------------------------------
    def put_ephemeral(self, kind: str, key: str, value: str, ttl: int, now: int) -> None:
        with self._db.write() as c:
            if secrets.randbelow(_PURGE_ONE_IN) == 0:
                c.execute("DELETE FROM ephemeral WHERE expires_at <= ?", (now,))
                c.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            c.execute("INSERT OR REPLACE INTO ephemeral VALUES (?, ?, ?, ?)", (kind, key, value, now + ttl))

    def get_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        row = self._db.row(
            "SELECT value FROM ephemeral WHERE kind = ? AND key = ? AND expires_at > ?", (kind, key, now)
        )
        return None if row is None else str(row[0])

    def take_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        with self._db.write() as c:
            row = c.execute(
                "DELETE FROM ephemeral WHERE kind = ? AND key = ? RETURNING value, expires_at", (kind, key)
            ).fetchone()
        if row is None or row["expires_at"] <= now:
            return None
        return str(row["value"])

    def increment(self, kind: str, key: str, ttl: int, now: int) -> int:
        with self._db.write() as c:
            row = c.execute(
                "INSERT INTO counters VALUES (?, ?, 1, ?) ON CONFLICT (kind, key) DO UPDATE SET "
                "count = CASE WHEN expires_at <= ? THEN 1 ELSE count + 1 END, "
                "expires_at = CASE WHEN expires_at <= ? THEN excluded.expires_at ELSE expires_at END "
                "RETURNING count",
                (kind, key, now + ttl, now, now),
            ).fetchone()
        return int(row[0])

    # --- officers ------------------------------------------------------------------------------------
    @staticmethod
    def _officer(row: sqlite3.Row) -> Officer:
        districts = tuple(json.loads(row["districts"]))
        return Officer(row["id"], row["name"], Role(row["role"]), districts, bool(row["disabled"]))

    def put_officer(self, officer: Officer) -> None:
        with self._db.write() as c:
            c.execute(
                "INSERT INTO officers VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "name = excluded.name, role = excluded.role, districts = excluded.districts, "
                "disabled = excluded.disabled",
                (officer.id, officer.name, officer.role.value, json.dumps(list(officer.districts)),
                 int(officer.disabled)),
            )

    def get_officer(self, officer_id: str) -> Officer | None:
        row = self._db.row("SELECT * FROM officers WHERE id = ?", (officer_id,))
        return None if row is None else self._officer(row)

    def list_officers(self) -> list[Officer]:
        return [self._officer(row) for row in self._db.rows("SELECT * FROM officers ORDER BY id")]

    def add_officer_token(self, token_hash: str, officer_id: str, *, expires_at: int, now: int) -> None:
        with self._db.write() as c:
            c.execute(
                "INSERT INTO officer_tokens (token_hash, officer_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
                (token_hash, officer_id, expires_at, now),
            )

    def officer_for_token(self, token_hash: str, now: int) -> str | None:
        row = self._db.row(
            "SELECT officer_id FROM officer_tokens WHERE token_hash = ? AND revoked = 0 AND expires_at > ?",
            (token_hash, now),
        )
        return None if row is None else str(row[0])

    def revoke_officer_token(self, token_hash: str) -> str | None:
        with self._db.write() as c:
            row = c.execute(
                "UPDATE officer_tokens SET revoked = 1 WHERE token_hash = ? AND revoked = 0 RETURNING officer_id",
                (token_hash,),
            ).fetchone()
        return None if row is None else str(row[0])

    def revoke_officer_tokens(self, officer_id: str) -> int:
        with self._db.write() as c:
            return c.execute(
                "UPDATE officer_tokens SET revoked = 1 WHERE officer_id = ? AND revoked = 0", (officer_id,)
            ).rowcount

    # --- publication ---------------------------------------------------------------------------------
    def put_published_status_list(self, list_no: int, published: PublishedStatusList, *, generation: int) -> bool:
        with self._db.write() as c:
            return c.execute(
                "INSERT INTO published_status_lists VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (list_no) DO UPDATE SET "
                "uri = excluded.uri, token = excluded.token, etag = excluded.etag, iat = excluded.iat, "
                "generation = excluded.generation WHERE excluded.generation >= published_status_lists.generation",
                (list_no, published.uri, published.token, published.etag, published.iat, generation),
            ).rowcount == 1

    def get_published_status_list(self, list_no: int) -> StoredStatusList | None:
        row = self._db.row(
            "SELECT uri, token, etag, iat, generation FROM published_status_lists WHERE list_no = ?", (list_no,)
        )
        return None if row is None else StoredStatusList(PublishedStatusList(row[0], row[1], row[2], row[3]), row[4])

    def get_trust_list(self) -> StoredTrustList | None:
        row = self._db.row("SELECT version, fingerprint, token, iat FROM trust_list WHERE id = 1")
        return None if row is None else StoredTrustList(row[0], row[1], row[2], row[3])

    def put_trust_list(self, trust_list: StoredTrustList) -> bool:
        with self._db.write() as c:
            return c.execute(
                "INSERT INTO trust_list VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "version = excluded.version, fingerprint = excluded.fingerprint, token = excluded.token, "
                "iat = excluded.iat WHERE excluded.version >= trust_list.version",
                (trust_list.version, trust_list.fingerprint, trust_list.token, trust_list.iat),
            ).rowcount == 1

    # --- audit ---------------------------------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        with self._db.write() as c:  # the last hash and the insert in one BEGIN IMMEDIATE: appends serialise
            last = c.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
            linked = chained(entry, seq=1 if last is None else last[0] + 1,
                             prev_hash=GENESIS if last is None else last[1])
            c.execute(
                "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (linked.seq, linked.time, linked.officer, linked.action, linked.record_id, linked.reason,
                 linked.outcome, linked.prev_hash, linked.hash),
            )
        return linked

    def list_audit(self, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        rows = self._db.rows("SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit))
        return [AuditEntry(r["seq"], r["time"], r["officer"], r["action"], r["record_id"], r["reason"],
                           r["outcome"], r["prev_hash"], r["hash"]) for r in rows]
