"""What a verifier accepts: the knobs a landlord or employer may turn, with safe defaults."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.errors import InvalidPolicyError

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class Policy:
    """Acceptance policy of one verifier; every time span is in seconds."""

    # Static (paper or screenshot) passes are accepted by default but always reported as static;
    # True turns them, and SD-JWT VCs without a KB-JWT, into NO_HOLDER_PROOF.
    require_live: bool = False
    live_window: int = 60  # |proof time - now| allowed for a live QR proof (DESIGN §2.3)
    skew: int = 300  # clock difference tolerated before the verifier distrusts its own clock
    status_warn_age: int = DAY  # older status data still gives VALID, with a warning
    status_max_age: int = 7 * DAY  # older status data cannot prove a credential is still good
    trust_max_age: int = 30 * DAY  # an older trust list cannot prove a signing key is still good
    kb_max_age: int = 5 * 60  # age of an SD-JWT VC key-binding JWT
    expected_aud: str | None = None  # the KB-JWT audience this verifier asked for
    expected_nonce: str | None = None  # the nonce this verifier handed out (KB-JWT; live QR proof as UTF-8)

    def __post_init__(self) -> None:
        for name in ("live_window", "skew", "status_warn_age", "status_max_age", "trust_max_age", "kb_max_age"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise InvalidPolicyError(name, "must be a non-negative integer")
        if self.status_warn_age > self.status_max_age:
            raise InvalidPolicyError("status_warn_age", "must not exceed status_max_age")
