"""Errors of the key lifecycle: unlocking, finding, storing, rotating and using private keys.

They share credential.errors.EpermitError as their root so that one ``except`` at a boundary (the CLI, the
HTTP error handler) covers every epermit failure. This module imports nothing else of keys/, so every other
module may raise its errors. Purposes are typed ``str`` here (keys.purpose.Purpose is a StrEnum) for the same
reason.
"""

from __future__ import annotations

from collections.abc import Iterable

from credential.errors import EpermitError


class KeyManagementError(EpermitError):
    """A key directory or key file cannot be used as asked (exists already, damaged, inconsistent)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyUnlockError(KeyManagementError):
    """No passphrase, an empty one, or one that does not open the key file."""


class KeyNotFoundError(KeyManagementError):
    """A key the key ring names is not where it should be."""

    def __init__(self, kid: str, reason: str = "key not found") -> None:
        super().__init__(f"{reason} (kid {kid!r})")
        self.kid = kid


class KeyPurposeError(KeyManagementError):
    """A key was asked to sign something outside its purpose or past its window."""

    def __init__(self, kid: str, purpose: str, reason: str) -> None:
        super().__init__(f"key {kid} ({purpose}) refuses to sign: {reason}")
        self.kid = kid
        self.purpose = purpose


class PurposeNotAllowedError(KeyManagementError):
    """A purpose that the operation does not take: not a purpose at all, or the root where a signing
    purpose is needed (the root is not rotated, and has no signing certificate)."""

    def __init__(self, purpose: str, allowed: Iterable[str]) -> None:
        self.purpose = purpose
        self.allowed = tuple(allowed)
        super().__init__(f"purpose {purpose!r} is not one of {', '.join(self.allowed)}")


class RevocationReasonError(KeyManagementError):
    """A revocation's reason is empty, longer than ``limit`` characters, or not printable on one line."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"a revocation needs a reason of 1-{limit} printable characters (got {length})")
        self.length = length
        self.limit = limit


class TrustListVersionError(KeyManagementError):
    """A trust list version that is not positive, or not above the highest one already published."""

    def __init__(self, requested: int, published: int) -> None:
        reason = ("the trust list version must be positive" if requested < 1 else
                  f"version {published} was already published; refusing to publish version {requested}")
        super().__init__(reason)
        self.requested = requested
        self.published = published
