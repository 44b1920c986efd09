"""Redis: the audit hash chain, appended by compare-and-set on its head (one Lua script per try)."""

from __future__ import annotations

import dataclasses
import json

from issuer.errors import StoreUnavailableError
from issuer.model import GENESIS, AuditEntry, chained
from issuer.store.redis.client import RedisKeyspace, as_str, guard

AUDIT_TRIES = 1000
_AUDIT_FIELDS = dataclasses.fields(AuditEntry)


def audit_json(entry: AuditEntry) -> str:
    fields = {f.name: getattr(entry, f.name) for f in _AUDIT_FIELDS}  # asdict() deep-copies: slow in bulk
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


class RedisAudit(RedisKeyspace):
    _audit_head: tuple[int, str]  # (seq, hash) last seen; "" before the first entry

    @guard
    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        head_key, log_key = self._k("audit", "head"), self._k("audit")
        seq, last = self._audit_head  # the head this process saw last: right, one round trip; stale, two
        for _ in range(AUDIT_TRIES):  # compare-and-set on the head: concurrent appends serialise
            linked = chained(entry, seq=seq + 1, prev_hash=last or GENESIS)
            reply = self._run("APPEND_AUDIT", [head_key, log_key], [seq, last, linked.hash, audit_json(linked)])
            if reply == 1:
                self._audit_head = (linked.seq, linked.hash)
                return linked
            seq, last = int(reply[0]), as_str(reply[1])  # somebody appended: chain after the head the script saw
        raise StoreUnavailableError("store unavailable: the audit chain head is contended")

    @guard
    def list_audit(self, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        members = self._r.zrangebyscore(self._k("audit"), f"({int(after)}", "+inf", start=0, num=int(limit))
        return [AuditEntry(**json.loads(as_str(m))) for m in members]
