"""Redis: the records' portraits, sealed (issuer.portrait.vault), as base64url text under ``portrait:<id>``.

A change replaces the permit (compare-and-set on the permit read), keeps the sealed portrait and appends
its audit entry in one script (issuer.store.redis.scripts.PUT_PORTRAIT).
"""

from __future__ import annotations

import functools
from typing import Any

from credential.encoding import b64url_decode, b64url_encode, json_dumps
from credential.model import Permit
from issuer.model import AuditEntry, Record, RecordState
from issuer.store import same_holder
from issuer.store.redis.audit import RedisAudit
from issuer.store.redis.client import as_str, guard, hash_fields
from issuer.store.redis.records import record_from_fields


class RedisPortraits(RedisAudit):
    @guard
    def put_portrait(
        self, record_id: str, sealed: bytes, *, expected: RecordState, permit: Permit, now: int, audit: AuditEntry
    ) -> Record | None:
        text = json_dumps(permit.to_dict()).decode("utf-8")
        district = self._record_shard(record_id)
        if district is None:
            return None
        keys = [self._d(district, "record", record_id), self._d(district, "portrait", record_id)]
        while True:  # compare-and-set on the permit read, as update_record_permit
            stored = self._r.hget(keys[0], "permit")
            current = self._record(record_id)
            if stored is None or current is None or current.state is not expected:
                return None
            same_holder(current.permit, permit)
            args: list[Any] = [expected.value, stored, text, now, b64url_encode(sealed)]
            reply, _ = self._chained_run(audit, functools.partial(self._put, keys, args), district)
            if reply is None:
                return None
            if reply != 0:
                return record_from_fields(record_id, hash_fields(reply))

    def _put(self, keys: list[str], args: list[Any], chain: list[Any]) -> Any:
        return self._run("PUT_PORTRAIT", keys, [*args, *chain])

    def _record(self, record_id: str) -> Record | None:
        district = self._record_shard(record_id)
        fields = {} if district is None else hash_fields(self._r.hgetall(self._d(district, "record", record_id)))
        return record_from_fields(record_id, fields) if fields else None

    @guard
    def get_portrait(self, record_id: str) -> bytes | None:
        district = self._record_shard(record_id)
        value = None if district is None else self._r.get(self._d(district, "portrait", record_id))
        return None if value is None else b64url_decode(as_str(value))
