"""What every test folder shares: one fixed instant ``T0``, a clock that only the test moves, one key ring.

Tests pass time as a parameter (``now``) or hand a ``FakeClock`` to the code under test; none reads the wall
clock unless it talks to a peer that does (tests/credential/test_pyjwt_peer.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from keys.keyring import KeyRing

DAY = 86400
# 2026-05-28 20:26:40 UTC (05-29 in Beijing): inside the sample permits' validity, 2026-01-05 .. 2027-01-04.
T0 = 1_780_000_000
# Older than anything a test signs with the session key ring (passes are issued up to 10 days before T0).
KEYS_CREATED = T0 - 30 * DAY


@dataclass
class FakeClock:
    """A clock for the code under test (a ``Callable[[], int]``, seconds): it moves only when the test moves it."""

    now: int = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def keyring() -> KeyRing:
    """The session's key ring, made at KEYS_CREATED (T0 - 30 days); the ring reads no clock, callers pass ``now``."""
    return KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=KEYS_CREATED)
