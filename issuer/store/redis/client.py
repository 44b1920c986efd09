"""Redis: the client, the key space of shards under one hash-tagged prefix, and the mapping of failures to 503.

The key space is cut into shards, each one hash tag and so one cluster slot: the global shard ``{ep}`` (officers,
ephemeral values, publication, the indexes that find a record's, an offer's or a status list's district) and one
shard per district, ``{ep/110105}`` (the district's records, offers, status lists and audit chain), so that a
Redis Cluster spreads a city over its masters while every atomic step stays one script in one slot.
Every Redis failure surfaces as StoreUnavailableError; commands are not retried by the client, so a
failed call is never silently applied twice.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError
from redis.retry import Retry

from issuer.errors import StoreUnavailableError

P = ParamSpec("P")
T = TypeVar("T")


def guard(method: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except (RedisError, RedisClusterException) as exc:
            raise StoreUnavailableError(f"store unavailable: {type(exc).__name__}") from exc

    return run


def as_str(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def hash_fields(reply: Any) -> dict[str, str]:
    """HGETALL as a dict of str, from redis-py (a dict) or from a script (a flat list)."""
    if isinstance(reply, dict):
        return {as_str(k): as_str(v) for k, v in reply.items()}
    items = list(reply or [])
    return {as_str(items[i]): as_str(items[i + 1]) for i in range(0, len(items), 2)}


def flat(pairs: dict[str, Any]) -> list[Any]:
    return [x for item in pairs.items() for x in item]


def tagged(kind: str, key: str) -> str:
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


_DISTRICT = re.compile(r"^[0-9A-Za-z_-]{1,16}$")
CACHED = 100_000  # record -> district pairs remembered per process (they never change)


def shard_prefix(prefix: str, district: str) -> str:
    """``{ep}`` for the global shard (district ""), ``{ep/110105}`` for a district's: its own hash tag."""
    if not district:
        return prefix
    if not _DISTRICT.match(district):
        raise ValueError(f"a district code for a key is 1-16 letters or digits, not {district[:20]!r}")
    head, _, tail = prefix.partition("}")
    return f"{head}/{district}}}{tail}"


class RedisKeyspace:
    """What every part shares: the client ``_r``, the prefix ``_p``, the registered Lua scripts, and the
    replication a write waits for (``_wait``: replicas, ms; 0: none) before it is acknowledged."""

    _r: Any
    _p: str
    _scripts: dict[str, Any]
    _wait: tuple[int, int]
    _record_shards: dict[str, str]

    def _k(self, *parts: object) -> str:
        """A key of the global shard."""
        return ":".join([self._p, *map(str, parts)])

    def _s(self, district: str) -> str:
        """The prefix of a district's shard ("" the global one)."""
        return shard_prefix(self._p, district)

    def _d(self, district: str, *parts: object) -> str:
        """A key of a district's shard."""
        return ":".join([self._s(district), *map(str, parts)])

    def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        replicas, timeout = self._wait
        if not replicas:
            return self._scripts[script](keys=keys, args=args)
        # The script and WAIT on one connection to the slot's master: WAIT counts the replicas that have this
        # connection's writes, so the reply leaves only once a replica holds them (a failover keeps them).
        node = self._r.get_node_from_key(keys[0]).redis_connection if hasattr(self._r, "get_node_from_key") \
            else self._r
        pipe = node.pipeline(transaction=False)
        self._scripts[script](keys=keys, args=args, client=pipe)
        pipe.execute_command("WAIT", replicas, timeout)
        try:
            reply, acked = pipe.execute()
        except RedisError:
            reset = getattr(getattr(self._r, "nodes_manager", None), "initialize", None)
            if reset is not None:  # a failover moved the slot: the next call asks the new master
                reset()
            raise
        if int(acked) < replicas:
            raise StoreUnavailableError(f"store unavailable: the write reached {acked} of {replicas} replicas")
        return reply

    def _record_shard(self, record_id: str) -> str | None:
        """The district whose shard holds the record (None: no such record was ever claimed)."""
        found = self._record_shards.get(record_id)
        if found is None:
            value = self._r.hget(self._k("rdist"), record_id)
            if value is None:
                return None
            found = as_str(value)
            if len(self._record_shards) >= CACHED:
                self._record_shards.clear()
            self._record_shards[record_id] = found
        return found
