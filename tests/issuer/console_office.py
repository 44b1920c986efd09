"""The console test office, once for every tests/issuer/test_console_*.py: the officer API app with the console
on (a fresh cookie secret), and its staff signed up with a password and a TOTP secret each (the console takes
no API token). The fixtures ``app``, ``console_staff`` and ``tokens`` (tests/issuer/conftest.py) are built from
these; a test module names its own staff by overriding ``console_staff``."""

from __future__ import annotations

import os
from collections.abc import Iterable

from flask import Flask

from issuer.http.app import create_app
from issuer.http.console.ui import ConsoleSettings
from issuer.http.context import OfficerApiSettings
from issuer.model import Officer, Role
from issuer.service import IssuerService
from tests.conftest import FakeClock

from .console_logins import OfficerLogins
from .office import AWAY, HOME

OFFICERS = (Officer("clerk", "柜员", Role.CLERK, (HOME,)), Officer("io", "民警", Role.ISSUING_OFFICER, (HOME,)),
            Officer("sup", "所长", Role.SUPERVISOR, (HOME,)), Officer("auditor", "审计", Role.AUDITOR, (HOME,)),
            Officer("io_sh", "上海民警", Role.ISSUING_OFFICER, (AWAY,)))


def console_app(service: IssuerService) -> Flask:
    return create_app(OfficerApiSettings(), service, console=ConsoleSettings(secret_key=os.urandom(32)))


def enrolled(service: IssuerService, clock: FakeClock, staff: Iterable[Officer]) -> OfficerLogins:
    """The staff, each with a password and a TOTP secret (the console's sign-in)."""
    logins = OfficerLogins(service, clock)
    for officer in staff:
        logins.enrol(officer)
    return logins
