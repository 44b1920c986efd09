"""Redis: status lists (a BITFIELD of u2 entries, random allocation by script) and the credentials delivered on them.

A list lives in one district's shard (the one whose credentials it carries, so that a record's state change
sets its bits in the same script); the global shard numbers the lists and knows each one's district
(``sl:numbers``, ``sl:shards``, registered before the list's own keys: scripts.REGISTER_STATUS_LIST).
"""

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
    _list_shards: dict[int, str]

    def _register(self, list_no: int, shard: str) -> tuple[bool, str]:
        created, owner = self._run("REGISTER_STATUS_LIST", [self._k("sl", "numbers"), self._k("sl", "shards")],
                                   [int(list_no), shard])
        if not created and shard and not as_str(owner) and self._run(
                "ADOPT_STATUS_LIST", [self._k("sl", "shards"), self._k("sl", list_no), self._k("sl", list_no, "used"),
                                      self._k("sl", list_no, "bits")], [int(list_no), shard]):
            created, owner = 1, shard  # an empty list of the global shard, now this district's
        if as_str(owner):  # only a district's list is remembered: an empty global one may still be adopted
            self._list_shards[int(list_no)] = as_str(owner)
        return bool(created), as_str(owner)

    def _list_shard(self, list_no: int) -> str | None:
        """The district whose shard holds list ``list_no`` (None: never opened)."""
        found = self._list_shards.get(int(list_no))
        if found is None:
            value = self._r.hget(self._k("sl", "shards"), int(list_no))
            if value is None:
                return None
            found = as_str(value)
            if found:
                self._list_shards[int(list_no)] = found
        return found

    @guard
    def open_status_list(self, list_no: int, size: int, *, shard: str = "") -> bool:
        created, owner = self._register(list_no, shard)
        self._run("OPEN_STATUS_LIST", [self._d(owner, "sl", list_no)], [list_no, size])  # again after a crash
        return created

    @guard
    def status_list_numbers(self, *, shard: str | None = None) -> list[int]:
        numbers = [int(n) for n in self._r.zrange(self._k("sl", "numbers"), 0, -1)]
        if shard is None:
            return numbers
        owners = {int(n): as_str(d) for n, d in self._r.hgetall(self._k("sl", "shards")).items()}
        return [n for n in numbers if owners.get(n) == shard]

    @guard
    def allocate_status_index(self, list_no: int, size: int) -> int:
        owner = self._list_shard(list_no)
        if owner is None:  # as the SQLite store: allocating opens the list (in the global shard)
            _, owner = self._register(list_no, "")
        keys = [self._d(owner, "sl", list_no), self._d(owner, "sl", list_no, "used")]
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
        owner = self._list_shard(list_no)
        if owner is None or not 0 <= idx < _MAX_INDEX or not self._run(
                "SET_STATUS", [self._d(owner, "sl", list_no), self._d(owner, "sl", list_no, "used"),
                               self._d(owner, "sl", list_no, "bits")], [idx, value]):
            raise LookupError(f"status index {list_no}/{idx} was never allocated")

    @guard
    def status_bits(self, list_no: int) -> StatusList:
        owner = self._list_shard(list_no)
        size, raw = (None, None) if owner is None else self._run(
            "STATUS_BITS", [self._d(owner, "sl", list_no), self._d(owner, "sl", list_no, "bits")], [])
        if size is None:
            raise LookupError(f"status list {list_no} was never opened")
        return status_list_from_redis(raw or b"", int(size))

    @guard
    def status_generation(self, list_no: int) -> int:
        owner = self._list_shard(list_no)
        generation = None if owner is None else self._r.hget(self._d(owner, "sl", list_no), "generation")
        if generation is None:
            raise LookupError(f"status list {list_no} was never opened")
        return int(generation)


class RedisDeliveries(RedisKeyspace):
    @guard
    def add_delivered(self, record_id: str, list_no: int, idx: int, now: int, *, kid: str | None = None) -> bool:
        district = self._record_shard(record_id)
        if district is None:
            return False
        pair = f"{int(list_no)}:{int(idx)}"
        record = self._d(district, "record", record_id)
        keys = [record, self._d(district, "delivered", record_id),
                self._d(district, "signed", kid) if kid is not None else record, self._d(district, "sl", list_no)]
        bound = int(self._run("ADD_DELIVERED", keys, [pair, "" if kid is None else f"{pair}:{record_id}"]))
        if bound < 0:
            raise ValueError(f"status list {list_no} is not in the shard of district {district}")
        return bound == 1

    @guard
    def deliveries_signed_by(self, kid: str) -> list[tuple[str, int, int]]:
        """Every shard's deliveries by ``kid`` (the key compromise drill, rare: one script per district)."""
        districts = ["", *(as_str(d) for d in self._r.smembers(self._k("districts")))]
        items = [as_str(item).split(":", 2) for district in districts
                 for item in self._run("DELIVERIES_SIGNED_BY", [self._d(district, "signed", kid)],
                                       [self._s(district)])]
        return sorted((record_id, int(n), int(i)) for n, i, record_id in items)

    @guard
    def delivered(self, record_id: str) -> list[tuple[int, int]]:
        district = self._record_shard(record_id)
        if district is None:
            return []
        items = [as_str(item).split(":") for item in self._r.lrange(self._d(district, "delivered", record_id), 0, -1)]
        return [(int(n), int(i)) for n, i in items]
