"""Short-lived values (issuer.store.short_lived) in the process's memory: a single-process office's choice.

A SQLite office served by one process (`epermit serve --short-lived-in-memory`) may keep its nonces, access
tokens, DPoP proof ids and rate counters here instead of in the file: no write transaction, no fsync. Only one
process may use the store then (another process would not see them), and a restart forgets them all, which
only refuses (docs/redis.md, "Short-lived values"). One lock makes every step atomic across threads.
"""

from __future__ import annotations

import threading

from issuer.store import EphemeralResult, EphemeralStep

_SWEEP_EVERY = 1024  # writes between sweeps of expired entries


class MemoryEphemeral:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], tuple[str, int]] = {}  # (kind, key) -> (value, expires_at)
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}  # (kind, key) -> (count, expires_at)
        self._writes = 0

    def _live(self, kind: str, key: str, now: int) -> str | None:
        found = self._values.get((kind, key))
        return found[0] if found is not None and found[1] > now else None

    def _put(self, kind: str, key: str, value: str, ttl: int, now: int) -> None:
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._values = {k: v for k, v in self._values.items() if v[1] > now}
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        self._values[(kind, key)] = (value, now + ttl)

    def _count(self, kind: str, key: str, ttl: int, now: int) -> int:
        count, expires_at = self._counts.get((kind, key), (0, 0))
        count, expires_at = (1, now + ttl) if expires_at <= now else (count + 1, expires_at)
        self._counts[(kind, key)] = (count, expires_at)
        return count

    def put(self, kind: str, key: str, value: str, ttl: int, now: int) -> None:
        with self._lock:
            self._put(kind, key, value, ttl, now)

    def get(self, kind: str, key: str, now: int) -> str | None:
        with self._lock:
            return self._live(kind, key, now)

    def take(self, kind: str, key: str, now: int) -> str | None:
        with self._lock:
            found = self._values.pop((kind, key), None)
        return found[0] if found is not None and found[1] > now else None

    def increment(self, kind: str, key: str, ttl: int, now: int) -> int:
        with self._lock:
            return self._count(kind, key, ttl, now)

    def step(self, step: EphemeralStep, now: int) -> EphemeralResult:
        """Store.ephemeral_step."""
        with self._lock:
            counts = tuple(self._count(kind, key, ttl, now) for kind, key, ttl, _ in step.counts)
            if any(n > limit for n, (_, _, _, limit) in zip(counts, step.counts, strict=True)):
                return EphemeralResult(counts, True, None, ())
            taken = [self._live(kind, key, now) for kind, key in step.takes]
            if any(value is None for value in taken):
                return EphemeralResult(counts, False, None, ())
            for kind, key in step.takes:
                del self._values[(kind, key)]
            got = tuple(self._live(kind, key, now) for kind, key in step.gets)
            for kind, key, value, ttl in step.puts:
                self._put(kind, key, value, ttl, now)
            added = tuple(self._live(kind, key, now) is None for kind, key, _, _ in step.adds)
            for (kind, key, value, ttl), add in zip(step.adds, added, strict=True):
                if add:
                    self._put(kind, key, value, ttl, now)
        return EphemeralResult(counts, False, tuple(v for v in taken if v is not None), got, added)
