"""Redis: status lists (a BITFIELD of u2 entries, random allocation by script) and the credentials delivered on them."""

from __future__ import annotations

import secrets

from credential.statuslist import StatusList, msb_to_lsb
from issuer.store import FILL_LIMIT, StatusListFullError
from issuer.store.redis.client import RedisKeyspace, as_str, guard

STATUS_BITS = 2
_CANDIDATES = 16  # random indices offered per script call; below FILL_LIMIT 40 calls all missing is ~1e-16
_ALLOCATION_CALLS = 40
_MAX_INDEX = 1 << 32  # Redis bit offsets are < 2^32


def status_list_from_redis(raw: bytes, size: int) -> StatusList:
    """A 2-bit list from a Redis BITFIELD u2 value (MSB-first, and only as long as its highest set entry)."""
    length = (size * STATUS_BITS + 7) // 8
    data = bytes(raw[:length]).ljust(length, b"\0")
    return StatusList(size, STATUS_BITS, msb_to_lsb(data, STATUS_BITS))


class RedisStatusLists(RedisKeyspace):
    @guard
    def open_status_list(self, list_no: int, size: int) -> bool:
        return bool(self._run("OPEN_STATUS_LIST", [self._k("sl", list_no), self._k("sl", "numbers")],
                              [list_no, size]))

    @guard
    def status_list_numbers(self) -> list[int]:
        return [int(n) for n in self._r.zrange(self._k("sl", "numbers"), 0, -1)]

    @guard
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

    @guard
    def set_status(self, list_no: int, idx: int, value: int) -> None:
        if not 0 <= idx < _MAX_INDEX or not self._run(
                "SET_STATUS", [self._k("sl", list_no), self._k("sl", list_no, "used"),
                               self._k("sl", list_no, "bits")], [idx, value]):
            raise LookupError(f"status index {list_no}/{idx} was never allocated")

    @guard
    def status_bits(self, list_no: int) -> StatusList:
        size, raw = self._run("STATUS_BITS", [self._k("sl", list_no), self._k("sl", list_no, "bits")], [])
        if size is None:
            raise LookupError(f"status list {list_no} was never opened")
        return status_list_from_redis(raw or b"", int(size))

    @guard
    def status_generation(self, list_no: int) -> int:
        generation = self._r.hget(self._k("sl", list_no), "generation")
        if generation is None:
            raise LookupError(f"status list {list_no} was never opened")
        return int(generation)


class RedisDeliveries(RedisKeyspace):
    @guard
    def add_delivered(self, record_id: str, list_no: int, idx: int, now: int, *, kid: str | None = None) -> bool:
        pair = f"{int(list_no)}:{int(idx)}"
        keys = [self._k("record", record_id), self._k("delivered", record_id),
                self._k("signed", kid) if kid is not None else self._k("record", record_id)]
        return bool(self._run("ADD_DELIVERED", keys, [pair, "" if kid is None else f"{pair}:{record_id}"]))

    @guard
    def deliveries_signed_by(self, kid: str) -> list[tuple[str, int, int]]:
        items = (as_str(item).split(":", 2) for item in self._run("DELIVERIES_SIGNED_BY", [self._k("signed", kid)],
                                                                  [self._p]))
        return sorted((record_id, int(n), int(i)) for n, i, record_id in items)

    @guard
    def delivered(self, record_id: str) -> list[tuple[int, int]]:
        items = [as_str(item).split(":") for item in self._r.lrange(self._k("delivered", record_id), 0, -1)]
        return [(int(n), int(i)) for n, i in items]
