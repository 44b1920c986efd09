"""Shared checks of the attack suite: every attack is answered through the verifier's one entry point."""

from __future__ import annotations

from tests.conftest import T0
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result, VerificationResult
from verifier.verify import INTERNAL_ERROR, verify

DEFAULT = Policy()


def check(text: str, cache: VerifierCache, policy: Policy = DEFAULT, now: int = T0) -> VerificationResult:
    outcome = verify(text, cache, policy=policy, now=now)
    assert not outcome.reason.startswith(INTERNAL_ERROR), outcome.reason  # a parser bug, not a rule
    assert outcome.reason.isprintable() and "\n" not in outcome.reason
    if outcome.result is not Result.VALID and outcome.issuer_kid is None:
        assert outcome.claims == {}  # nothing unverified is ever shown
    return outcome


def expect(result: Result, text: str, cache: VerifierCache, policy: Policy = DEFAULT,
           now: int = T0) -> VerificationResult:
    outcome = check(text, cache, policy, now)
    assert outcome.result is result, f"expected {result}, got {outcome.result}: {outcome.reason}"
    return outcome


def with_jwt(sd_jwt: str, jwt: str) -> str:
    """The SD-JWT (VC or presentation) with its issuer-signed JWT replaced."""
    return jwt + sd_jwt[sd_jwt.index("~"):]


def issuer_jwt(sd_jwt: str) -> str:
    return sd_jwt.split("~", 1)[0]
