"""VerifierCache: one verifier's trust material on disk (the package docstring has the layout and the rules)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding

from credential.encoding import json_dumps
from credential.errors import CredentialError, MalformedError, RollbackError, StatusError
from credential.jose import DEFAULT_SKEW, parse_compact
from credential.jwk import PublicKey
from credential.statuslist import (
    CWT_SUB,
    MAX_STATUS_LIST_TOKEN,
    STATUS_LIST_TYP,
    VerifiedStatusList,
    is_cwt,
    parse_status_list_cwt,
)
from credential.trustlist import MAX_TRUST_LIST_SIZE, TRUST_LIST_TYP, TrustList, verify_trust_list
from verifier.cache.layout import ROOT_FILE, STATE_FILE, STATUS_FORMS, TRUST_FILE, StatusToken, token_form
from verifier.cache.root import MAX_ROOT_PEM, load_root_certificate
from verifier.cache.state import Clock, Marks, State, clock_at, high_water, load_state
from verifier.cache.status import StatusFiles, unverified_int, verify_status
from verifier.cachefiles import atomic_write, file_problem, read_capped
from verifier.errors import CacheError, NoRootError, NoTrustListError, RootMismatchError
from verifier.filememo import FileMemo, identity


class VerifierCache:
    """One verifier's trust material on disk. Accepts lists from any channel (sync, USB stick, file)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        # Verified forms of the files, trusted while each file (and what it was verified with) is unchanged.
        self._state_memo: FileMemo[State] = FileMemo()
        self._trust_memo: FileMemo[TrustList | None] = FileMemo()
        self._status = StatusFiles(self.directory)
        self._trust_path = self.directory / TRUST_FILE
        self._state_path = self.directory / STATE_FILE
        self._root_file = self.directory / ROOT_FILE
        # Files stat-ed on every scan, named as text: no Path conversion each time.
        self._root_name = os.fspath(self._root_file)
        self._trust_name = os.fspath(self._trust_path)
        self._state_name = os.fspath(self._state_path)

    # -- the pinned root -------------------------------------------------------------------------

    def has_root(self) -> bool:
        """Something is pinned (a root.pem that is not a regular file is refused when read, not replaced)."""
        return os.path.lexists(self._root_file)

    def is_set_up(self) -> bool:
        """A root is pinned and a trust list was stored: the cache has been synced at least once (whether
        its files still verify is trust_list()'s question)."""
        return self.has_root() and os.path.lexists(self._trust_path)

    def pin_root(self, pem: bytes) -> None:
        """Pin ``pem`` as the root. Pinning the same certificate again is a no-op; a different one is refused."""
        cert = load_root_certificate(pem)
        der = cert.public_bytes(Encoding.DER)
        if self.has_root():
            if self.root_certificate().public_bytes(Encoding.DER) != der:
                raise RootMismatchError(self.directory)
            return
        atomic_write(self._root_file, cert.public_bytes(Encoding.PEM))

    def root_certificate(self) -> x509.Certificate:
        pem = read_capped(self._root_file, MAX_ROOT_PEM)
        if pem is None:
            raise NoRootError(self.directory)
        return load_root_certificate(pem)

    def root_key(self) -> PublicKey:
        key = self.root_certificate().public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey)  # load_root_certificate
        return key

    # -- state.json: fetched-at times, marks and the high-water mark (verifier.cache.state) ------------

    def _state_view(self) -> State:
        """state.json as held in memory: read it, never change it (``_state`` gives a copy to edit)."""
        return self._state_memo.load(self._state_name, (), lambda: load_state(self._state_path))

    def _state(self) -> dict[str, Any]:
        return copy.deepcopy(self._state_view().data)

    def marks(self) -> Marks:
        """The newest lists accepted, against which the files on disk are judged (verifier.cache.state)."""
        return self._state_view().marks

    def _save_state(self, state: dict[str, Any]) -> None:
        atomic_write(self._state_path, json_dumps(state))

    def high_water(self) -> int:
        return high_water(self._state_view())

    def clock(self, now: int, *, skew: int) -> Clock:
        """The time to judge validity at: the local clock, unless it is earlier than the high-water mark."""
        return clock_at(self._state_view(), now, skew)

    def scan_state(self, now: int, *, skew: int) -> tuple[Clock, Marks]:
        """What one scan needs of state.json, from one look at it: the clock to judge at, and the marks its
        lists are judged against (clock() and marks() would each look again)."""
        state = self._state_view()
        return clock_at(state, now, skew), state.marks

    def _record(self, state: dict[str, Any], iat: int) -> None:
        mark = state.get("high_water")
        state["high_water"] = max(iat, mark if type(mark) is int else 0)
        self._save_state(state)

    # -- the trust list ----------------------------------------------------------------------------

    def accept_trust_list(self, token: str, now: int) -> TrustList:
        """Verify ``token`` against the pinned root and keep it, unless it is older than the one held or the
        newest accepted (the mark): RollbackError. The same version is kept only if newer (by ``iat``)."""
        now = self.clock(now, skew=DEFAULT_SKEW).now
        held = self.trust_list()
        floor = max((held.version, held.iat) if held else (0, 0), self.marks().trust or (0, 0))
        trust = verify_trust_list(token, root_key=self.root_key(), now=now, min_version=floor[0])
        if trust.iat > now + DEFAULT_SKEW:  # would drag the high-water mark, and every verdict, into the future
            raise StatusError("trust list issued in the future: check this computer's clock")
        if (trust.version, trust.iat) < floor:
            raise RollbackError("trust list issued at", held=floor[1], offered=trust.iat)
        if held is None or (trust.version, trust.iat) > (held.version, held.iat):
            atomic_write(self.directory / TRUST_FILE, token.encode("ascii"))
        state = self._state()
        state["trust_fetched_at"] = now
        state["trust"] = {"version": trust.version, "iat": trust.iat}  # >= the old mark: checked above
        self._record(state, trust.iat)
        return trust

    def trust_list(self) -> TrustList | None:
        """The held trust list, re-verified against the pinned root; None if there is none usable.

        Verified again whenever the trust list file or the root file changes (verifier.filememo)."""
        return self._trust_memo.load(self._trust_name, (identity(self._root_name),),
                                     lambda: self._load_trust_list(self._trust_path))

    def _load_trust_list(self, path: Path) -> TrustList | None:
        try:
            raw = read_capped(path, MAX_TRUST_LIST_SIZE)
        except (CredentialError, CacheError):  # too large, or not a regular file: trust_list_problem says
            return None
        if raw is None or not self.has_root():
            return None
        token = raw.decode("ascii", errors="replace")
        try:
            return verify_trust_list(
                token, root_key=self.root_key(), now=unverified_int(token, "iat", MAX_TRUST_LIST_SIZE)
            )
        except (CredentialError, CacheError):  # a damaged root, or one removed since has_root()
            return None

    def trust_list_problem(self) -> str:
        """Why trust_list() is None, in one line for the person at the verifier."""
        for path in (self._root_file, self._trust_path):
            problem = file_problem(path)
            if problem is not None:
                return f"{path.name} in the verifier cache {problem}: refused"
        if not self.has_root():
            return f"no root pinned in the verifier cache {self.directory} (run `epermit verify sync URL --root FILE`)"
        if not self._trust_path.exists():
            return "no trust list in the verifier cache (run `epermit verify sync`)"
        return "the trust list in the verifier cache does not verify against the pinned root (run `epermit verify sync`)"

    def trust_fetched_at(self) -> int | None:
        value = self._state_view().data.get("trust_fetched_at")
        return value if type(value) is int else None

    # -- status lists (verifier.cache.status) ------------------------------------------------------

    def accept_status_list(self, uri: str, token: StatusToken, now: int) -> VerifiedStatusList:
        """Verify ``token`` (a JWT as text, or a CWT as bytes) as the list at ``uri`` (status-purpose key of
        the held trust list, ``sub`` == uri) and keep it in its own form, unless it is older (``iat``) than
        the one held in either form or the newest accepted: RollbackError."""
        now = self.clock(now, skew=DEFAULT_SKEW).now
        trust = self.trust_list()
        if trust is None:
            raise NoTrustListError()
        verified = verify_status(token, uri, trust, now)
        self._status.check_folder()
        held = self.status_list(uri)
        floor = max(held.iat if held else 0, self.marks().status.get(uri, 0))
        if verified.iat < floor:
            raise RollbackError("status list issued at", held=floor, offered=verified.iat)
        if held is None or verified.iat > held.iat:
            form = token_form(token)
            atomic_write(self._status.path(uri, form), token if isinstance(token, bytes) else token.encode("ascii"))
            for other in STATUS_FORMS:  # after the write: a crash leaves both, and the newer one is used
                if other != form:
                    self._status.remove(self._status.path(uri, other))
        state = self._state()
        state["status"][uri] = {"fetched_at": now, "iat": verified.iat}  # >= the old mark: checked above
        self._record(state, verified.iat)
        return verified

    def status_list(self, uri: str, *, trust: TrustList | None = None) -> VerifiedStatusList | None:
        """The held list for ``uri``, re-verified with the held trust list at its own ``iat`` (freshness is
        the policy's call); None when missing, damaged, or its key is no longer trusted.

        ``trust``: the held trust list the caller already has (one scan uses one), else it is loaded."""
        if trust is None:
            trust = self.trust_list()
        return None if trust is None else self._status.newest(uri, trust)

    def status_list_problem(self, uri: str) -> str:
        """Why status_list(uri) is None (given a usable trust list), in one line."""
        return self._status.problem(uri)

    def status_fetched_at(self, uri: str) -> int | None:
        entry = self._state_view().data["status"].get(uri)
        value = entry.get("fetched_at") if isinstance(entry, dict) else None
        return value if type(value) is int else None

    def status_uris(self) -> list[str]:
        return sorted(uri for uri in self._state_view().data["status"] if isinstance(uri, str))

    # -- any channel -------------------------------------------------------------------------------

    def accept_token(self, token: str | bytes, now: int) -> tuple[str, TrustList | VerifiedStatusList]:
        """Accept a trust list or a status list token from a file: a status list CWT (bytes), or a compact
        JWS whose ``typ`` header says which; a status list is filed under its own ``sub``.
        Returns ("trust_list" | "status_list", verified)."""
        if is_cwt(token):
            assert isinstance(token, bytes)  # is_cwt says so
            sub = parse_status_list_cwt(token)[1].get(CWT_SUB)
            if not isinstance(sub, str) or not sub:
                raise MalformedError("status list CWT lacks its sub (URI)")
            return "status_list", self.accept_status_list(sub, token, now)
        if isinstance(token, bytes):
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError:
                raise MalformedError("neither a compact JWS nor a status list CWT") from None
        token = token.strip()
        jws = parse_compact(token, max_size=max(MAX_TRUST_LIST_SIZE, MAX_STATUS_LIST_TOKEN))
        typ = jws.header.get("typ")
        if typ == TRUST_LIST_TYP:
            return "trust_list", self.accept_trust_list(token, now)
        if typ == STATUS_LIST_TYP:
            sub = jws.payload.get("sub")
            if not isinstance(sub, str) or not sub:
                raise MalformedError("status list token lacks its sub (URI)")
            return "status_list", self.accept_status_list(sub, token, now)
        raise MalformedError(f"not a trust list or status list token (typ {typ!r})")



__all__ = ["MAX_ROOT_PEM", "VerifierCache", "load_root_certificate"]
