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
INDEX_PAGE = 1000  # entries indexed per script call when an older key space is indexed (a script blocks Redis)
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

    @guard
    def audit_of_record(self, record_id: str, *, before: int | None = None, limit: int = 100) -> list[AuditEntry]:
        top = "+inf" if before is None else f"({int(before)}"
        members = self._run("AUDIT_OF_RECORD", [self._k("audit_of", record_id), self._k("audit")],
                            [top, max(0, int(limit))])
        return [AuditEntry(**json.loads(as_str(m))) for m in members]

    @guard
    def audit_head(self) -> tuple[int, str] | None:
        seq, digest = self._r.hmget(self._k("audit", "head"), ["seq", "hash"])
        return None if seq is None or digest is None else (int(seq), as_str(digest))

    @guard
    def index_audit(self) -> int:
        """Build the per-record index over entries written before it existed, once per key space: every
        append indexes its own entry (scripts._INDEX_ENTRY), and a marker says the older ones are done.
        Returns how many entries were read (0 once marked). Idempotent: processes starting together may
        both run it."""
        marker = self._k("audit", "indexed")
        if self._r.exists(marker):
            return 0
        head = self.audit_head()
        last = 0 if head is None else head[0]
        read = 0
        for first in range(1, last + 1, INDEX_PAGE):
            read += int(self._run("INDEX_AUDIT", [marker, self._k("audit")],
                                  [self._p, first, min(last, first + INDEX_PAGE - 1)]))
        self._r.set(marker, last)
        return read
