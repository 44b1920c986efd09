"""Officers, bearer tokens and the role table."""

from __future__ import annotations

import hashlib
import secrets

import pytest

from issuer.errors import ForbiddenError, InvalidRequestError, UnauthorizedError
from issuer.keyed import OFFICER_TOKEN, KeyedHash
from issuer.model import PERMISSIONS, Action, Officer, Role, authorize
from issuer.officers import OfficerRegistry
from issuer.store import Store

from .conftest import Clock

KEYED = KeyedHash(secrets.token_bytes(32))


def test_tokens_are_stored_keyed_and_expire(store: Store, clock: Clock) -> None:
    registry = OfficerRegistry(store, keyed=KEYED, clock=clock)
    officer = registry.add("li", name="李娜", role="supervisor", districts=["110105", "110105", "110108"])
    assert officer.districts == ("110105", "110108") and officer.role is Role.SUPERVISOR
    token = registry.issue_token("li", ttl=60)
    assert len(token) >= 43
    assert store.officer_for_token(token, clock()) is None  # not stored in clear
    # nor under a hash that a copy of the store could check a token against: only under the keyed one
    assert store.officer_for_token(hashlib.sha256(token.encode()).hexdigest(), clock()) is None
    assert store.officer_for_token(KEYED.digest(OFFICER_TOKEN, token), clock()) == "li"
    with pytest.raises(UnauthorizedError):  # another deployment's secret knows no token of this one
        OfficerRegistry(store, keyed=KeyedHash(secrets.token_bytes(32)), clock=clock).authenticate(token)
    with pytest.raises(TypeError):  # no secret, no token: never an unkeyed fallback
        OfficerRegistry(store, clock=clock).authenticate(token)
    assert registry.authenticate(token) == officer
    clock.advance(60)
    with pytest.raises(UnauthorizedError):
        registry.authenticate(token)


def test_disabling_revokes_every_token(store: Store, clock: Clock) -> None:
    registry = OfficerRegistry(store, keyed=KEYED, clock=clock)
    registry.add("li", name="李娜", role=Role.ADMIN, districts=["110105"])
    tokens = [registry.issue_token("li", ttl=600) for _ in range(2)]
    registry.disable("li")
    for token in tokens:
        with pytest.raises(UnauthorizedError):
            registry.authenticate(token)
    with pytest.raises(ForbiddenError):
        registry.issue_token("li", ttl=600)


@pytest.mark.parametrize("token", ["", "x", "y" * 500])
def test_unknown_tokens(store: Store, token: str) -> None:
    with pytest.raises(UnauthorizedError):
        OfficerRegistry(store, keyed=KEYED).authenticate(token)


@pytest.mark.parametrize(("officer_id", "role", "districts"), [
    ("li", "chief", ["110105"]), ("", "clerk", ["110105"]), ("a b", "clerk", []), ("li", "clerk", ["1101"]),
])
def test_bad_officers_are_refused(store: Store, officer_id: str, role: str, districts: list[str]) -> None:
    with pytest.raises(InvalidRequestError):
        OfficerRegistry(store).add(officer_id, name="x", role=role, districts=districts)
    with pytest.raises(InvalidRequestError):
        OfficerRegistry(store, keyed=KEYED).issue_token("nobody", ttl=60)


def test_the_role_table() -> None:
    expected = {
        Role.CLERK: {Action.REGISTER, Action.READ_RECORD},
        Role.ISSUING_OFFICER: {Action.READ_RECORD, Action.CREATE_OFFER, Action.ENDORSE, Action.REDELIVER},
        Role.SUPERVISOR: {Action.READ_RECORD, Action.OVERRIDE_REGISTRATION, Action.SUSPEND, Action.LIFT,
                          Action.REVOKE, Action.APPROVE},
        Role.AUDITOR: {Action.READ_AUDIT},
        Role.ADMIN: {Action.MANAGE_OFFICERS},
    }
    for role, actions in expected.items():
        assert {a for a in Action if role in PERMISSIONS[a]} == actions
        officer = Officer("o", "x", role, ("110105",))
        for action in set(Action) - actions:
            with pytest.raises(ForbiddenError):
                authorize(officer, action)
    assert not Officer("o", "x", Role.AUDITOR, (), disabled=True).may(Action.READ_AUDIT)


def test_one_token_can_be_revoked_alone(store: Store, clock: Clock) -> None:
    registry = OfficerRegistry(store, keyed=KEYED, clock=clock)
    registry.add("li", name="李娜", role="clerk", districts=["110105"])
    first, second = registry.issue_token("li", ttl=600), registry.issue_token("li", ttl=600)
    assert registry.revoke_token(first) == "li"
    with pytest.raises(UnauthorizedError):
        registry.authenticate(first)
    assert registry.authenticate(second).id == "li"
    with pytest.raises(InvalidRequestError):
        registry.revoke_token(first)  # already revoked
    with pytest.raises(InvalidRequestError):
        registry.revoke_token("never-issued")
