"""Officers who can sign in to the console in tests: a password each and an enrolled TOTP secret, and the
form a sign-in posts (the code computed from the secret, as the officer's app would, one step later each
time: a code signs in once)."""

from __future__ import annotations

import functools

from issuer.logins import ConsoleLogins
from issuer.model import Officer
from issuer.passwords import hash_password
from issuer.service import IssuerService
from issuer.totp import STEP, code_at
from tests.conftest import FakeClock


def password_of(officer_id: str) -> str:
    return f"correct horse {officer_id[::-1]} staple"  # reversed: a password may not hold the id


@functools.cache
def _password_hash(officer_id: str) -> str:
    return hash_password(password_of(officer_id))  # once per test run: scrypt is slow on purpose


class OfficerLogins:
    def __init__(self, service: IssuerService, clock: FakeClock) -> None:
        self.service = service
        self.clock = clock
        self.logins = ConsoleLogins(service.store, keyed=service.keyed, clock=clock)
        self.secrets: dict[str, bytes] = {}

    def enrol(self, officer: Officer) -> None:
        """Add (or replace) the officer, with a password and a TOTP secret."""
        self.service.store.put_officer(officer)
        self.service.store.set_officer_password(officer.id, _password_hash(officer.id))
        self.secrets[officer.id] = self.logins.enrol_totp(officer.id).secret

    def code(self, officer_id: str) -> str:
        """The app's code for the next step (the clock moves on by one step: the last code was used)."""
        self.clock.advance(STEP)
        return code_at(self.secrets[officer_id], self.clock())

    def form(self, officer_id: str) -> dict[str, str]:
        return {"officer_id": officer_id, "password": password_of(officer_id), "code": self.code(officer_id)}
