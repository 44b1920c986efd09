"""Errors of the key lifecycle: unlocking, finding and storing private keys.

They share credential.errors.EpermitError as their root so that one ``except`` at a boundary (the CLI, the
HTTP error handler) covers every epermit failure.
"""

from __future__ import annotations

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
