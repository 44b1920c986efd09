"""Officers, bearer tokens and the role table."""

from __future__ import annotations

import hashlib
import secrets

import pytest

from issuer.errors import ForbiddenError, InvalidRequestError, OfficerExistsError, UnauthorizedError
from issuer.keyed import OFFICER_TOKEN, KeyedHash
from issuer.model import PERMISSIONS, Action, Officer, Role, authorize
from issuer.officers import OfficerRegistry
from issuer.store import Store
from tests.conftest import FakeClock

KEYED = KeyedHash(secrets.token_bytes(32))


def test_tokens_are_stored_keyed_and_expire(store: Store, clock: FakeClock) -> None:
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


def test_disabling_revokes_every_token(store: Store, clock: FakeClock) -> None:
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
        Role.CLERK: {Action.REGISTER, Action.READ_RECORD, Action.REVEAL_CITIZEN_ID, Action.SET_PORTRAIT,
                     Action.READ_PORTRAIT},
        Role.ISSUING_OFFICER: {Action.READ_RECORD, Action.CREATE_OFFER, Action.ENDORSE, Action.REDELIVER,
                               Action.REVEAL_CITIZEN_ID, Action.READ_PORTRAIT},
        Role.SUPERVISOR: {Action.READ_RECORD, Action.OVERRIDE_REGISTRATION, Action.SUSPEND, Action.LIFT,
                          Action.REVOKE, Action.APPROVE, Action.REVEAL_CITIZEN_ID, Action.READ_PORTRAIT},
        Role.AUDITOR: {Action.READ_AUDIT},
        Role.BUREAU_AUDITOR: {Action.READ_AUDIT},
        Role.ADMIN: {Action.MANAGE_OFFICERS},
    }
    assert set(expected) == set(Role)
    for role, actions in expected.items():
        assert {a for a in Action if role in PERMISSIONS[a]} == actions
        officer = Officer("o", "x", role, ("110105",))
        for action in set(Action) - actions:
            with pytest.raises(ForbiddenError):
                authorize(officer, action)
    assert not Officer("o", "x", Role.AUDITOR, (), disabled=True).may(Action.READ_AUDIT)


def test_one_token_can_be_revoked_alone(store: Store, clock: FakeClock) -> None:
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


@pytest.mark.parametrize("name", ["李\u202e娜", "\u2066admin\u2069", "李娜\x00", "\x1b[31m李娜", "李\u200b娜", "", "   ",
                                  "李" * 61])
def test_officer_names_follow_the_one_line_rule(store: Store, name: str) -> None:
    registry = OfficerRegistry(store)
    with pytest.raises(InvalidRequestError, match="one printable line"):
        registry.add("li", name=name, role="clerk", districts=["110105"])
    with pytest.raises(InvalidRequestError):
        Officer("li", name, Role.CLERK, ("110105",))
    assert store.get_officer("li") is None


def test_officer_names_are_stored_clean(store: Store) -> None:
    officer = OfficerRegistry(store).add("li", name="  李\u3000娜 e\u0301 ", role="clerk", districts=["110105"])
    assert officer.name == "李 娜 \u00e9" and store.get_officer("li") == officer


def test_an_existing_id_is_not_added_again_and_a_change_revokes_its_tokens(store: Store, clock: FakeClock) -> None:
    registry = OfficerRegistry(store, keyed=KEYED, clock=clock)
    clerk = registry.add("li", name="李娜", role="clerk", districts=["110105"])
    token = registry.issue_token("li", ttl=600)
    with pytest.raises(OfficerExistsError):
        registry.add("li", name="李娜", role="supervisor", districts=["110105"])
    assert registry.authenticate(token) == clerk  # the old token is still a clerk's
    change = registry.change("li", role="supervisor", districts=["110105", "110108"])
    assert (change.before, change.tokens_revoked) == (clerk, 1)
    assert change.after == store.get_officer("li") and change.after.role is Role.SUPERVISOR
    assert str(change) == "li role clerk->supervisor districts 110105->110105,110108; 1 token(s) revoked"
    with pytest.raises(UnauthorizedError):
        registry.authenticate(token)
    with pytest.raises(InvalidRequestError, match="nothing to change"):
        registry.change("li", role="supervisor")
    with pytest.raises(InvalidRequestError):
        registry.change("nobody", role="clerk")
    with pytest.raises(InvalidRequestError, match="one printable line"):
        registry.change("li", name="李\u202e娜")
