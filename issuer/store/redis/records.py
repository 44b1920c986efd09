"""Redis: records, their holders, and bulk registration (records, offers and audit entries in one script per district).

A record lives in its district's shard; the global shard knows which district that is (``rdist``) and lists
each holder's records (``holder:<hash>``), claimed first (scripts.CLAIM: readers skip an index entry whose
record is not there). A record's insert and its state changes take their audit entry: the change and the entry
are one script in the district's shard.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from redis.exceptions import RedisClusterException, RedisError

from credential.encoding import b64url_encode, json_dumps
from credential.model import Permit
from credential.statuslist import INVALID
from issuer.errors import StateConflictError, StoreUnavailableError
from issuer.model import GENESIS, AuditEntry, Record, RecordState, chained, holder_hash
from issuer.store import BulkProgress, BulkStep, Registration, same_holder
from issuer.store.redis.audit import AUDIT_TRIES, RedisAudit, audit_json, written_now
from issuer.store.redis.client import as_str, guard, hash_fields

_SCAN = 1000


def record_from_fields(record_id: str, f: dict[str, str]) -> Record:
    permit = Permit.from_dict(json.loads(f["permit"]))
    return Record(record_id, permit, RecordState(f["state"]), int(f["created_at"]), int(f["updated_at"]))


class RedisRecords(RedisAudit):  # its inserts and state changes append to the chain
    def _claim(self, records: list[list[str]], offers: list[list[str]]) -> bool:
        """Claim record ids (with their district and holder hash) and offer ids (with district and code hash) in
        the global shard; False if one is another district's."""
        keys = [self._k("rdist"), self._k("districts"), self._k("odist"), self._k("ocode")]
        batch = json.dumps({"records": records, "offers": offers})
        return int(self._run("CLAIM", keys, [self._p, batch])) == 1

    @guard
    def insert_record(self, record: Record, *, audit: AuditEntry | None = None) -> None:
        permit = json_dumps(record.permit.to_dict()).decode("utf-8")
        district = record.permit.district
        if not self._claim([[record.id, district, holder_hash(record.permit.holder.citizen_id)]], []):
            raise StateConflictError("record id already exists")
        self._record_shards[record.id] = district
        keys = [self._d(district, "record", record.id)]
        args: list[object] = [record.state.value, district, permit, record.created_at, record.updated_at]
        if audit is None:
            inserted = self._run("INSERT_RECORD", keys, args)
        else:
            inserted, _ = self._chained_run(
                audit, lambda chain: self._run("INSERT_RECORD", keys, [*args, *chain]), district)
        if not inserted:
            raise StateConflictError("record id already exists")

    @guard
    def insert_registrations(self, registrations: Sequence[Registration], *,
                             step: BulkStep | None = None) -> list[AuditEntry]:
        """All or nothing per district (one script each); across districts every conflict is found before
        the first write, so a conflict writes nothing, and only a crash between two districts' scripts leaves
        the batch in part (each district whole: its records, offers and entries, or none).

        A bulk ``step`` is counted twice: in each district's shard, in the district's own script (a district
        stores a batch once: never a batch number it has stored), and in the global shard once every district
        of the batch is stored (the file's progress, read by bulk_progress). A batch cut between two
        districts' scripts therefore cannot be stored again — its PINs would be new — and its rerun is refused
        (StateConflictError naming the district) rather than issued twice: the rows of that batch are left to
        an officer (docs/redis.md). A one-district batch, the usual case, resumes as on SQLite."""
        by_district: dict[str, list[Registration]] = {}
        for r in registrations:
            by_district.setdefault(r.record.permit.district, []).append(r)
        if step is not None:
            self._check_bulk_step(step, by_district)
        if self._any_exists(by_district) or not self._claim(
                [[r.record.id, r.record.permit.district, holder_hash(r.record.permit.holder.citizen_id)]
                 for r in registrations],
                [[r.offer.offer_id, r.record.permit.district, r.offer.code_hash] for r in registrations]):
            raise StateConflictError("a record id, offer id or code already exists")
        linked: dict[int, list[AuditEntry]] = {}
        for district, rows in by_district.items():
            for r, entries in zip(rows, self._register_in(district, rows, step), strict=True):
                self._record_shards[r.record.id] = district
                linked[id(r)] = entries
        if step is not None and int(self._run("BULK_BATCH_DONE", [self._k("bulk_run", step.bulk_id)],
                                              [str(step.batch), step.run])) != 1:
            raise StateConflictError(f"batch {step.batch} of bulk run {step.bulk_id[:12]} is not the run's next "
                                     "one (another run of the file is ahead)")
        return [e for r in registrations for e in linked[id(r)]]

    def _check_bulk_step(self, step: BulkStep, by_district: dict[str, list[Registration]]) -> None:
        """Refuse before any write a batch that is not the file's next one, or that a district has stored
        already (the rules BULK_BATCH_DONE and each district's script apply again as they write; between the
        check and the writes, the journal's lock keeps a second run of the file out)."""
        progress = self.bulk_progress(step.bulk_id)
        if (progress.run != "" and progress.run != step.run) or progress.batches != step.batch \
                or (step.batch == 0 and progress.run != ""):
            raise StateConflictError(f"batch {step.batch} of bulk run {step.bulk_id[:12]} is not the run's next "
                                     "one (stored already, or another run of the file is ahead)")
        for district in by_district:
            run, stored = self._r.hmget(self._d(district, "bulk_run", step.bulk_id), ["run", "batches"])
            if (run is not None and as_str(run) != step.run) or int(stored or 0) > step.batch:
                raise StateConflictError(f"batch {step.batch} of bulk run {step.bulk_id[:12]} was stored in district "
                                         f"{district} before an interruption, or belongs to another run: it is not "
                                         "stored again (its PINs would differ); see docs/redis.md")

    def _any_exists(self, by_district: dict[str, list[Registration]]) -> bool:
        pipe = self._r.pipeline(transaction=False)
        for district, rows in by_district.items():
            for r in rows:
                pipe.exists(self._d(district, "record", r.record.id), self._d(district, "offer", r.offer.offer_id),
                            self._d(district, "offer_code", r.offer.code_hash))
        return any(int(n) for n in pipe.execute())

    def _register_in(self, district: str, registrations: list[Registration],
                     step: BulkStep | None) -> list[list[AuditEntry]]:
        """One district's rows in one script; each row's entries as chained on the district's chain."""
        rows = [[record.id, record.state.value, record.permit.district,
                 json_dumps(record.permit.to_dict()).decode("utf-8"), str(record.created_at), str(record.updated_at),
                 "", offer.offer_id, offer.code_hash, offer.tx_code_hash,
                 str(offer.expires_at), json.dumps(list(offer.configuration_ids)), offer.state, str(offer.created_at),
                 "" if portrait is None else b64url_encode(portrait)]
                for record, offer, portrait in ((r.record, r.offer, r.portrait) for r in registrations)]
        entries = [e for r in registrations for e in r.audit]
        keys = [self._d(district, "audit", "head"), self._d(district, "audit")]
        counted = [] if step is None else [str(step.batch), step.run]
        if step is not None:
            keys.append(self._d(district, "bulk_run", step.bulk_id))
        for _ in range(AUDIT_TRIES):  # compare-and-set on the audit head, as append_audit
            seq, last_hash = self._r.hmget(keys[0], ["seq", "hash"])
            last_seq = 0 if seq is None else int(seq)
            prev, linked, now = GENESIS if last_hash is None else as_str(last_hash), [], written_now()
            for n, entry in enumerate(entries, start=last_seq + 1):
                linked.append(chained(entry, seq=n, prev_hash=prev, written=now))
                prev = linked[-1].hash
            batch = json.dumps({"rows": rows, "audit": [[e.hash, audit_json(e)] for e in linked]},
                               ensure_ascii=False)
            written = int(self._run("INSERT_REGISTRATIONS", keys, [self._s(district), last_seq, batch, *counted]))
            if written == -1:
                raise StateConflictError("a record id, offer id or code already exists")
            if written == -2 and step is not None:
                raise StateConflictError(f"batch {step.batch} of bulk run {step.bulk_id[:12]} was stored in district "
                                         f"{district} before an interruption, or belongs to another run: it is not "
                                         "stored again (its PINs would differ); see docs/redis.md")
            if written == 1:
                if linked:
                    self._audit_heads[district] = (linked[-1].seq, linked[-1].hash)
                it = iter(linked)
                return [[next(it) for _ in r.audit] for r in registrations]
        raise StoreUnavailableError("store unavailable: the audit chain head is contended")

    @guard
    def bulk_progress(self, bulk_id: str) -> BulkProgress:
        run, batches = self._r.hmget(self._k("bulk_run", bulk_id), ["run", "batches"])
        return BulkProgress("", 0) if run is None else BulkProgress(as_str(run), int(batches or 0))

    @guard
    def end_bulk(self, bulk_id: str) -> None:
        districts = [as_str(d) for d in self._r.smembers(self._k("districts"))]
        for key in [self._k("bulk_run", bulk_id), *(self._d(d, "bulk_run", bulk_id) for d in districts)]:
            self._r.delete(key)  # one key a call: a cluster refuses a DEL across slots

    @guard
    def get_record(self, record_id: str) -> Record | None:
        district = self._record_shard(record_id)
        if district is None:
            return None
        fields = hash_fields(self._r.hgetall(self._d(district, "record", record_id)))
        return record_from_fields(record_id, fields) if fields else None

    @guard
    def record_districts(self, record_ids: Sequence[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(record_ids))
        if not ids:
            return {}
        claimed = {i: as_str(d) for i, d in zip(ids, self._r.hmget(self._k("rdist"), ids), strict=True) if d is not None}
        pipe = self._r.pipeline(transaction=False)  # a claim whose record was never written names no record
        for i, district in claimed.items():
            pipe.exists(self._d(district, "record", i))
        return {i: d for (i, d), n in zip(claimed.items(), pipe.execute() if claimed else [], strict=True) if n}

    @guard
    def update_record_state(
        self, record_id: str, *, expected: RecordState, new: RecordState, status_value: int, now: int,
        audit: AuditEntry,
    ) -> Record | None:
        district = self._record_shard(record_id)
        if district is None:
            return None
        keys = [self._d(district, "record", record_id), self._d(district, "delivered", record_id),
                self._d(district, "retired", record_id), self._d(district, "offers_of", record_id)]
        args = [self._s(district), expected.value, new.value, now, status_value]
        reply, _ = self._chained_run(
            audit, lambda chain: self._run("UPDATE_RECORD_STATE", keys, [*args, *chain[1:]]), district)
        return None if reply is None else record_from_fields(record_id, hash_fields(reply))

    def record_states(self) -> Iterator[tuple[str, RecordState]]:
        """Read through the global index page by page (HSCAN), each page's records from their shards."""
        try:
            cursor = 0
            while True:
                cursor, page = self._r.hscan(self._k("rdist"), cursor, count=_SCAN)
                yield from self._states({as_str(k): as_str(v) for k, v in page.items()})
                if int(cursor) == 0:
                    return
        except (RedisError, RedisClusterException) as exc:  # as @guard, for a generator
            raise StoreUnavailableError(f"store unavailable: {type(exc).__name__}") from exc

    def _states(self, districts: dict[str, str]) -> Iterator[tuple[str, RecordState]]:
        pipe = self._r.pipeline(transaction=False)
        for record_id, district in districts.items():
            pipe.hget(self._d(district, "record", record_id), "state")
        for record_id, state in zip(districts, pipe.execute() if districts else [], strict=True):
            if state is not None:  # a claim never written, or deleted since
                yield record_id, RecordState(as_str(state))

    @guard
    def records_of_holder(self, citizen_id: str) -> list[Record]:
        return self.records_of_holders([citizen_id])[citizen_id]

    @guard
    def records_of_holders(self, citizen_ids: Sequence[str]) -> dict[str, list[Record]]:
        holders = list(dict.fromkeys(citizen_ids))
        if not holders:
            return {}
        pipe = self._r.pipeline(transaction=False)
        for c in holders:
            pipe.lrange(self._k("holder", holder_hash(c)), 0, -1)
        ids = {c: [as_str(i) for i in found] for c, found in zip(holders, pipe.execute(), strict=True)}
        every = list(dict.fromkeys(i for found in ids.values() for i in found))
        shards = dict(zip(every, self._r.hmget(self._k("rdist"), every), strict=True)) if every else {}
        pipe = self._r.pipeline(transaction=False)
        wanted = [i for i in every if shards[i] is not None]
        for i in wanted:
            pipe.hgetall(self._d(as_str(shards[i]), "record", i))
        fields = {i: hash_fields(f) for i, f in zip(wanted, pipe.execute() if wanted else [], strict=True)}
        return {c: sorted((record_from_fields(i, fields[i]) for i in found if fields.get(i)),
                          key=lambda r: r.created_at)  # stable: insertion order within a second
                for c, found in ids.items()}

    @guard
    def update_record_permit(
        self, record_id: str, *, expected: RecordState, permit: Permit, now: int
    ) -> Record | None:
        text = json_dumps(permit.to_dict()).decode("utf-8")
        district = self._record_shard(record_id)
        if district is None:
            return None
        key = self._d(district, "record", record_id)
        while True:  # compare-and-set on the permit read: a concurrent endorsement makes us read again
            stored = self._r.hget(key, "permit")
            current = self.get_record(record_id)
            if stored is None or current is None or current.state is not expected:
                return None
            same_holder(current.permit, permit)
            reply = self._run("UPDATE_RECORD_PERMIT", [key], [expected.value, stored, text, now])
            if reply is None:
                return None
            if reply != 0:
                return record_from_fields(record_id, hash_fields(reply))

    @guard
    def retire_delivered(self, record_id: str, *, now: int) -> list[tuple[int, int]] | None:
        district = self._record_shard(record_id)
        if district is None:
            return None
        keys = [self._d(district, "record", record_id), self._d(district, "delivered", record_id),
                self._d(district, "retired", record_id), self._d(district, "offers_of", record_id)]
        reply = self._run("RETIRE_DELIVERED", keys, [self._s(district), INVALID])
        if reply is None:
            return None
        return sorted((int(n), int(i)) for n, i in (as_str(item).split(":") for item in reply))
