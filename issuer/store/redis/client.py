"""Redis: the client, the key space under one hash-tagged prefix, and the mapping of failures to 503.

Every Redis failure surfaces as StoreUnavailableError; commands are not retried by the client, so a
failed call is never silently applied twice.
"""

from __future__ import annotations

import functools
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


class RedisKeyspace:
    """What every part shares: the client ``_r``, the prefix ``_p`` and the registered Lua scripts."""

    _r: Any
    _p: str
    _scripts: dict[str, Any]

    def _k(self, *parts: object) -> str:
        return ":".join([self._p, *map(str, parts)])

    def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        return self._scripts[script](keys=keys, args=args)
