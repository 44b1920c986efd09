"""The Redis Store: several issuer and wallet processes (gunicorn workers, hosts) on one Redis or Redis Cluster.

Same semantics as issuer.sqlite_store; every read-modify-write is one Lua script (issuer.redis_scripts).
Every key starts with ``prefix``, a hash tag such as ``{ep}`` (the global shard), or with a district's own tag
``{ep/110105}`` (that district's records, offers, status lists and audit chain): a Redis Cluster spreads the
districts of a city over its masters, and every atomic step is one script in one shard (docs/redis.md).
``wait_replicas``: every script's reply waits until that many replicas hold its writes (WAIT), so a failover
that promotes a replica keeps every acknowledged write.
Times judged by the store (offer expiry, ephemeral values, counters) use the caller's ``now``; Redis TTLs
only clean up. Start-up refuses a server without ``appendonly yes`` + ``appendfsync always``
(issuer.redis_durability), and a key space written before secrets were kept as keyed hashes
(keyspace_format.py). The short-lived kinds (issuer.store.short_lived) may live on a second server that
persists nothing (``ephemeral``; refused if it could come back with an older copy: docs/redis.md). Every Redis failure surfaces as StoreUnavailableError (503); commands are not
retried by the client, so a failed call is never silently applied twice.

The methods live in one-concept parts under issuer/redisdb/ (client and key space, records, status lists
and deliveries, offers, ephemeral values, officers, publication, audit), all sharing this store's client.
"""

from __future__ import annotations

import re
from typing import Any

from issuer.store.redis import pickup_scripts
from issuer.store.redis import scripts as lua
from issuer.store.redis.audit import RedisAudit
from issuer.store.redis.client import connect, guard
from issuer.store.redis.durability import check_durability, check_ephemeral_durability
from issuer.store.redis.ephemeral import RedisEphemeral
from issuer.store.redis.keyspace_format import StoreFormatError, check_format
from issuer.store.redis.offers import RedisOffers
from issuer.store.redis.officers import RedisOfficers
from issuer.store.redis.pickup import RedisPickup
from issuer.store.redis.portraits import RedisPortraits
from issuer.store.redis.publication import RedisPublication
from issuer.store.redis.records import RedisRecords
from issuer.store.redis.requests import RedisRequests
from issuer.store.redis.status import STATUS_BITS, RedisDeliveries, RedisStatusLists, status_list_from_redis

__all__ = ["STATUS_BITS", "RedisStore", "StoreFormatError", "connect", "status_list_from_redis"]

_PREFIX = re.compile(r"^[^{}]*\{[A-Za-z0-9_.:-]{1,64}\}[^{}]*$")
_SCRIPTS = ("INSERT_RECORD", "UPDATE_RECORD_STATE", "OPEN_STATUS_LIST", "ALLOCATE_STATUS_INDEX", "SET_STATUS",
            "STATUS_BITS", "ADD_DELIVERED", "INSERT_OFFER", "FINISH_OFFER", "INCREMENT", "PUT_OFFICER",
            "ADD_OFFICER_TOKEN", "REVOKE_OFFICER_TOKENS", "PUT_IF_NOT_OLDER", "APPEND_AUDIT", "UPDATE_RECORD_PERMIT",
            "RETIRE_DELIVERED", "REVOKE_OFFICER_TOKEN", "DELIVERIES_SIGNED_BY",
            "INSERT_REGISTRATIONS", "BULK_BATCH_DONE", "CLAIM", "OFFER_BY_CODE", "REGISTER_STATUS_LIST",
            "ADOPT_STATUS_LIST", "INSERT_OFFICER",
            "CHANGE_OFFICER", "STORE_FORMAT", "AUDIT_OF_RECORD", "OFFERS_OF_RECORD", "INDEX_AUDIT",
            "RETIRE_INDICES", "INSERT_REQUEST", "UPDATE_REQUEST", "INSERT_NOTIFICATION", "UPDATE_NOTIFICATION",
            "SET_OFFICER_SECRET", "END_OFFICER_SESSIONS", "USE_TOTP_STEP", "PUT_PORTRAIT")
_PICKUP_SCRIPTS = ("EPHEMERAL_STEP", "REDEEM_OFFER", "ALLOCATE_DELIVERED")


class RedisStore(RedisRecords, RedisPickup, RedisStatusLists, RedisDeliveries, RedisOffers, RedisEphemeral,
                 RedisOfficers, RedisPublication, RedisPortraits, RedisAudit, RedisRequests):
    def __init__(self, client: Any, *, prefix: str = "{ep}", allow_unsafe_durability: bool = False,
                 check: bool = True, wait_replicas: int = 0, wait_ms: int = 2000,
                 ephemeral: Any | None = None) -> None:
        """``ephemeral``: a client of a second server for the short-lived kinds (issuer.store.short_lived), kept
        off the fsync'd path; None: they live on ``client`` too (docs/redis.md weighs the two). Writes to it
        wait for no replica (``wait_replicas`` is the durable server's)."""
        if not _PREFIX.match(prefix):
            raise ValueError("prefix must hold exactly one hash tag such as {ep}")
        self._r = client
        self._e = client if ephemeral is None else ephemeral
        self._p = prefix
        self._scripts = {name: client.register_script(getattr(lua, name)) for name in _SCRIPTS}
        self._scripts |= {name: client.register_script(getattr(pickup_scripts, name)) for name in _PICKUP_SCRIPTS}
        self._wait = (max(0, int(wait_replicas)), max(1, int(wait_ms)))
        self._record_shards = {}
        self._list_shards = {}
        self._offer_shards = {}
        self._audit_heads = {}  # chain -> (seq, hash) last seen
        if check:
            guard(check_durability)(client, allow_unsafe=allow_unsafe_durability)
            if ephemeral is not None:
                guard(check_ephemeral_durability)(ephemeral, allow_unsafe=allow_unsafe_durability)
        guard(check_format)(self._run, prefix, self._k("format"), self._k("audit", "head"))
        self.index_audit()

    @classmethod
    def from_url(cls, url: str, *, cluster: bool = False, prefix: str = "{ep}",
                 allow_unsafe_durability: bool = False, wait_replicas: int = 0,
                 ephemeral_url: str | None = None) -> RedisStore:
        """``ephemeral_url``: the second server of the short-lived kinds (a plain Redis, even beside a cluster)."""
        return cls(connect(url, cluster=cluster), prefix=prefix, allow_unsafe_durability=allow_unsafe_durability,
                   wait_replicas=wait_replicas, ephemeral=None if not ephemeral_url else connect(ephemeral_url))

    def shard_of(self, district: str) -> str:
        return district

    def close(self) -> None:
        self._r.close()
        if self._e is not self._r:
            self._e.close()
