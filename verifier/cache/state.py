"""state.json: fetched-at times, the newest list accepted of each kind (the marks), the clock high-water mark.

Marks: the (version, iat) of the newest trust list and the iat of the newest status list accepted for each
URI. A validly signed but older list copied back over a cache file is then told apart from the current one:
it may still report bad news (revoked, suspended) but can no longer prove a credential good. If state.json
is missing, damaged or refused, no list can be shown current until the next sync rewrites it.

The high-water mark is the newest ``iat`` of any accepted trust or status list. Those lists were signed
after that moment, so a local clock earlier than it (beyond the tolerated skew) is wrong and is not believed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from credential.encoding import json_loads
from credential.errors import CredentialError
from credential.statuslist import VerifiedStatusList
from credential.trustlist import TrustList
from verifier.cachefiles import read_capped
from verifier.errors import CacheError

MAX_STATE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Clock:
    """The time a verification uses, and why it differs from the local clock when it does."""

    now: int  # max(local clock, high-water mark) when the local clock is distrusted, else the local clock
    warning: str | None


STATE_LOST = ("the verifier cache's state file is missing, damaged or refused, so its lists cannot be shown "
              "current; sync")


@dataclass(frozen=True)
class Marks:
    """The newest lists this cache has accepted (state.json): a list file older than its mark was put back
    over the newer one by hand (a copy, a restored backup) and can no longer prove a credential good."""

    intact: bool  # False: state.json missing, damaged or refused: no list on disk can be shown current
    trust: tuple[int, int] | None  # (version, iat) of the newest trust list accepted
    status: Mapping[str, int]  # URI -> iat of the newest status list accepted for it

    def trust_problem(self, trust: TrustList) -> str | None:
        """Why ``trust`` cannot vouch for a key still being good; None when it is the newest accepted."""
        if not self.intact:
            return STATE_LOST
        if self.trust is not None and (trust.version, trust.iat) < self.trust:
            return (f"the trust list in the verifier cache (version {trust.version}) is older than version "
                    f"{self.trust[0]}, accepted before: was it copied back? sync")
        return None

    def status_problem(self, uri: str, held: VerifiedStatusList) -> str | None:
        """Why ``held`` cannot say a credential is still good; None when it is the newest accepted."""
        if not self.intact:
            return STATE_LOST
        mark = self.status.get(uri)
        if mark is not None and held.iat < mark:
            return ("the revocation data in the verifier cache is older than revocation data this verifier "
                    "accepted before: was it copied back? sync")
        return None


class State(NamedTuple):
    """state.json as one scan sees it."""

    data: dict[str, Any]  # state.json as read (empty when not intact); "status" is always a dict
    marks: Marks


def marks_of(data: dict[str, Any], intact: bool) -> Marks:
    trust = data.get("trust")
    trust_mark = None
    if isinstance(trust, dict) and type(trust.get("version")) is int and type(trust.get("iat")) is int:
        trust_mark = (trust["version"], trust["iat"])
    # State written before the marks existed has none for a URI: nothing to compare its file with.
    status = {uri: entry["iat"] for uri, entry in data["status"].items()
              if isinstance(entry, dict) and type(entry.get("iat")) is int}
    return Marks(intact, trust_mark, status)


def load_state(path: Path) -> State:
    """state.json as read; damaged or refused, it is empty and its marks say so (not intact)."""
    try:
        raw = read_capped(path, MAX_STATE)
        state = None if raw is None else json_loads(raw, max_size=MAX_STATE)
    except (CredentialError, CacheError):
        state = None  # damaged or refused: ages and marks are lost, and marks() says so
    intact = isinstance(state, dict)
    data: dict[str, Any] = state if isinstance(state, dict) else {}
    if not isinstance(data.get("status"), dict):
        data["status"] = {}
    return State(data, marks_of(data, intact))


def high_water(state: State) -> int:
    value = state.data.get("high_water")
    return value if type(value) is int else 0


def clock_at(state: State, now: int, skew: int) -> Clock:
    """The time to judge validity at: the local clock, unless it is earlier than the high-water mark."""
    mark = high_water(state)
    if now + skew < mark:
        return Clock(mark, f"local clock is {mark - now} s behind the newest signed list; using that list's time")
    return Clock(now, None)


__all__ = ["MAX_STATE", "STATE_LOST", "Clock", "Marks", "State", "clock_at", "high_water", "load_state", "marks_of"]
