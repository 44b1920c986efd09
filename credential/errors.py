"""epermit's one exception root, and the family of errors about what a credential's bytes mean.

``EpermitError`` is neutral: one ``except`` at a boundary (the CLI, an HTTP error handler) covers every
epermit failure. Beneath it sit ``CredentialError`` (here; each names the verifier result code of DESIGN §5
it stands for in ``code``), ``keys.errors.KeyManagementError``, ``issuer.errors.IssuerError`` and the
verifier's ``verifier.errors.VerifierError``. Every error carries the data needed to explain it, never the
token or secret itself.
"""

from __future__ import annotations


class EpermitError(Exception):
    """Root of every error epermit raises on purpose; carries no verifier result of its own."""


class CredentialError(EpermitError):
    """Root of every error raised while reading, checking or building a credential."""

    code = "MALFORMED"


class MalformedError(CredentialError):
    """The input cannot be parsed as the expected structure."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLargeError(MalformedError):
    """The input, or what it inflates to, exceeds a size cap."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} exceeds {limit} bytes")
        self.limit = limit


class WrongTypeError(MalformedError):
    """The token declares a type other than the one this entry point accepts."""

    def __init__(self, expected: str | tuple[str, ...], actual: object) -> None:
        super().__init__(f"expected typ {expected!r}, got {actual!r}")
        self.expected = expected
        self.actual = actual


class ForbiddenHeaderError(MalformedError):
    """A header that would let the token choose its own key or semantics (jku, x5u, jwk, crit)."""

    def __init__(self, header: str) -> None:
        super().__init__(f"header {header!r} is not accepted")
        self.header = header


class MissingClaimError(MalformedError):
    def __init__(self, claim: str) -> None:
        super().__init__(f"missing claim {claim!r}")
        self.claim = claim


class InvalidClaimError(MalformedError):
    def __init__(self, claim: str, reason: str) -> None:
        super().__init__(f"claim {claim!r}: {reason}")
        self.claim = claim


class PortraitMismatchError(InvalidClaimError):
    """The portrait's bytes do not hash to the signed portrait_sha256: the image is not the holder's face."""

    def __init__(self, *, expected: bytes, actual: bytes) -> None:
        super().__init__("picture", "does not hash to the signed portrait_sha256")
        self.expected = expected
        self.actual = actual


class InvalidApplicationError(MalformedError):
    """Claim-model validation failed (citizen ID check digit, codes, dates...)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class BadSignatureError(CredentialError):
    code = "BAD_SIGNATURE"

    def __init__(self, reason: str = "signature does not verify") -> None:
        super().__init__(reason)
        self.reason = reason


class UnsupportedAlgorithmError(BadSignatureError):
    def __init__(self, alg: object) -> None:
        super().__init__(f"algorithm {alg!r} is not accepted here")
        self.alg = alg


class UntrustedIssuerError(CredentialError):
    code = "UNTRUSTED_ISSUER"

    def __init__(self, kid: str, reason: str = "key is not in the trust list") -> None:
        super().__init__(f"{reason} (kid {kid!r})")
        self.kid = kid
        self.reason = reason


class ExpiredError(CredentialError):
    code = "EXPIRED"

    def __init__(self, expired_at: int) -> None:
        super().__init__(f"expired at {expired_at}")
        self.expired_at = expired_at


class NotYetValidError(CredentialError):
    code = "NOT_YET_VALID"

    def __init__(self, valid_from: int) -> None:
        super().__init__(f"not valid before {valid_from}")
        self.valid_from = valid_from


class ReplayedError(CredentialError):
    """A holder proof (live proof, KB-JWT) that is too old, reused or for another credential."""

    code = "REPLAYED"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StatusError(CredentialError):
    """No usable status data: a bad, stale, rolled-back or mismatched status list."""

    code = "STATUS_UNKNOWN"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RollbackError(StatusError):
    """A trust list or status list older than the one already held."""

    def __init__(self, what: str, held: int, offered: int) -> None:
        super().__init__(f"{what} {offered} is older than the held {held}")
        self.held = held
        self.offered = offered


class MissingHolderProofError(CredentialError):
    """Policy requires a holder proof (live proof, KB-JWT) and the presentation carries none."""

    code = "NO_HOLDER_PROOF"

    def __init__(self, reason: str = "no holder proof presented") -> None:
        super().__init__(reason)
        self.reason = reason
