"""Redis: officers, their bearer tokens (stored hashed; revoked one by one or all of an officer's), their
console credentials (``osecrets:<id>``: password hash, sealed TOTP secret, last TOTP step, generation) and
console sessions (``csession:<hash>``, stored hashed; each lives while the officer's generation is the one
it was opened at)."""

from __future__ import annotations

import json

from issuer.model import Officer, Role
from issuer.store import OfficerSecrets
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
        revoked = int(self._run("CHANGE_OFFICER", [self._k("officer", officer.id), self._k("otokens", officer.id),
                                                   self._k("osecrets", officer.id)],
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
    def get_officer_secrets(self, officer_id: str) -> OfficerSecrets | None:
        if not self._r.exists(self._k("officer", officer_id)):
            return None
        f = hash_fields(self._r.hgetall(self._k("osecrets", officer_id)))
        return OfficerSecrets(f.get("password_hash"), f.get("totp_sealed"), int(f.get("totp_last_step", 0)),
                              int(f.get("generation", 0)))

    def _set_secret(self, officer_id: str, field: str, value: str | None, generation: int | None) -> int | None:
        new = int(self._run("SET_OFFICER_SECRET", [self._k("officer", officer_id), self._k("osecrets", officer_id)],
                            [field, value or "", "" if generation is None else generation]))
        return None if new < 0 else new

    @guard
    def set_officer_password(self, officer_id: str, password_hash: str) -> int | None:
        return self._set_secret(officer_id, "password_hash", password_hash, None)

    @guard
    def set_officer_totp(self, officer_id: str, totp_sealed: str | None, *, generation: int | None = None) -> int | None:
        return self._set_secret(officer_id, "totp_sealed", totp_sealed, generation)

    @guard
    def use_totp_step(self, officer_id: str, step: int, *, generation: int) -> bool:
        return bool(self._run("USE_TOTP_STEP", [self._k("osecrets", officer_id)], [step, generation]))

    @guard
    def end_officer_sessions(self, officer_id: str) -> int | None:
        new = int(self._run("END_OFFICER_SESSIONS", [self._k("officer", officer_id), self._k("osecrets", officer_id)],
                            []))
        return None if new < 0 else new

    @guard
    def add_officer_session(self, session_hash: str, officer_id: str, *, generation: int, expires_at: int,
                            now: int) -> None:
        key = self._k("csession", session_hash)
        self._r.hset(key, mapping={"officer_id": officer_id, "generation": generation, "expires_at": expires_at})
        self._r.expire(key, max(expires_at - now, 1))  # only cleans up: expiry is judged on the caller's clock

    @guard
    def officer_for_session(self, session_hash: str, now: int) -> str | None:
        officer_id, generation, expires_at = self._r.hmget(self._k("csession", session_hash),
                                                           ["officer_id", "generation", "expires_at"])
        if officer_id is None or int(expires_at) <= now:
            return None
        current = self._r.hget(self._k("osecrets", as_str(officer_id)), "generation")
        return as_str(officer_id) if int(current or 0) == int(generation) else None

    @guard
    def end_officer_session(self, session_hash: str) -> bool:
        return bool(self._r.delete(self._k("csession", session_hash)))
