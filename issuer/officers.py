"""Officers, their bearer tokens, and what each role may do.

Tokens are 256-bit random strings shown once; the store keeps only their SHA-256 (a dump of the store
yields no usable token). Every token expires; each can be revoked alone, and disabling an officer revokes
all of theirs (and authentication re-reads the officer on every request, so it takes effect at once). Districts behave like tenants: an officer sees only records of the districts
listed on the officer (see issuer.desk).
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from issuer.clock import Clock, system_clock
from issuer.errors import ForbiddenError, InvalidRequestError, UnauthorizedError

if TYPE_CHECKING:
    from issuer.store import Store

MAX_TOKEN_LENGTH = 128
_OFFICER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DISTRICT = re.compile(r"\d{6}")


class Role(enum.Enum):
    CLERK = "clerk"
    ISSUING_OFFICER = "issuing_officer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Action(enum.Enum):
    REGISTER = "register"  # record an application
    OVERRIDE_REGISTRATION = "override_registration"  # register a permit despite too short a registration
    READ_RECORD = "read_record"
    CREATE_OFFER = "create_offer"  # "issue": the pickup offer
    ENDORSE = "endorse"  # the annual endorsement (签注): new validity, new offer
    REDELIVER = "redeliver"  # to a new phone: the old phone's credentials become INVALID
    SUSPEND = "suspend"
    LIFT = "lift"
    REVOKE = "revoke"
    READ_AUDIT = "read_audit"
    MANAGE_OFFICERS = "manage_officers"
    APPROVE = "approve"  # approve or deny an application whose offer was made pending approval (deferred pickup)


# Separation of duties: each action belongs to exactly one role (an office where one person does two jobs
# gives that person two officer ids). Record actions also need the record's district (issuer.desk).
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.REGISTER: frozenset({Role.CLERK}),
    Action.OVERRIDE_REGISTRATION: frozenset({Role.SUPERVISOR}),
    Action.READ_RECORD: frozenset({Role.CLERK, Role.ISSUING_OFFICER, Role.SUPERVISOR}),
    Action.CREATE_OFFER: frozenset({Role.ISSUING_OFFICER}),
    Action.ENDORSE: frozenset({Role.ISSUING_OFFICER}),
    Action.REDELIVER: frozenset({Role.ISSUING_OFFICER}),
    Action.SUSPEND: frozenset({Role.SUPERVISOR}),
    Action.LIFT: frozenset({Role.SUPERVISOR}),
    Action.REVOKE: frozenset({Role.SUPERVISOR}),
    Action.READ_AUDIT: frozenset({Role.AUDITOR}),
    Action.MANAGE_OFFICERS: frozenset({Role.ADMIN}),
    Action.APPROVE: frozenset({Role.SUPERVISOR}),
}


@dataclass(frozen=True)
class Officer:
    id: str
    name: str
    role: Role
    districts: tuple[str, ...]  # GB/T 2260 six-digit codes the officer may act on
    disabled: bool = False

    def __post_init__(self) -> None:
        if not _OFFICER_ID.fullmatch(self.id):
            raise InvalidRequestError("officer id must be 1-64 of [A-Za-z0-9._-]")
        if not self.name or len(self.name) > 60:
            raise InvalidRequestError("officer name must be 1-60 characters")
        for district in self.districts:
            if not _DISTRICT.fullmatch(district):
                raise InvalidRequestError(f"district {district!r} is not a six-digit code")

    def may(self, action: Action) -> bool:
        return not self.disabled and self.role in PERMISSIONS[action]

    def covers(self, district: str) -> bool:
        return district in self.districts


def authorize(officer: Officer, action: Action) -> None:
    if not officer.may(action):
        raise ForbiddenError(f"role {officer.role.value} may not {action.value}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class OfficerRegistry:
    def __init__(self, store: Store, *, clock: Clock = system_clock) -> None:
        self._store = store
        self._clock = clock

    def add(self, officer_id: str, *, name: str, role: Role | str, districts: Sequence[str]) -> Officer:
        """Add an officer, or replace the one with this id (its tokens stay valid unless disabled)."""
        try:
            checked_role = Role(role)
        except ValueError as exc:
            raise InvalidRequestError(f"role must be one of {[r.value for r in Role]}") from exc
        return self.put(Officer(officer_id, name, checked_role, tuple(dict.fromkeys(districts))))

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
        self._store.add_officer_token(token_hash(token), officer_id, expires_at=now + ttl, now=now)
        return token

    def revoke_tokens(self, officer_id: str) -> int:
        return self._store.revoke_officer_tokens(officer_id)

    def revoke_token(self, token: str) -> str:
        """Revoke one token (the officer keeps the others); the officer id. InvalidRequestError if the token
        is unknown or already revoked."""
        officer_id = self._store.revoke_officer_token(token_hash(token)) if 0 < len(token) <= MAX_TOKEN_LENGTH \
            else None
        if officer_id is None:
            raise InvalidRequestError("no such live token")
        return officer_id

    def authenticate(self, token: str) -> Officer:
        """The officer behind a live token; UnauthorizedError for anything else, with one message."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise UnauthorizedError("invalid or expired token")
        officer_id = self._store.officer_for_token(token_hash(token), self._clock())
        officer = self._store.get_officer(officer_id) if officer_id is not None else None
        if officer is None or officer.disabled:
            raise UnauthorizedError("invalid or expired token")
        return officer

    def _require(self, officer_id: str) -> Officer:
        officer = self._store.get_officer(officer_id)
        if officer is None:
            raise InvalidRequestError(f"no officer {officer_id!r}")
        return officer
