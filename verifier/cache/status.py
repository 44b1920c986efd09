"""Status list files: status/<sha256(uri)>.cwt or .jwt, read, verified and kept verified in memory.

A list is verified with the held trust list's status-purpose key at the list's own ``iat`` (freshness is the
policy's call) and memoised while its file, and the trust list it was verified with, are unchanged
(verifier.filememo). If both forms of one list are on disk (a crash between writing one and removing the
other, or a hand copy), the one with the newer ``iat`` that verifies is used.
"""

from __future__ import annotations

import os
from pathlib import Path

from credential.errors import CredentialError
from credential.jose import int_claim, parse_compact
from credential.jwk import PublicKey
from credential.statuslist import (
    CWT_IAT,
    MAX_STATUS_LIST_TOKEN,
    VerifiedStatusList,
    unverified_cwt_claim,
    verify_status_list_cwt,
    verify_status_list_token,
)
from credential.trustlist import TrustList
from verifier.cache.layout import STATUS_DIR, STATUS_FORMS, StatusToken, status_file_name
from verifier.cachefiles import file_problem, folder_problem, read_capped
from verifier.errors import CacheError, UnusableCacheFileError
from verifier.filememo import FileMemo

STATUS_MAX_ENTRIES = 1 << 20


def unverified_int(token: str, claim: str, max_size: int) -> int:
    """A claim read before verification: only used to pick the time at which the token is re-verified."""
    return int_claim(parse_compact(token, max_size=max_size).payload, claim)


def verify_status(token: StatusToken, uri: str, trust: TrustList, now: int) -> VerifiedStatusList:
    """``token`` (a CWT as bytes, a JWT as text) as the list at ``uri``, signed by a status key of ``trust``."""
    def resolve(kid: str) -> PublicKey:
        return trust.key_for(kid, purpose="status", now=now).public_key

    if isinstance(token, bytes):
        return verify_status_list_cwt(token, uri=uri, resolve_key=resolve, now=now, max_entries=STATUS_MAX_ENTRIES)
    return verify_status_list_token(token, uri=uri, resolve_key=resolve, now=now, max_entries=STATUS_MAX_ENTRIES)


def _none() -> None:
    return None


class StatusFiles:
    """The status/ folder of one cache: where each list lives, and the verified lists held in memory."""

    def __init__(self, directory: Path) -> None:
        self.folder = directory / STATUS_DIR
        self._memo: dict[tuple[str, str], tuple[Path, str, FileMemo[VerifiedStatusList | None]]] = {}

    def path(self, uri: str, form: str = "jwt") -> Path:
        return self.folder / status_file_name(uri, form)

    def check_folder(self) -> None:
        """A status folder replaced by a symlink would have every list read from, and written to, elsewhere:
        UnusableCacheFileError."""
        problem = folder_problem(self.folder)
        if problem is not None:
            raise UnusableCacheFileError(self.folder, problem)

    def newest(self, uri: str, trust: TrustList) -> VerifiedStatusList | None:
        """The held list for ``uri`` that verifies with ``trust``, the newer of its two forms; None if none."""
        newest: VerifiedStatusList | None = None
        for form in STATUS_FORMS:
            held = self._held_form(uri, form, trust)
            if held is not None and (newest is None or held.iat > newest.iat):
                newest = held
        return newest

    def _held_form(self, uri: str, form: str, trust: TrustList) -> VerifiedStatusList | None:
        entry = self._memo.get((uri, form))
        if entry is None:
            path = self.path(uri, form)
            entry = self._memo[(uri, form)] = (path, os.fspath(path), FileMemo())
        path, name, memo = entry
        # Verified with this very trust list: a new one (a key revoked since) verifies the file again.
        # _load gives None for a path that is no regular file: no need to look again.
        return memo.load(name, (trust,), lambda: self._load(path, uri, trust, form), absent=_none)

    def _load(self, path: Path, uri: str, trust: TrustList, form: str) -> VerifiedStatusList | None:
        try:
            self.check_folder()
            raw = read_capped(path, MAX_STATUS_LIST_TOKEN)
        except (CredentialError, CacheError):  # too large, or not a regular file: problem() says
            return None
        if raw is None:
            return None
        try:
            if form == "cwt":
                return verify_status(raw, uri, trust, unverified_cwt_claim(raw, CWT_IAT))
            token = raw.decode("ascii", errors="replace")
            return verify_status(token, uri, trust, unverified_int(token, "iat", MAX_STATUS_LIST_TOKEN))
        except CredentialError:
            return None

    def problem(self, uri: str) -> str:
        """Why newest(uri, trust) is None (given a usable trust list), in one line."""
        paths = [self.path(uri, form) for form in STATUS_FORMS]
        try:
            self.check_folder()
        except UnusableCacheFileError as exc:
            return str(exc)
        for path in paths:
            problem = file_problem(path)
            if problem is not None:
                return f"{path.name} in the verifier cache {problem}: refused"
        if any(path.exists() for path in paths):
            return "the revocation data for this credential's status list does not verify (sync)"
        return "no revocation data for this credential's status list (sync first)"

    @staticmethod
    def remove(path: Path) -> None:
        """Remove the older form of a list. Whatever squats there (a folder, say) is left alone: the newer
        form is used all the same, and problem() names the squatter if that one ever fails."""
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


__all__ = ["STATUS_MAX_ENTRIES", "StatusFiles", "unverified_int", "verify_status"]
