"""Redis: residents' requests (issuer.requests), the notifications outbox, and retiring chosen indices.

A request is a hash ``req:<id>``, listed per holder (``reqs_of:<holder>``, insertion order) and per district
and state (``reqs_in:<district>:<state>``, sorted sets by creation time, moved between by the state change's
script: the queue reads only the states it asks for, oldest first). Outbox messages are hashes ``note:<id>``,
listed per holder and, while pending, in ``notes_due`` scored by the next attempt's time. Every write that must
not interleave is one script (issuer.store.redis.scripts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from credential.statuslist import INVALID
from issuer.errors import StateConflictError
from issuer.store import StoredNotification, StoredRequest
from issuer.store.redis.client import RedisKeyspace, as_str, guard, hash_fields


def _request(request_id: str, f: dict[str, str]) -> StoredRequest | None:
    if not f:
        return None
    return StoredRequest(request_id, f["kind"], f["state"], f["record_id"], f["district"], f["holder"],
                         int(f["created_at"]), int(f["updated_at"]), f["data"])


def _notification(notification_id: str, f: dict[str, str]) -> StoredNotification | None:
    if not f:
        return None
    return StoredNotification(notification_id, f["holder"], f["record_id"], f["kind"], f["data"],
                              int(f["created_at"]), f["state"], int(f["attempts"]), int(f["next_attempt_at"]))


class RedisRequests(RedisKeyspace):
    @guard
    def retire_indices(self, record_id: str, indices: Sequence[tuple[int, int]], *, now: int) -> list[tuple[int, int]]:
        district = self._record_shard(record_id)
        if district is None:
            return []
        keys = [self._d(district, "delivered", record_id), self._d(district, "retired", record_id)]
        items = [f"{list_no}:{idx}" for list_no, idx in sorted(set(indices))]
        reply = self._run("RETIRE_INDICES", keys, [self._s(district), INVALID, *items])
        return sorted((int(n), int(i)) for n, i in (as_str(item).split(":") for item in reply or []))

    @guard
    def insert_request(self, request: StoredRequest) -> None:
        fields: list[Any] = ["kind", request.kind, "state", request.state, "record_id", request.record_id,
                             "district", request.district, "holder", request.holder, "created_at",
                             request.created_at, "updated_at", request.updated_at, "data", request.data]
        keys = [self._k("req", request.id), self._k("reqs_of", request.holder),
                self._k("reqs_in", request.district, request.state)]
        if not self._run("INSERT_REQUEST", keys, [request.id, request.created_at, *fields]):
            raise StateConflictError("request id already exists")

    @guard
    def get_request(self, request_id: str) -> StoredRequest | None:
        return _request(request_id, hash_fields(self._r.hgetall(self._k("req", request_id))))

    @guard
    def update_request(self, request: StoredRequest, *, expected: str) -> bool:
        return bool(self._run("UPDATE_REQUEST", [self._k("req", request.id)],
                              [self._p, request.id, expected, request.state, request.updated_at, request.data]))

    def _requests(self, ids: Sequence[Any]) -> list[StoredRequest]:
        found = (_request(as_str(i), hash_fields(self._r.hgetall(self._k("req", as_str(i))))) for i in ids)
        return [r for r in found if r is not None]

    @guard
    def requests_of_holder(self, holder: str) -> list[StoredRequest]:
        found = self._requests(self._r.lrange(self._k("reqs_of", holder), 0, -1))
        return sorted(found, key=lambda r: r.created_at)  # stable: insertion order within one second

    @guard
    def requests_in_districts(self, districts: Sequence[str], states: Sequence[str], *,
                              limit: int = 100) -> list[StoredRequest]:
        # Each (district, state) set is ordered by creation: its first ``limit`` are enough for the merge.
        ids = [i for district in dict.fromkeys(districts) for state in dict.fromkeys(states)
               for i in self._r.zrange(self._k("reqs_in", district, state), 0, limit - 1)]
        found = [r for r in self._requests(ids) if r.state in set(states)]
        return sorted(found, key=lambda r: (r.created_at, r.id))[:limit]

    @guard
    def insert_notification(self, notification: StoredNotification) -> None:
        n = notification
        fields: list[Any] = ["holder", n.holder, "record_id", n.record_id, "kind", n.kind, "data", n.data,
                             "created_at", n.created_at, "state", n.state, "attempts", n.attempts,
                             "next_attempt_at", n.next_attempt_at]
        keys = [self._k("note", n.id), self._k("notes_of", n.holder), self._k("notes_due")]
        if not self._run("INSERT_NOTIFICATION", keys, [n.id, n.next_attempt_at, n.state, *fields]):
            raise StateConflictError("notification id already exists")

    def _notifications(self, ids: Sequence[Any]) -> list[StoredNotification]:
        found = (_notification(as_str(i), hash_fields(self._r.hgetall(self._k("note", as_str(i))))) for i in ids)
        return [n for n in found if n is not None]

    @guard
    def notifications_of_holder(self, holder: str, *, limit: int = 50) -> list[StoredNotification]:
        return self._notifications(self._r.lrange(self._k("notes_of", holder), 0, limit - 1))

    @guard
    def due_notifications(self, now: int, *, limit: int = 100) -> list[StoredNotification]:
        due = self._notifications(self._r.zrangebyscore(self._k("notes_due"), "-inf", now, start=0, num=limit))
        return sorted((n for n in due if n.state == "pending"), key=lambda n: (n.created_at, n.id))

    @guard
    def update_notification(self, notification_id: str, *, state: str, attempts: int,
                            next_attempt_at: int) -> None:
        self._run("UPDATE_NOTIFICATION", [self._k("note", notification_id), self._k("notes_due")],
                  [notification_id, state, attempts, next_attempt_at])
