"""The Redis Store: several issuer and wallet processes (gunicorn workers, hosts) on one Redis or Redis Cluster.

Same semantics as issuer.sqlite_store; every read-modify-write is one Lua script (issuer.redis_scripts).
Every key starts with ``prefix``, a hash tag such as ``{ep}``: all keys of one deployment live in one
cluster slot, so multi-key scripts work on Redis Cluster (one office or city fits one master; docs/redis.md).
Times judged by the store (offer expiry, ephemeral values, counters) use the caller's ``now``; Redis TTLs
only clean up. Start-up refuses a server without ``appendonly yes`` + ``appendfsync always``
(issuer.redis_durability). Every Redis failure surfaces as StoreUnavailableError (503); commands are not
retried by the client, so a failed call is never silently applied twice.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import secrets
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry

from credential.encoding import json_dumps
from credential.model import Permit
from credential.statuslist import INVALID, StatusList, msb_to_lsb
from issuer import redis_scripts as lua
from issuer.audit import GENESIS, AuditEntry, chained
from issuer.errors import StateConflictError, StoreUnavailableError
from issuer.officers import Officer, Role
from issuer.records import PublishedStatusList, Record, RecordState
from issuer.redis_durability import check_durability
from issuer.sqlite_store import holder_hash
from issuer.store import (
    FILL_LIMIT,
    Registration,
    StatusListFullError,
    StoredOffer,
    StoredStatusList,
    StoredTrustList,
)

P = ParamSpec("P")
T = TypeVar("T")

STATUS_BITS = 2
_CANDIDATES = 16  # random indices offered per script call; below FILL_LIMIT 40 calls all missing is ~1e-16
_ALLOCATION_CALLS = 40
_AUDIT_TRIES = 1000
_MAX_INDEX = 1 << 32  # Redis bit offsets are < 2^32
_PREFIX = re.compile(r"^[^{}]*\{[A-Za-z0-9_.:-]{1,64}\}[^{}]*$")


def _guard(method: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (RedisError, RedisClusterException) as exc:
            raise StoreUnavailableError(f"store unavailable: {type(exc).__name__}") from exc

    return run


def _s(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _fields(reply: Any) -> dict[str, str]:
    """HGETALL as a dict of str, from redis-py (a dict) or from a script (a flat list)."""
    if isinstance(reply, dict):
        return {_s(k): _s(v) for k, v in reply.items()}
    items = list(reply or [])
    return {_s(items[i]): _s(items[i + 1]) for i in range(0, len(items), 2)}


def _flat(pairs: dict[str, Any]) -> list[Any]:
    return [x for item in pairs.items() for x in item]


def _tagged(kind: str, key: str) -> str:
    return f"{len(kind)}:{kind}:{key}"  # length-prefixed: ("a:b", "c") and ("a", "b:c") stay apart


def connect(url: str, *, cluster: bool = False, socket_timeout: float = 5.0) -> Any:
    """A client for ``url`` (redis:// or rediss://) without automatic retries; RedisCluster when ``cluster``."""
    options: dict[str, Any] = {"socket_timeout": socket_timeout, "socket_connect_timeout": min(socket_timeout, 2.0)}
    try:
        if cluster:
            return RedisCluster.from_url(url, **options)
        return redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), **options)
    except (RedisError, RedisClusterException) as exc:
        raise StoreUnavailableError(f"store unavailable: {type(exc).__name__}") from exc


class RedisStore:
    def __init__(self, client: Any, *, prefix: str = "{ep}", allow_unsafe_durability: bool = False,
                 check: bool = True) -> None:
        if not _PREFIX.match(prefix):
            raise ValueError("prefix must hold exactly one hash tag such as {ep}")
        self._r = client
        self._p = prefix
        self._scripts = {name: client.register_script(getattr(lua, name)) for name in (
            "INSERT_RECORD", "UPDATE_RECORD_STATE", "OPEN_STATUS_LIST", "ALLOCATE_STATUS_INDEX", "SET_STATUS",
            "STATUS_BITS", "ADD_DELIVERED", "INSERT_OFFER", "FINISH_OFFER", "INCREMENT", "PUT_OFFICER",
            "ADD_OFFICER_TOKEN", "REVOKE_OFFICER_TOKENS", "PUT_IF_NOT_OLDER", "APPEND_AUDIT", "UPDATE_RECORD_PERMIT",
            "RETIRE_DELIVERED", "REVOKE_OFFICER_TOKEN", "DELIVERIES_SIGNED_BY",
            "INSERT_REGISTRATIONS", "RECORDS_OF_HOLDERS", "OFFER_BY_CODE")}
        self._audit_head: tuple[int, str] = (0, "")  # (seq, hash) last seen; "" before the first entry
        if check:
            _guard(check_durability)(client, allow_unsafe=allow_unsafe_durability)

    @classmethod
    def from_url(cls, url: str, *, cluster: bool = False, prefix: str = "{ep}",
                 allow_unsafe_durability: bool = False) -> RedisStore:
        return cls(connect(url, cluster=cluster), prefix=prefix, allow_unsafe_durability=allow_unsafe_durability)

    def close(self) -> None:
        self._r.close()

    def _k(self, *parts: object) -> str:
        return ":".join([self._p, *map(str, parts)])

    def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        return self._scripts[script](keys=keys, args=args)

    # --- records -------------------------------------------------------------------------------------
    @staticmethod
    def _record(record_id: str, f: dict[str, str]) -> Record:
        permit = Permit.from_dict(json.loads(f["permit"]))
        return Record(record_id, permit, RecordState(f["state"]), int(f["created_at"]), int(f["updated_at"]))

    @_guard
    def insert_record(self, record: Record) -> None:
        permit = json_dumps(record.permit.to_dict()).decode("utf-8")
        keys = [self._k("record", record.id), self._k("holder", holder_hash(record.permit.holder.citizen_id))]
        if not self._run("INSERT_RECORD", keys, [record.state.value, record.permit.district, permit,
                                                 record.created_at, record.updated_at, record.id]):
            raise StateConflictError("record id already exists")

    @_guard
    def insert_registrations(self, registrations: Sequence[Registration]) -> list[AuditEntry]:
        rows = [[record.id, record.state.value, record.permit.district,
                 json_dumps(record.permit.to_dict()).decode("utf-8"), str(record.created_at), str(record.updated_at),
                 holder_hash(record.permit.holder.citizen_id), offer.offer_id, offer.code_hash, offer.tx_code_hash,
                 str(offer.expires_at), json.dumps(list(offer.configuration_ids)), offer.state, str(offer.created_at),
                 offer.pre_authorized_code or ""]
                for record, offer in ((r.record, r.offer) for r in registrations)]
        entries = [e for r in registrations for e in r.audit]
        keys = [self._k("audit", "head"), self._k("audit")]
        for _ in range(_AUDIT_TRIES):  # compare-and-set on the audit head, as append_audit
            seq, last_hash = self._r.hmget(keys[0], ["seq", "hash"])
            last_seq = 0 if seq is None else int(seq)
            prev, linked = GENESIS if last_hash is None else _s(last_hash), []
            for n, entry in enumerate(entries, start=last_seq + 1):
                linked.append(chained(entry, seq=n, prev_hash=prev))
                prev = linked[-1].hash
            batch = json.dumps({"rows": rows, "audit": [[e.hash, _audit_json(e)] for e in linked]},
                               ensure_ascii=False)
            written = int(self._run("INSERT_REGISTRATIONS", keys, [self._p, last_seq, batch]))
            if written == -1:
                raise StateConflictError("a record id, offer id or code already exists")
            if written == 1:
                return linked
        raise StoreUnavailableError("store unavailable: the audit chain head is contended")

    @_guard
    def get_record(self, record_id: str) -> Record | None:
        fields = _fields(self._r.hgetall(self._k("record", record_id)))
        return self._record(record_id, fields) if fields else None

    @_guard
    def update_record_state(
        self, record_id: str, *, expected: RecordState, new: RecordState, status_value: int, now: int
    ) -> Record | None:
        keys = [self._k("record", record_id), self._k("delivered", record_id), self._k("retired", record_id)]
        reply = self._run("UPDATE_RECORD_STATE", keys, [self._p, expected.value, new.value, now, status_value])
        return None if reply is None else self._record(record_id, _fields(reply))

    @_guard
    def records_of_holder(self, citizen_id: str) -> list[Record]:
        ids = [_s(i) for i in self._r.lrange(self._k("holder", holder_hash(citizen_id)), 0, -1)]
        records = [r for r in (self.get_record(i) for i in ids) if r is not None]
        return sorted(records, key=lambda r: r.created_at)  # stable: insertion order within a second

    @_guard
    def records_of_holders(self, citizen_ids: Sequence[str]) -> dict[str, list[Record]]:
        holders = list(dict.fromkeys(citizen_ids))
        if not holders:
            return {}
        reply = self._run("RECORDS_OF_HOLDERS", [self._k("holder", holder_hash(c)) for c in holders], [self._p])
        found = {}
        for citizen_id, records in zip(holders, reply, strict=True):
            found[citizen_id] = sorted((self._record(_s(r[0]), _fields(r[1:])) for r in records),
                                       key=lambda r: r.created_at)
        return found

    @_guard
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
            old = current.permit
            if (old.type, old.holder.citizen_id, old.district) != (permit.type, permit.holder.citizen_id,
                                                                    permit.district):
                raise ValueError("an endorsement keeps the type, the holder and the district")
            reply = self._run("UPDATE_RECORD_PERMIT", [key], [expected.value, stored, text, now])
            if reply is None:
                return None
            if reply != 0:
                return self._record(record_id, _fields(reply))

    @_guard
    def retire_delivered(self, record_id: str, *, now: int) -> list[tuple[int, int]] | None:
        keys = [self._k("record", record_id), self._k("delivered", record_id), self._k("retired", record_id),
                self._k("offers_of", record_id)]
        reply = self._run("RETIRE_DELIVERED", keys, [self._p, INVALID])
        if reply is None:
            return None
        return sorted((int(n), int(i)) for n, i in (_s(item).split(":") for item in reply))

    # --- status lists --------------------------------------------------------------------------------
    @_guard
    def open_status_list(self, list_no: int, size: int) -> bool:
        return bool(self._run("OPEN_STATUS_LIST", [self._k("sl", list_no), self._k("sl", "numbers")],
                              [list_no, size]))

    @_guard
    def status_list_numbers(self) -> list[int]:
        return [int(n) for n in self._r.zrange(self._k("sl", "numbers"), 0, -1)]

    @_guard
    def allocate_status_index(self, list_no: int, size: int) -> int:
        keys = [self._k("sl", list_no), self._k("sl", "numbers"), self._k("sl", list_no, "used")]
        for _ in range(_ALLOCATION_CALLS):
            candidates = [secrets.randbits(48) for _ in range(_CANDIDATES)]
            idx = int(self._run("ALLOCATE_STATUS_INDEX", keys, [list_no, size, repr(FILL_LIMIT), *candidates]))
            if idx == -1:
                raise StatusListFullError(list_no)
            if idx >= 0:
                return idx
        raise StatusListFullError(list_no)

    @_guard
    def set_status(self, list_no: int, idx: int, value: int) -> None:
        if not 0 <= idx < _MAX_INDEX or not self._run(
                "SET_STATUS", [self._k("sl", list_no), self._k("sl", list_no, "used"),
                               self._k("sl", list_no, "bits")], [idx, value]):
            raise LookupError(f"status index {list_no}/{idx} was never allocated")

    @_guard
    def status_bits(self, list_no: int) -> StatusList:
        size, raw = self._run("STATUS_BITS", [self._k("sl", list_no), self._k("sl", list_no, "bits")], [])
        if size is None:
            raise LookupError(f"status list {list_no} was never opened")
        return status_list_from_redis(raw or b"", int(size))

    @_guard
    def status_generation(self, list_no: int) -> int:
        generation = self._r.hget(self._k("sl", list_no), "generation")
        if generation is None:
            raise LookupError(f"status list {list_no} was never opened")
        return int(generation)

    # --- delivered credentials -----------------------------------------------------------------------
    @_guard
    def add_delivered(self, record_id: str, list_no: int, idx: int, now: int, *, kid: str | None = None) -> bool:
        pair = f"{int(list_no)}:{int(idx)}"
        keys = [self._k("record", record_id), self._k("delivered", record_id),
                self._k("signed", kid) if kid is not None else self._k("record", record_id)]
        return bool(self._run("ADD_DELIVERED", keys, [pair, "" if kid is None else f"{pair}:{record_id}"]))

    @_guard
    def deliveries_signed_by(self, kid: str) -> list[tuple[str, int, int]]:
        items = (_s(item).split(":", 2) for item in self._run("DELIVERIES_SIGNED_BY", [self._k("signed", kid)],
                                                              [self._p]))
        return sorted((record_id, int(n), int(i)) for n, i, record_id in items)

    @_guard
    def delivered(self, record_id: str) -> list[tuple[int, int]]:
        items = [_s(item).split(":") for item in self._r.lrange(self._k("delivered", record_id), 0, -1)]
        return [(int(n), int(i)) for n, i in items]

    # --- offers --------------------------------------------------------------------------------------
    @staticmethod
    def _offer(offer_id: str, f: dict[str, str]) -> StoredOffer | None:
        if not f:
            return None
        return StoredOffer(offer_id, f["record_id"], f["code_hash"], f["tx_code_hash"], f.get("code"),
                           int(f["expires_at"]), tuple(json.loads(f["configuration_ids"])), f["state"],
                           int(f["created_at"]))

    @_guard
    def insert_offer(self, offer: StoredOffer) -> None:
        fields: dict[str, Any] = {
            "record_id": offer.record_id, "code_hash": offer.code_hash, "tx_code_hash": offer.tx_code_hash,
            "expires_at": offer.expires_at, "configuration_ids": json.dumps(list(offer.configuration_ids)),
            "state": offer.state, "created_at": offer.created_at}
        if offer.pre_authorized_code is not None:
            fields["code"] = offer.pre_authorized_code
        keys = [self._k("offer", offer.offer_id), self._k("offer_code", offer.code_hash),
                self._k("offers_of", offer.record_id)]
        if not self._run("INSERT_OFFER", keys, [offer.offer_id, *_flat(fields)]):
            raise StateConflictError("offer id or code already exists")

    @_guard
    def get_offer(self, offer_id: str) -> StoredOffer | None:
        return self._offer(offer_id, _fields(self._r.hgetall(self._k("offer", offer_id))))

    @_guard
    def get_offer_by_code_hash(self, code_hash: str) -> StoredOffer | None:
        reply = self._run("OFFER_BY_CODE", [self._k("offer_code", code_hash)], [self._p])
        return None if not reply else self._offer(_s(reply[0]), _fields(reply[1:]))

    @_guard
    def finish_offer(self, code_hash: str, *, state: str, now: int) -> bool:
        if state not in ("redeemed", "burned"):
            raise ValueError(f"an offer cannot finish as {state!r}")
        return bool(self._run("FINISH_OFFER", [self._k("offer_code", code_hash)], [self._p, state, now]))

    # --- ephemeral single-use values and counters ----------------------------------------------------
    @staticmethod
    def _live(stored: Any, now: int) -> str | None:
        if stored is None:
            return None
        expires_at, _, value = _s(stored).partition("|")
        return value if int(expires_at) > now else None

    @_guard
    def put_ephemeral(self, kind: str, key: str, value: str, ttl: int, now: int) -> None:
        # The TTL only cleans up (relative, so a test clock far from the server's does not matter).
        self._r.set(self._k("eph", _tagged(kind, key)), f"{now + ttl}|{value}", ex=max(int(ttl), 1))

    @_guard
    def get_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        return self._live(self._r.get(self._k("eph", _tagged(kind, key))), now)

    @_guard
    def take_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        return self._live(self._r.getdel(self._k("eph", _tagged(kind, key))), now)  # GETDEL: one winner

    @_guard
    def increment(self, kind: str, key: str, ttl: int, now: int) -> int:
        return int(self._run("INCREMENT", [self._k("cnt", _tagged(kind, key))], [now, max(int(ttl), 1)]))

    # --- officers ------------------------------------------------------------------------------------
    @_guard
    def put_officer(self, officer: Officer) -> None:
        fields = {"name": officer.name, "role": officer.role.value, "districts": json.dumps(list(officer.districts)),
                  "disabled": int(officer.disabled)}
        self._run("PUT_OFFICER", [self._k("officer", officer.id), self._k("officers")], [officer.id, *_flat(fields)])

    @_guard
    def get_officer(self, officer_id: str) -> Officer | None:
        f = _fields(self._r.hgetall(self._k("officer", officer_id)))
        if not f:
            return None
        return Officer(officer_id, f["name"], Role(f["role"]), tuple(json.loads(f["districts"])), f["disabled"] == "1")

    @_guard
    def list_officers(self) -> list[Officer]:
        ids = sorted(_s(i) for i in self._r.smembers(self._k("officers")))
        return [o for o in (self.get_officer(i) for i in ids) if o is not None]

    @_guard
    def add_officer_token(self, token_hash: str, officer_id: str, *, expires_at: int, now: int) -> None:
        self._run("ADD_OFFICER_TOKEN", [self._k("otoken", token_hash), self._k("otokens", officer_id)],
                  [token_hash, officer_id, expires_at, now])

    @_guard
    def officer_for_token(self, token_hash: str, now: int) -> str | None:
        officer_id, expires_at, revoked = self._r.hmget(self._k("otoken", token_hash),
                                                        ["officer_id", "expires_at", "revoked"])
        if officer_id is None or _s(revoked) != "0" or int(expires_at) <= now:
            return None
        return _s(officer_id)

    @_guard
    def revoke_officer_tokens(self, officer_id: str) -> int:
        return int(self._run("REVOKE_OFFICER_TOKENS", [self._k("otokens", officer_id)], [self._p]))

    @_guard
    def revoke_officer_token(self, token_hash: str) -> str | None:
        officer_id = self._run("REVOKE_OFFICER_TOKEN", [self._k("otoken", token_hash)], [])
        return None if officer_id is None else _s(officer_id)

    # --- publication ---------------------------------------------------------------------------------
    @_guard
    def put_published_status_list(self, list_no: int, published: PublishedStatusList, *, generation: int) -> bool:
        fields = {"uri": published.uri, "token": published.token, "etag": published.etag, "iat": published.iat}
        return bool(self._run("PUT_IF_NOT_OLDER", [self._k("published", list_no)],
                              ["generation", generation, *_flat(fields)]))

    @_guard
    def get_published_status_list(self, list_no: int) -> StoredStatusList | None:
        f = _fields(self._r.hgetall(self._k("published", list_no)))
        if not f:
            return None
        return StoredStatusList(PublishedStatusList(f["uri"], f["token"], f["etag"], int(f["iat"])),
                                int(f["generation"]))

    @_guard
    def get_trust_list(self) -> StoredTrustList | None:
        f = _fields(self._r.hgetall(self._k("trust_list")))
        return StoredTrustList(int(f["version"]), f["fingerprint"], f["token"], int(f["iat"])) if f else None

    @_guard
    def put_trust_list(self, trust_list: StoredTrustList) -> bool:
        fields = {"fingerprint": trust_list.fingerprint, "token": trust_list.token, "iat": trust_list.iat}
        return bool(self._run("PUT_IF_NOT_OLDER", [self._k("trust_list")],
                              ["version", trust_list.version, *_flat(fields)]))

    # --- audit ---------------------------------------------------------------------------------------
    @_guard
    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        head_key, log_key = self._k("audit", "head"), self._k("audit")
        seq, last = self._audit_head  # the head this process saw last: right, one round trip; stale, two
        for _ in range(_AUDIT_TRIES):  # compare-and-set on the head: concurrent appends serialise
            linked = chained(entry, seq=seq + 1, prev_hash=last or GENESIS)
            reply = self._run("APPEND_AUDIT", [head_key, log_key], [seq, last, linked.hash, _audit_json(linked)])
            if reply == 1:
                self._audit_head = (linked.seq, linked.hash)
                return linked
            seq, last = int(reply[0]), _s(reply[1])  # somebody appended: chain after the head the script saw
        raise StoreUnavailableError("store unavailable: the audit chain head is contended")

    @_guard
    def list_audit(self, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        members = self._r.zrangebyscore(self._k("audit"), f"({int(after)}", "+inf", start=0, num=int(limit))
        return [AuditEntry(**json.loads(_s(m))) for m in members]


def _audit_json(entry: AuditEntry) -> str:
    fields = {f.name: getattr(entry, f.name) for f in _AUDIT_FIELDS}  # asdict() deep-copies: slow in bulk
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


_AUDIT_FIELDS = dataclasses.fields(AuditEntry)


def status_list_from_redis(raw: bytes, size: int) -> StatusList:
    """A 2-bit list from a Redis BITFIELD u2 value (MSB-first, and only as long as its highest set entry)."""
    length = (size * STATUS_BITS + 7) // 8
    data = bytes(raw[:length]).ljust(length, b"\0")
    return StatusList(size, STATUS_BITS, msb_to_lsb(data, STATUS_BITS))
