"""Redis: the audit hash chains, one per shard, each appended by compare-and-set on its head (one Lua script per try).

An entry about a record goes to the chain of the record's district (its shard), every other entry to the
global chain (chain ""): so a record's change and its entry are one script in one slot. ``_chained_run`` is
that loop for any script that appends an entry along with its own change (a record's insert, its state
change: issuer.store.redis.scripts._AUDIT). The chains are verified one by one (issuer.audit); their heads
are noted together (issuer.audit.heads).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from typing import Any

from issuer.errors import StoreUnavailableError
from issuer.model import GENESIS, AuditEntry, chained
from issuer.store.redis.client import RedisKeyspace, as_str, guard

AUDIT_TRIES = 1000
INDEX_PAGE = 1000  # entries indexed per script call when an older key space is indexed (a script blocks Redis)
_AUDIT_FIELDS = dataclasses.fields(AuditEntry)


def audit_json(entry: AuditEntry) -> str:
    """The stored form: a JSON array in AuditEntry's field order (seq, time, officer, action, record_id,
    reason, outcome, prev_hash, hash, written): no field names, ~90 bytes an entry fewer than an object. The
    scripts read the record id at index 5 (scripts._INDEX_ENTRY)."""
    fields = [getattr(entry, f.name) for f in _AUDIT_FIELDS]  # asdict() deep-copies: slow in bulk
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def audit_entry(stored: Any) -> AuditEntry:
    return AuditEntry(*json.loads(as_str(stored)))


def written_now() -> int:
    """AuditEntry.written: this machine's clock in µs (orders the chains' entries within one second)."""
    return time.time_ns() // 1000


def head_moved(reply: Any) -> bool:
    """A script's {0, seq, hash}: the audit head moved (every other reply is nil, a number or strings)."""
    return isinstance(reply, list) and len(reply) == 3 and reply[0] == 0 and isinstance(reply[0], int)


class RedisAudit(RedisKeyspace):
    _audit_heads: dict[str, tuple[int, str]]  # chain -> (seq, hash) last seen; "" before the first entry

    def _chained_run(self, entry: AuditEntry, run: Callable[[list[Any]], Any], chain: str) -> tuple[Any, AuditEntry]:
        """``run(audit args)`` until the head it chained after holds still: the script's reply and the entry
        as chained. The audit args are [the chain's shard prefix, seq, hash chained after, the entry's hash,
        its JSON]."""
        seq, last = self._audit_heads.get(chain, (0, ""))  # last seen here: right, one round trip; stale, two
        for _ in range(AUDIT_TRIES):  # compare-and-set on the head: concurrent appends serialise
            linked = chained(entry, seq=seq + 1, prev_hash=last or GENESIS, written=written_now())
            reply = run([self._s(chain), seq, last, linked.hash, audit_json(linked)])
            if not head_moved(reply):
                if reply is not None and reply != 0:
                    self._audit_heads[chain] = (linked.seq, linked.hash)
                return reply, linked
            seq, last = int(reply[1]), as_str(reply[2])  # somebody appended: chain after the head the script saw
        raise StoreUnavailableError("store unavailable: the audit chain head is contended")

    def _chain_of(self, record_id: str | None) -> str:
        """The chain of entries about ``record_id``: its district's; the global one for none or an unknown one."""
        return (self._record_shard(record_id) or "") if record_id is not None else ""

    @guard
    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        chain = self._chain_of(entry.record_id)
        keys = [self._d(chain, "audit", "head"), self._d(chain, "audit")]
        _, linked = self._chained_run(entry, lambda audit: self._run("APPEND_AUDIT", keys, audit), chain)
        return linked

    @guard
    def audit_chains(self) -> list[str]:
        return ["", *sorted(as_str(d) for d in self._r.smembers(self._k("districts")))]

    @guard
    def list_audit(self, *, after: int = 0, limit: int = 100, chain: str = "") -> list[AuditEntry]:
        if int(limit) <= 0:
            return []
        members = self._r.lrange(self._d(chain, "audit"), max(0, int(after)), max(0, int(after)) + int(limit) - 1)
        return [audit_entry(m) for m in members]

    @guard
    def audit_of_record(self, record_id: str, *, before: int | None = None, limit: int = 100) -> list[AuditEntry]:
        top = "+inf" if before is None else f"({int(before)}"
        chain = self._chain_of(record_id)
        members = self._run("AUDIT_OF_RECORD", [self._d(chain, "audit_of", record_id), self._d(chain, "audit")],
                            [top, max(0, int(limit))])
        return [audit_entry(m) for m in members]

    @guard
    def audit_head(self, chain: str = "") -> tuple[int, str] | None:
        seq, digest = self._r.hmget(self._d(chain, "audit", "head"), ["seq", "hash"])
        return None if seq is None or digest is None else (int(seq), as_str(digest))

    @guard
    def index_audit(self) -> int:
        """Build the per-record index over entries written before it existed, once per key space: every
        append indexes its own entry (scripts._INDEX_ENTRY), and a marker says the older ones are done.
        Returns how many entries were read (0 once marked). Idempotent: processes starting together may
        both run it."""
        read = 0
        for chain in self.audit_chains():
            marker = self._d(chain, "audit", "indexed")
            if self._r.exists(marker):
                continue
            head = self.audit_head(chain)
            last = 0 if head is None else head[0]
            for first in range(1, last + 1, INDEX_PAGE):
                read += int(self._run("INDEX_AUDIT", [marker, self._d(chain, "audit")],
                                      [self._s(chain), first, min(last, first + INDEX_PAGE - 1)]))
            self._r.set(marker, last)
        return read
