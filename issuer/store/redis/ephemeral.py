"""Redis: the wallet API's ephemeral values (GETDEL: taken by exactly one caller), counters (by script), and the
sequences of document numbers (INCR, no TTL: kept for good).

Expiry is judged by the caller's ``now`` stored with the value; Redis TTLs only clean up. Short-lived kinds
(issuer.store.short_lived: nonces, access tokens, DPoP proof ids, rate counters) go to the ephemeral client
``_e``: the same server by default, or a second one kept off the fsync'd path (docs/redis.md); every other
kind, and the sequences, stay on the durable server.
"""

from __future__ import annotations

from typing import Any

from issuer.store import EphemeralResult, EphemeralStep, short_lived
from issuer.store.redis.client import RedisKeyspace, as_str, guard, tagged


def live_value(stored: Any, now: int) -> str | None:
    if stored is None:
        return None
    expires_at, _, value = as_str(stored).partition("|")
    return value if int(expires_at) > now else None


class RedisEphemeral(RedisKeyspace):
    _e: Any  # the client of the short-lived kinds (``_r`` itself unless a separate ephemeral server is given)

    def _on(self, kind: str) -> Any:
        return self._e if short_lived(kind) else self._r

    def _eph_key(self, kind: str, key: str) -> str:
        return self._k("eph", tagged(kind, key))

    def _cnt_key(self, kind: str, key: str) -> str:
        return self._k("cnt", tagged(kind, key))

    @guard
    def put_ephemeral(self, kind: str, key: str, value: str, ttl: int, now: int) -> None:
        # The TTL only cleans up (relative, so a test clock far from the server's does not matter).
        self._on(kind).set(self._eph_key(kind, key), f"{now + ttl}|{value}", ex=max(int(ttl), 1))

    @guard
    def get_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        return live_value(self._on(kind).get(self._eph_key(kind, key)), now)

    @guard
    def take_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        return live_value(self._on(kind).getdel(self._eph_key(kind, key)), now)  # GETDEL: one winner

    @guard
    def increment(self, kind: str, key: str, ttl: int, now: int) -> int:
        return int(self._scripts["INCREMENT"](keys=[self._cnt_key(kind, key)], args=[now, max(int(ttl), 1)],
                                              client=self._on(kind)))

    @guard
    def ephemeral_step(self, step: EphemeralStep, now: int) -> EphemeralResult:
        if len(set(step.takes)) != len(step.takes):
            raise ValueError("a step takes each value once")
        sorts = {short_lived(kind) for kind in step.kinds()}
        if len(sorts) > 1:
            raise ValueError("one step's kinds are all short-lived or none (they may live on different servers)")
        client = self._e if sorts == {True} else self._r
        if not (step.counts or step.takes or step.puts or step.adds):  # reads only: one MGET
            keys = [self._eph_key(kind, key) for kind, key in step.gets]
            values = client.mget(keys) if keys else []
            return EphemeralResult((), False, (), tuple(live_value(v, now) for v in values))
        keys = [*(self._cnt_key(kind, key) for kind, key, _, _ in step.counts),
                *(self._eph_key(kind, key) for kind, key in (*step.takes, *step.gets)),
                *(self._eph_key(kind, key) for kind, key, _, _ in (*step.puts, *step.adds))]
        args: list[Any] = [now, len(step.counts), len(step.takes), len(step.gets), len(step.puts), len(step.adds)]
        for _, _, ttl, limit in step.counts:
            args += [max(int(ttl), 1), limit]
        for _, _, value, ttl in (*step.puts, *step.adds):
            args += [value, int(ttl)]
        reply = self._scripts["EPHEMERAL_STEP"](keys=keys, args=args, client=client)
        counts = tuple(int(n) for n in reply[0])
        if int(reply[1]):
            return EphemeralResult(counts, True, None, ())
        if len(reply) < 4 or not isinstance(reply[2], list):
            return EphemeralResult(counts, False, None, ())
        return EphemeralResult(counts, False, tuple(as_str(v) for v in reply[2]),
                               tuple(None if v is None or v is False else as_str(v) for v in reply[3]),
                               tuple(bool(int(x)) for x in reply[4]))

    @guard
    def allocate_number(self, sequence: str) -> int:
        return int(self._r.incr(self._k("seq", tagged("number", sequence))))  # INCR: atomic, one winner per value
