"""The officer registry: adding, changing and disabling officers, their bearer tokens, authentication.

Tokens are 256-bit random strings shown once; the store keeps only their keyed hash (issuer.keyed, under
the store secret: a dump of the store yields no usable token, nor a way to check one). Tokens are for
machines on the JSON API; people sign in to the console with a password and a TOTP code (issuer.logins),
whose sessions a change or disabling here ends too. Every token expires; each can be revoked alone, and disabling an officer revokes
all of theirs (and authentication re-reads the officer on every request, so it takes effect at once).
An officer id is added once: a new role, districts or name is a change, which revokes the officer's tokens
in the same store step, so that a token handed out for one job never acts in another.
Districts behave like tenants: an officer sees only records of the districts listed on the officer (see
issuer.desk). The officer, its roles and what each may do are value types in issuer.model.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from issuer.errors import ForbiddenError, InvalidRequestError, OfficerExistsError, UnauthorizedError
from issuer.keyed import OFFICER_TOKEN, KeyedHash
from issuer.model import MAX_TOKEN_LENGTH, Officer, Role, officer_name
from issuer.settings import Clock, system_clock
from issuer.store import Store


def checked_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise InvalidRequestError(f"role must be one of {[r.value for r in Role]}") from exc


@dataclass(frozen=True)
class OfficerChange:
    """One officer before and after a change, and how many of its tokens the change revoked."""

    before: Officer
    after: Officer
    tokens_revoked: int

    def __str__(self) -> str:
        """What the audit entry says: ids, roles and district codes (no names: they are personal)."""
        parts = [self.after.id]
        if self.before.role is not self.after.role:
            parts.append(f"role {self.before.role.value}->{self.after.role.value}")
        if self.before.districts != self.after.districts:
            parts.append(f"districts {','.join(self.before.districts) or '-'}->{','.join(self.after.districts) or '-'}")
        if self.before.name != self.after.name:
            parts.append("name")
        return " ".join(parts) + f"; {self.tokens_revoked} token(s) revoked"


class OfficerRegistry:
    def __init__(self, store: Store, *, keyed: KeyedHash | None = None, clock: Clock = system_clock) -> None:
        """``keyed`` (the service's, ``IssuerService.keyed``) is needed for tokens: to issue, check or revoke
        one. Adding, changing, listing and disabling officers need none (so `epermit
        officers add` needs no passphrase)."""
        self._store = store
        self._clock = clock
        self._keyed = keyed

    def _hash(self, token: str, label: str = OFFICER_TOKEN) -> str:
        if self._keyed is None:
            raise TypeError("officer tokens need the store secret: OfficerRegistry(store, keyed=service.keyed)")
        return self._keyed.digest(label, token)

    def add(self, officer_id: str, *, name: str, role: Role | str, districts: Sequence[str]) -> Officer:
        """Add a new officer; OfficerExistsError (409) for an id that exists: that is a ``change``."""
        officer = Officer(officer_id, officer_name(name), checked_role(role), tuple(dict.fromkeys(districts)))
        if not self._store.insert_officer(officer):
            raise OfficerExistsError(officer.id)
        return officer

    def change(self, officer_id: str, *, name: str | None = None, role: Role | str | None = None,
               districts: Sequence[str] | None = None) -> OfficerChange:
        """A new name, role or districts for an existing officer; every token of the officer is revoked in the
        same store step, and every console session of the officer ends: whatever the officer does next, it
        does with a new token or sign-in, under the new role. InvalidRequestError if nothing would change."""
        before = self._require(officer_id)
        after = Officer(before.id, before.name if name is None else officer_name(name),
                        before.role if role is None else checked_role(role),
                        before.districts if districts is None else tuple(dict.fromkeys(districts)), before.disabled)
        if after == before:
            raise InvalidRequestError("nothing to change: give a new name, role or districts")
        revoked = self._store.change_officer(after)
        if revoked is None:
            raise InvalidRequestError(f"no officer {officer_id!r}")
        return OfficerChange(before, after, revoked)

    def put(self, officer: Officer) -> Officer:
        self._store.put_officer(officer)
        return officer

    def list(self) -> list[Officer]:
        return self._store.list_officers()

    def get(self, officer_id: str) -> Officer | None:
        return self._store.get_officer(officer_id)

    def disable(self, officer_id: str) -> Officer:
        officer = self._require(officer_id)
        disabled = Officer(officer.id, officer.name, officer.role, officer.districts, disabled=True)
        self._store.put_officer(disabled)
        self._store.revoke_officer_tokens(officer_id)
        self._store.end_officer_sessions(officer_id)  # a later re-enable must not revive them
        return disabled

    def issue_token(self, officer_id: str, *, ttl: int) -> str:
        """A new bearer token for the officer; returned once, stored only hashed."""
        officer = self._require(officer_id)
        if officer.disabled:
            raise ForbiddenError("officer is disabled")
        if ttl <= 0:
            raise InvalidRequestError("token lifetime must be positive")
        token = secrets.token_urlsafe(32)
        now = self._clock()
        self._store.add_officer_token(self._hash(token), officer_id, expires_at=now + ttl, now=now)
        return token

    def revoke_tokens(self, officer_id: str) -> int:
        return self._store.revoke_officer_tokens(officer_id)

    def revoke_token(self, token: str) -> str:
        """Revoke one token (the officer keeps the others); the officer id. InvalidRequestError if the token
        is unknown or already revoked."""
        officer_id = self._store.revoke_officer_token(self._hash(token)) if 0 < len(token) <= MAX_TOKEN_LENGTH \
            else None
        if officer_id is None:
            raise InvalidRequestError("no such live token")
        return officer_id

    def authenticate(self, token: str) -> Officer:
        """The officer behind a live token; UnauthorizedError for anything else, with one message."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise UnauthorizedError("invalid or expired token")
        officer_id = self._store.officer_for_token(self._hash(token), self._clock())
        officer = self._store.get_officer(officer_id) if officer_id is not None else None
        if officer is None or officer.disabled:
            raise UnauthorizedError("invalid or expired token")
        return officer

    def _require(self, officer_id: str) -> Officer:
        officer = self._store.get_officer(officer_id)
        if officer is None:
            raise InvalidRequestError(f"no officer {officer_id!r}")
        return officer
