"""Refuse a Redis that may lose acknowledged writes: ``appendonly yes`` and ``appendfsync always`` or nothing.

Debian's redis-server ships with ``appendonly no``: a revocation acknowledged to an officer could vanish with
the next power cut. Every node is asked (CONFIG GET; where CONFIG is disabled, INFO persistence, which shows
whether the AOF is on but not its fsync policy, so that case is refused too). ``allow_unsafe=True`` starts
anyway and logs a loud warning, for development only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import redis

from issuer.errors import IssuerError

log = logging.getLogger(__name__)

REQUIRED = {"appendonly": "yes", "appendfsync": "always"}


class UnsafeDurabilityError(IssuerError):
    """The Redis server(s) may lose acknowledged writes; ``problems`` names each node and setting."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("Redis is not configured for durable writes: " + "; ".join(problems)
                         + " (set `appendonly yes` and `appendfsync always`, see docs/redis.md)")
        self.problems = problems


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def node_problems(label: str, client: Any) -> list[str]:
    """What is wrong with one node's persistence settings ([] when it is durable)."""
    found: dict[str, str] = {}
    try:
        for name in REQUIRED:
            reply = client.config_get(name)  # {b"appendonly": b"yes"} (or str keys with decode_responses)
            found[name] = _text(reply.get(name.encode(), reply.get(name, "")))
    except redis.exceptions.ResponseError:  # CONFIG renamed away (managed Redis): fall back to INFO
        info = client.info("persistence")
        if str(info.get("aof_enabled", 0)) != "1":
            return [f"{label}: appendonly is not yes (INFO persistence aof_enabled={info.get('aof_enabled')})"]
        return [f"{label}: CONFIG is disabled, so appendfsync cannot be verified to be always"]
    return [f"{label}: {name} is {found[name]!r}, not {want!r}"
            for name, want in REQUIRED.items() if found[name] != want]


def cluster_nodes(client: Any) -> Iterable[tuple[str, Any]]:
    """(label, plain client) of every node of a RedisCluster, or the one server of a Redis."""
    get_nodes = getattr(client, "get_nodes", None)
    if get_nodes is None:
        kwargs = client.connection_pool.connection_kwargs
        yield f"{kwargs.get('host')}:{kwargs.get('port')}", client
        return
    for node in get_nodes():
        yield node.name, node.redis_connection


def check_durability(client: Any, *, allow_unsafe: bool) -> None:
    """Raise UnsafeDurabilityError unless every node fsyncs each write; with ``allow_unsafe``, warn loudly."""
    problems = tuple(p for label, node in cluster_nodes(client) for p in node_problems(label, node))
    if not problems:
        return
    if not allow_unsafe:
        raise UnsafeDurabilityError(problems)
    log.warning("!" * 60)
    log.warning("UNSAFE: Redis may LOSE acknowledged permits, revocations and audit entries on a crash: %s",
                "; ".join(problems))
    log.warning("allow_unsafe_durability is set: never run a real office like this (docs/redis.md)")
    log.warning("!" * 60)


def ephemeral_problems(label: str, client: Any) -> list[str]:
    """What is wrong with the ephemeral server's persistence ([] when safe). Its values only grant (a nonce, an
    access token, a delivery right), so losing them all is safe, but a server that comes back with an *older*
    copy would revive values already spent (a nonce, a DPoP jti): it persists nothing (``appendonly no`` and
    ``save ""``), or every write (``appendonly yes`` + ``appendfsync always``), never snapshots or ``everysec``."""
    try:
        found = {name: _text(next(iter(client.config_get(name).values()), ""))
                 for name in ("appendonly", "appendfsync", "save")}
    except redis.exceptions.ResponseError:
        return [f"{label}: CONFIG is disabled, so its persistence cannot be verified (see docs/redis.md)"]
    if found["appendonly"] == "yes":
        return [] if found["appendfsync"] == "always" else [
            f"{label}: appendonly yes with appendfsync {found['appendfsync']!r}: a crash may revive spent values"]
    return [] if not found["save"].strip() else [
        f"{label}: RDB snapshots (save {found['save']!r}): a restart would revive values spent since the snapshot; "
        "set save \"\" (or appendfsync always)"]


def check_ephemeral_durability(client: Any, *, allow_unsafe: bool) -> None:
    """Raise UnsafeDurabilityError for an ephemeral server that could come back with spent values."""
    problems = tuple(p for label, node in cluster_nodes(client) for p in ephemeral_problems(label, node))
    if not problems:
        return
    if not allow_unsafe:
        raise UnsafeDurabilityError(problems)
    log.warning("UNSAFE: the ephemeral Redis may revive spent nonces and tokens after a crash: %s",
                "; ".join(problems))
