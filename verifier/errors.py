"""The verifier's own failures: its cache folder, its sync, its policy and its command line.

``VerifierError`` sits beside ``credential.errors.CredentialError`` under the neutral
``credential.errors.EpermitError``. None of these is a verdict on a credential, so none carries a DESIGN §5
``code``: a credential that cannot be judged because of one of them is reported by ``verifier.verify`` with
the result that is true for the credential (never synced: NOT_SET_UP; a trust list refused: UNTRUSTED_ISSUER;
no status data: STATUS_UNKNOWN), and the reason says which of these it was.
"""

from __future__ import annotations

from pathlib import Path

from credential.errors import EpermitError


class VerifierError(EpermitError):
    """Root of the verifier's own errors; ``reason`` is one line for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CacheError(VerifierError):
    """The verifier cache cannot do what was asked of it."""


class NoRootError(CacheError):
    """No root certificate is pinned, so nothing in the cache can be verified."""

    def __init__(self, directory: Path) -> None:
        super().__init__(f"no root pinned in {directory}: sync once with --root root.pem")
        self.directory = directory


class RootMismatchError(CacheError):
    """A root other than the pinned one was offered; the pinned root is never replaced by a sync."""

    def __init__(self, directory: Path) -> None:
        super().__init__(f"a different root is already pinned in {directory}; remove root.pem to re-pin")
        self.directory = directory


class NoTrustListError(CacheError):
    """A status list was offered before any trust list: nothing says which keys may sign it."""

    def __init__(self) -> None:
        super().__init__("no trust list held: sync or import a trust list before status lists")


class NotSetUpError(CacheError):
    """A credential was to be judged by a verifier that was never synced: no root pinned or no trust list."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class UnusableCacheFileError(CacheError):
    """A cache file that is not a plain readable file (a symlink, FIFO, device, folder) is refused, not read."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path.name} in the verifier cache {problem}: refused")
        self.path = path
        self.problem = problem


class SyncError(VerifierError):
    """A document could not be fetched (network, HTTP status, scheme, an unusable URL)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url


class InvalidPolicyError(VerifierError):
    """A Policy field out of its range."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field


class UsageError(VerifierError):
    """A bad command line or an unreadable input file: the CLI exits 2 with this one line."""


__all__ = [
    "CacheError",
    "InvalidPolicyError",
    "NoRootError",
    "NoTrustListError",
    "NotSetUpError",
    "RootMismatchError",
    "SyncError",
    "UnusableCacheFileError",
    "UsageError",
    "VerifierError",
]
