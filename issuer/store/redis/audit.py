"""Redis: the audit hash chain, appended by compare-and-set on its head (one Lua script per try).

``_chained_run`` is that loop for any script that appends an entry along with its own change (a record's
insert, its state change: issuer.store.redis.scripts._AUDIT), so that the change and its entry are one script.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from issuer.errors import StoreUnavailableError
from issuer.model import GENESIS, AuditEntry, chained
from issuer.store.redis.client import RedisKeyspace, as_str, guard

AUDIT_TRIES = 1000
_AUDIT_FIELDS = dataclasses.fields(AuditEntry)


def audit_json(entry: AuditEntry) -> str:
    fields = {f.name: getattr(entry, f.name) for f in _AUDIT_FIELDS}  # asdict() deep-copies: slow in bulk
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def head_moved(reply: Any) -> bool:
    """A script's {0, seq, hash}: the audit head moved (every other reply is nil, a number or strings)."""
    return isinstance(reply, list) and len(reply) == 3 and reply[0] == 0 and isinstance(reply[0], int)


class RedisAudit(RedisKeyspace):
    _audit_head: tuple[int, str]  # (seq, hash) last seen; "" before the first entry

    def _chained_run(self, entry: AuditEntry, run: Callable[[list[Any]], Any]) -> tuple[Any, AuditEntry]:
        """``run(audit args)`` until the head it chained after holds still: the script's reply and the entry
        as chained. The audit args are [prefix, seq, hash chained after, the entry's hash, its JSON]."""
        seq, last = self._audit_head  # the head this process saw last: right, one round trip; stale, two
        for _ in range(AUDIT_TRIES):  # compare-and-set on the head: concurrent appends serialise
            linked = chained(entry, seq=seq + 1, prev_hash=last or GENESIS)
            reply = run([self._p, seq, last, linked.hash, audit_json(linked)])
            if not head_moved(reply):
                if reply is not None and reply != 0:
                    self._audit_head = (linked.seq, linked.hash)
                return reply, linked
            seq, last = int(reply[1]), as_str(reply[2])  # somebody appended: chain after the head the script saw
        raise StoreUnavailableError("store unavailable: the audit chain head is contended")

    @guard
    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        keys = [self._k("audit", "head"), self._k("audit")]
        _, linked = self._chained_run(entry, lambda audit: self._run("APPEND_AUDIT", keys, audit))
        return linked

    @guard
    def list_audit(self, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        members = self._r.zrangebyscore(self._k("audit"), f"({int(after)}", "+inf", start=0, num=int(limit))
        return [AuditEntry(**json.loads(as_str(m))) for m in members]
