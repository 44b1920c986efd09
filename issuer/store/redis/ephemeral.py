"""Redis: the wallet API's ephemeral values (GETDEL: taken by exactly one caller), counters (by script), and the
sequences of document numbers (INCR, no TTL: kept for good).

Expiry is judged by the caller's ``now`` stored with the value; Redis TTLs only clean up.
"""

from __future__ import annotations

from typing import Any

from issuer.store.redis.client import RedisKeyspace, as_str, guard, tagged


def live_value(stored: Any, now: int) -> str | None:
    if stored is None:
        return None
    expires_at, _, value = as_str(stored).partition("|")
    return value if int(expires_at) > now else None


class RedisEphemeral(RedisKeyspace):
    @guard
    def put_ephemeral(self, kind: str, key: str, value: str, ttl: int, now: int) -> None:
        # The TTL only cleans up (relative, so a test clock far from the server's does not matter).
        self._r.set(self._k("eph", tagged(kind, key)), f"{now + ttl}|{value}", ex=max(int(ttl), 1))

    @guard
    def get_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        return live_value(self._r.get(self._k("eph", tagged(kind, key))), now)

    @guard
    def take_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        return live_value(self._r.getdel(self._k("eph", tagged(kind, key))), now)  # GETDEL: one winner

    @guard
    def increment(self, kind: str, key: str, ttl: int, now: int) -> int:
        return int(self._run("INCREMENT", [self._k("cnt", tagged(kind, key))], [now, max(int(ttl), 1)]))

    @guard
    def allocate_number(self, sequence: str) -> int:
        return int(self._r.incr(self._k("seq", tagged("number", sequence))))  # INCR: atomic, one winner per value
