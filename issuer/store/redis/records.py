"""Redis: records, their holders, and bulk registration (records, offers and audit entries in one script).

A record's insert and its state changes take their audit entry: the change and the entry are one script.
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
from issuer.store.redis.audit import AUDIT_TRIES, RedisAudit, audit_json
from issuer.store.redis.client import as_str, guard, hash_fields


def record_from_fields(record_id: str, f: dict[str, str]) -> Record:
    permit = Permit.from_dict(json.loads(f["permit"]))
    return Record(record_id, permit, RecordState(f["state"]), int(f["created_at"]), int(f["updated_at"]))


class RedisRecords(RedisAudit):  # its inserts and state changes append to the chain
    @guard
    def insert_record(self, record: Record, *, audit: AuditEntry | None = None) -> None:
        permit = json_dumps(record.permit.to_dict()).decode("utf-8")
        keys = [self._k("record", record.id), self._k("holder", holder_hash(record.permit.holder.citizen_id))]
        args: list[object] = [record.state.value, record.permit.district, permit, record.created_at,
                              record.updated_at, record.id]
        if audit is None:
            inserted = self._run("INSERT_RECORD", keys, args)
        else:
            inserted, _ = self._chained_run(audit, lambda chain: self._run("INSERT_RECORD", keys, [*args, *chain]))
        if not inserted:
            raise StateConflictError("record id already exists")

    @guard
    def insert_registrations(self, registrations: Sequence[Registration], *,
                             step: BulkStep | None = None) -> list[AuditEntry]:
        rows = [[record.id, record.state.value, record.permit.district,
                 json_dumps(record.permit.to_dict()).decode("utf-8"), str(record.created_at), str(record.updated_at),
                 holder_hash(record.permit.holder.citizen_id), offer.offer_id, offer.code_hash, offer.tx_code_hash,
                 str(offer.expires_at), json.dumps(list(offer.configuration_ids)), offer.state, str(offer.created_at),
                 "" if portrait is None else b64url_encode(portrait)]
                for record, offer, portrait in ((r.record, r.offer, r.portrait) for r in registrations)]
        entries = [e for r in registrations for e in r.audit]
        keys = [self._k("audit", "head"), self._k("audit")]
        counted = [] if step is None else [str(step.batch), step.run]
        if step is not None:
            keys.append(self._k("bulk_run", step.bulk_id))
        for _ in range(AUDIT_TRIES):  # compare-and-set on the audit head, as append_audit
            seq, last_hash = self._r.hmget(keys[0], ["seq", "hash"])
            last_seq = 0 if seq is None else int(seq)
            prev, linked = GENESIS if last_hash is None else as_str(last_hash), []
            for n, entry in enumerate(entries, start=last_seq + 1):
                linked.append(chained(entry, seq=n, prev_hash=prev))
                prev = linked[-1].hash
            batch = json.dumps({"rows": rows, "audit": [[e.hash, audit_json(e)] for e in linked]},
                               ensure_ascii=False)
            written = int(self._run("INSERT_REGISTRATIONS", keys, [self._p, last_seq, batch, *counted]))
            if written == -1:
                raise StateConflictError("a record id, offer id or code already exists")
            if written == -2 and step is not None:
                raise StateConflictError(f"batch {step.batch} of bulk run {step.bulk_id[:12]} is not the run's next "
                                         "one (stored already, or another run of the file is ahead)")
            if written == 1:
                return linked
        raise StoreUnavailableError("store unavailable: the audit chain head is contended")

    @guard
    def bulk_progress(self, bulk_id: str) -> BulkProgress:
        run, batches = self._r.hmget(self._k("bulk_run", bulk_id), ["run", "batches"])
        return BulkProgress("", 0) if run is None else BulkProgress(as_str(run), int(batches or 0))

    @guard
    def end_bulk(self, bulk_id: str) -> None:
        self._r.delete(self._k("bulk_run", bulk_id))

    @guard
    def get_record(self, record_id: str) -> Record | None:
        fields = hash_fields(self._r.hgetall(self._k("record", record_id)))
        return record_from_fields(record_id, fields) if fields else None

    @guard
    def record_districts(self, record_ids: Sequence[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(record_ids))
        if not ids:
            return {}
        reply = self._run("RECORD_DISTRICTS", [self._k("record", i) for i in ids], [])
        return {i: as_str(d) for i, d in zip(ids, reply, strict=True) if d}

    @guard
    def update_record_state(
        self, record_id: str, *, expected: RecordState, new: RecordState, status_value: int, now: int,
        audit: AuditEntry,
    ) -> Record | None:
        keys = [self._k("record", record_id), self._k("delivered", record_id), self._k("retired", record_id),
                self._k("offers_of", record_id)]
        args = [self._p, expected.value, new.value, now, status_value]
        reply, _ = self._chained_run(audit, lambda chain: self._run("UPDATE_RECORD_STATE", keys, [*args, *chain[1:]]))
        return None if reply is None else record_from_fields(record_id, hash_fields(reply))

    def record_states(self) -> Iterator[tuple[str, RecordState]]:
        prefix = self._k("record", "")
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in prefix) + "*"  # the prefix taken literally
        try:
            page: list[str] = []
            for key in self._r.scan_iter(match=pattern, count=1000):
                page.append(as_str(key))
                if len(page) == 1000:
                    yield from self._states(prefix, page)
                    page = []
            yield from self._states(prefix, page)
        except (RedisError, RedisClusterException) as exc:  # as @guard, for a generator
            raise StoreUnavailableError(f"store unavailable: {type(exc).__name__}") from exc

    def _states(self, prefix: str, keys: list[str]) -> Iterator[tuple[str, RecordState]]:
        pipe = self._r.pipeline(transaction=False)
        for key in keys:
            pipe.hget(key, "state")
        for key, state in zip(keys, pipe.execute() if keys else [], strict=True):
            if state is not None:  # deleted since the scan
                yield key[len(prefix):], RecordState(as_str(state))

    @guard
    def records_of_holder(self, citizen_id: str) -> list[Record]:
        ids = [as_str(i) for i in self._r.lrange(self._k("holder", holder_hash(citizen_id)), 0, -1)]
        records = [r for r in (self.get_record(i) for i in ids) if r is not None]
        return sorted(records, key=lambda r: r.created_at)  # stable: insertion order within a second

    @guard
    def records_of_holders(self, citizen_ids: Sequence[str]) -> dict[str, list[Record]]:
        holders = list(dict.fromkeys(citizen_ids))
        if not holders:
            return {}
        reply = self._run("RECORDS_OF_HOLDERS", [self._k("holder", holder_hash(c)) for c in holders], [self._p])
        found = {}
        for citizen_id, records in zip(holders, reply, strict=True):
            found[citizen_id] = sorted((record_from_fields(as_str(r[0]), hash_fields(r[1:])) for r in records),
                                       key=lambda r: r.created_at)
        return found

    @guard
    def update_record_permit(
        self, record_id: str, *, expected: RecordState, permit: Permit, now: int
    ) -> Record | None:
        text = json_dumps(permit.to_dict()).decode("utf-8")
        key = self._k("record", record_id)
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
        keys = [self._k("record", record_id), self._k("delivered", record_id), self._k("retired", record_id),
                self._k("offers_of", record_id)]
        reply = self._run("RETIRE_DELIVERED", keys, [self._p, INVALID])
        if reply is None:
            return None
        return sorted((int(n), int(i)) for n, i in (as_str(item).split(":") for item in reply))
