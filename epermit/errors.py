"""Errors of the `epermit` application itself (beside credential/, keys/, issuer/ and verifier/'s own)."""

from __future__ import annotations

from credential.errors import EpermitError


class UsageError(EpermitError):
    """The command line, the data folder or the environment cannot be used as given (exit 2)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
