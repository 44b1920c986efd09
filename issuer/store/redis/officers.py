"""Redis: officers, their bearer tokens (stored hashed; revoked one by one or all of an officer's) and their
console sessions (stored hashed; each lives only as long as the token it was opened with)."""

from __future__ import annotations

import json

from issuer.model import Officer, Role
from issuer.store.redis.client import RedisKeyspace, as_str, flat, guard, hash_fields


def officer_fields(officer: Officer) -> list[object]:
    return flat({"name": officer.name, "role": officer.role.value, "districts": json.dumps(list(officer.districts)),
                 "disabled": int(officer.disabled)})


class RedisOfficers(RedisKeyspace):
    @guard
    def put_officer(self, officer: Officer) -> None:
        self._run("PUT_OFFICER", [self._k("officer", officer.id), self._k("officers")],
                  [officer.id, *officer_fields(officer)])

    @guard
    def insert_officer(self, officer: Officer) -> bool:
        return bool(self._run("INSERT_OFFICER", [self._k("officer", officer.id), self._k("officers")],
                              [officer.id, *officer_fields(officer)]))

    @guard
    def change_officer(self, officer: Officer) -> int | None:
        revoked = int(self._run("CHANGE_OFFICER", [self._k("officer", officer.id), self._k("otokens", officer.id)],
                                [self._p, *officer_fields(officer)]))
        return None if revoked < 0 else revoked

    @guard
    def get_officer(self, officer_id: str) -> Officer | None:
        f = hash_fields(self._r.hgetall(self._k("officer", officer_id)))
        if not f:
            return None
        return Officer(officer_id, f["name"], Role(f["role"]), tuple(json.loads(f["districts"])), f["disabled"] == "1")

    @guard
    def list_officers(self) -> list[Officer]:
        ids = sorted(as_str(i) for i in self._r.smembers(self._k("officers")))
        return [o for o in (self.get_officer(i) for i in ids) if o is not None]

    @guard
    def add_officer_token(self, token_hash: str, officer_id: str, *, expires_at: int, now: int) -> None:
        self._run("ADD_OFFICER_TOKEN", [self._k("otoken", token_hash), self._k("otokens", officer_id)],
                  [token_hash, officer_id, expires_at, now])

    @guard
    def officer_for_token(self, token_hash: str, now: int) -> str | None:
        officer_id, expires_at, revoked = self._r.hmget(self._k("otoken", token_hash),
                                                        ["officer_id", "expires_at", "revoked"])
        if officer_id is None or as_str(revoked) != "0" or int(expires_at) <= now:
            return None
        return as_str(officer_id)

    @guard
    def revoke_officer_tokens(self, officer_id: str) -> int:
        return int(self._run("REVOKE_OFFICER_TOKENS", [self._k("otokens", officer_id)], [self._p]))

    @guard
    def revoke_officer_token(self, token_hash: str) -> str | None:
        officer_id = self._run("REVOKE_OFFICER_TOKEN", [self._k("otoken", token_hash)], [])
        return None if officer_id is None else as_str(officer_id)

    @guard
    def add_officer_session(self, session_hash: str, officer_id: str, token_hash: str, *, expires_at: int,
                            now: int) -> None:
        key = self._k("osession", session_hash)
        self._r.hset(key, mapping={"officer_id": officer_id, "token_hash": token_hash, "expires_at": expires_at})
        self._r.expire(key, max(expires_at - now, 1))  # only cleans up: expiry is judged on the caller's clock

    @guard
    def officer_for_session(self, session_hash: str, now: int) -> str | None:
        officer_id, token_hash, expires_at = self._r.hmget(self._k("osession", session_hash),
                                                           ["officer_id", "token_hash", "expires_at"])
        if officer_id is None or int(expires_at) <= now:
            return None
        owner = self.officer_for_token(as_str(token_hash), now)  # a revoked or expired token ends the session
        return owner if owner == as_str(officer_id) else None

    @guard
    def end_officer_session(self, session_hash: str) -> bool:
        return bool(self._r.delete(self._k("osession", session_hash)))
