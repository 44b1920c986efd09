"""The verifier's local folder: the pinned root, the trust list, status lists, and a clock high-water mark.

Layout (no holder data anywhere)::

    root.pem                 the pinned root certificate: set once (``--root``), never replaced by a sync
    trustlist.jwt            the newest trust list accepted
    status/<sha256(uri)>.cwt one status list token per URI, as fetched: the CWT form (what sync asks for) or
    status/<sha256(uri)>.jwt the JWT form (an import, an older server); accepting one removes the other
    state.json               fetched-at times, the newest list accepted of each kind, the clock high-water mark

The tokens are the truth: they are re-verified (root -> trust list -> status key) whenever a file changes,
so a corrupted or hand-edited file is ignored rather than believed. Between changes, the verified forms are
kept in memory (verifier.filememo): a scan costs a few stat calls, not a file read and three signatures.
Files are read and written as verifier.cachefiles says: a symlink, FIFO or device is refused, not read;
every write goes to a temporary file moved into place, so a crash leaves the old file or the new one.

Marks (``Marks``): state.json records the (version, iat) of the newest trust list and the iat of the newest
status list accepted for each URI. A validly signed but older list copied back over a cache file is then
told apart from the current one: it may still report bad news (revoked, suspended) but can no longer prove
a credential good, and a sync or import older than the mark is refused as a rollback. If state.json is
missing, damaged or refused, no list can be shown current until the next sync rewrites it. The mark is per
URI, whatever the form: a JWT older than the CWT accepted before is as much a rollback as an older CWT. If
both forms of one list are on disk (a crash between writing one and removing the other, or a hand copy),
the one with the newer ``iat`` that verifies is used.

The high-water mark is the newest ``iat`` of any accepted trust or status list. Those lists were signed
after that moment, so a local clock earlier than it (beyond the tolerated skew) is wrong — rolled back
to make an expired credential look valid, or a dead RTC battery — and is not believed.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding

from credential.encoding import json_dumps, json_loads
from credential.errors import CredentialError, MalformedError, RollbackError, StatusError, TooLargeError
from credential.jose import DEFAULT_SKEW, int_claim, parse_compact
from credential.jwk import PublicKey
from credential.statuslist import (
    CWT_IAT,
    CWT_SUB,
    MAX_STATUS_LIST_TOKEN,
    STATUS_LIST_TYP,
    VerifiedStatusList,
    is_cwt,
    parse_status_list_cwt,
    unverified_cwt_claim,
    verify_status_list_cwt,
    verify_status_list_token,
)
from credential.trustlist import MAX_TRUST_LIST_SIZE, TRUST_LIST_TYP, TrustList, verify_trust_list
from verifier.cachefiles import atomic_write, file_problem, folder_problem, read_capped
from verifier.errors import CacheError, NoRootError, NoTrustListError, RootMismatchError, UnusableCacheFileError
from verifier.filememo import FileMemo, identity

MAX_ROOT_PEM = 64 * 1024
MAX_STATE = 4 * 1024 * 1024
STATUS_MAX_ENTRIES = 1 << 20

ROOT_FILE = "root.pem"
TRUST_FILE = "trustlist.jwt"
STATUS_DIR = "status"
STATE_FILE = "state.json"
STATUS_FORMS = ("cwt", "jwt")  # file suffixes of the two forms of a status list
StatusToken = str | bytes  # a status list as received: a compact JWS (text) or a CWT (bytes)


@dataclass(frozen=True)
class Clock:
    """The time a verification uses, and why it differs from the local clock when it does."""

    now: int  # max(local clock, high-water mark) when the local clock is distrusted, else the local clock
    warning: str | None


def _none() -> None:
    return None


def load_root_certificate(pem: bytes) -> x509.Certificate:
    """Read the root certificate a verifier pins; only P-256 and Ed25519 keys are accepted."""
    if len(pem) > MAX_ROOT_PEM:
        raise TooLargeError("root certificate", MAX_ROOT_PEM)
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise MalformedError("root file is not a PEM X.509 certificate") from exc
    key = cert.public_key()
    if not (
        isinstance(key, ed25519.Ed25519PublicKey)
        or (isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1))
    ):
        raise MalformedError("root certificate key must be P-256 or Ed25519")
    return cert


def status_file_name(uri: str, form: str = "jwt") -> str:
    """The file name of the list at ``uri`` in one of STATUS_FORMS."""
    if form not in STATUS_FORMS:
        raise ValueError(f"unknown status list form {form!r}")
    return hashlib.sha256(uri.encode("utf-8")).hexdigest() + "." + form


def _form(token: StatusToken) -> str:
    return "cwt" if isinstance(token, bytes) else "jwt"


def _unverified_int(token: str, claim: str, max_size: int) -> int:
    """A claim read before verification: only used to pick the time at which the token is re-verified."""
    return int_claim(parse_compact(token, max_size=max_size).payload, claim)


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


class _State(NamedTuple):
    data: dict[str, Any]  # state.json as read (empty when not intact); "status" is always a dict
    marks: Marks


def _marks(data: dict[str, Any], intact: bool) -> Marks:
    trust = data.get("trust")
    trust_mark = None
    if isinstance(trust, dict) and type(trust.get("version")) is int and type(trust.get("iat")) is int:
        trust_mark = (trust["version"], trust["iat"])
    # State written before the marks existed has none for a URI: nothing to compare its file with.
    status = {uri: entry["iat"] for uri, entry in data["status"].items()
              if isinstance(entry, dict) and type(entry.get("iat")) is int}
    return Marks(intact, trust_mark, status)


class VerifierCache:
    """One verifier's trust material on disk. Accepts lists from any channel (sync, USB stick, file)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        # Verified forms of the files, trusted while each file (and what it was verified with) is unchanged.
        self._state_memo: FileMemo[_State] = FileMemo()
        self._trust_memo: FileMemo[TrustList | None] = FileMemo()
        self._status_memo: dict[tuple[str, str], tuple[Path, str, FileMemo[VerifiedStatusList | None]]] = {}
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

    # -- state.json: fetched-at times and the high-water mark --------------------------------------

    def _state_view(self) -> _State:
        """state.json as held in memory: read it, never change it (``_state`` gives a copy to edit)."""
        return self._state_memo.load(self._state_name, (), lambda: self._load_state(self._state_path))

    @staticmethod
    def _load_state(path: Path) -> _State:
        try:
            raw = read_capped(path, MAX_STATE)
            state = None if raw is None else json_loads(raw, max_size=MAX_STATE)
        except (CredentialError, CacheError):
            state = None  # damaged or refused: ages and marks are lost, and marks() says so
        intact = isinstance(state, dict)
        data: dict[str, Any] = state if isinstance(state, dict) else {}
        if not isinstance(data.get("status"), dict):
            data["status"] = {}
        return _State(data, _marks(data, intact))

    def _state(self) -> dict[str, Any]:
        return copy.deepcopy(self._state_view().data)

    def marks(self) -> Marks:
        """The newest lists accepted, against which the files on disk are judged (module docstring)."""
        return self._state_view().marks

    def _save_state(self, state: dict[str, Any]) -> None:
        atomic_write(self.directory / STATE_FILE, json_dumps(state))

    def high_water(self) -> int:
        value = self._state_view().data.get("high_water")
        return value if type(value) is int else 0

    def clock(self, now: int, *, skew: int) -> Clock:
        """The time to judge validity at: the local clock, unless it is earlier than the high-water mark."""
        return self._clock(self._state_view(), now, skew)

    def scan_state(self, now: int, *, skew: int) -> tuple[Clock, Marks]:
        """What one scan needs of state.json, from one look at it: the clock to judge at, and the marks its
        lists are judged against (clock() and marks() would each look again)."""
        state = self._state_view()
        return self._clock(state, now, skew), state.marks

    @staticmethod
    def _clock(state: _State, now: int, skew: int) -> Clock:
        value = state.data.get("high_water")
        mark = value if type(value) is int else 0
        if now + skew < mark:
            return Clock(mark, f"local clock is {mark - now} s behind the newest signed list; using that list's time")
        return Clock(now, None)

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
                token, root_key=self.root_key(), now=_unverified_int(token, "iat", MAX_TRUST_LIST_SIZE)
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

    # -- status lists ------------------------------------------------------------------------------

    def _status_path(self, uri: str, form: str = "jwt") -> Path:
        return self.directory / STATUS_DIR / status_file_name(uri, form)

    def _check_status_folder(self) -> None:
        """A status folder replaced by a symlink would have every list read from, and written to, elsewhere:
        UnusableCacheFileError."""
        folder = self.directory / STATUS_DIR
        problem = folder_problem(folder)
        if problem is not None:
            raise UnusableCacheFileError(folder, problem)

    def _verify_status(self, token: StatusToken, uri: str, trust: TrustList, now: int) -> VerifiedStatusList:
        def resolve(kid: str) -> PublicKey:
            return trust.key_for(kid, purpose="status", now=now).public_key

        if isinstance(token, bytes):
            return verify_status_list_cwt(token, uri=uri, resolve_key=resolve, now=now,
                                          max_entries=STATUS_MAX_ENTRIES)
        return verify_status_list_token(
            token, uri=uri, resolve_key=resolve, now=now, max_entries=STATUS_MAX_ENTRIES
        )

    def accept_status_list(self, uri: str, token: StatusToken, now: int) -> VerifiedStatusList:
        """Verify ``token`` (a JWT as text, or a CWT as bytes) as the list at ``uri`` (status-purpose key of
        the held trust list, ``sub`` == uri) and keep it in its own form, unless it is older (``iat``) than
        the one held in either form or the newest accepted: RollbackError."""
        now = self.clock(now, skew=DEFAULT_SKEW).now
        trust = self.trust_list()
        if trust is None:
            raise NoTrustListError()
        verified = self._verify_status(token, uri, trust, now)
        self._check_status_folder()
        held = self.status_list(uri)
        floor = max(held.iat if held else 0, self.marks().status.get(uri, 0))
        if verified.iat < floor:
            raise RollbackError("status list issued at", held=floor, offered=verified.iat)
        if held is None or verified.iat > held.iat:
            form = _form(token)
            atomic_write(self._status_path(uri, form), token if isinstance(token, bytes) else token.encode("ascii"))
            for other in STATUS_FORMS:  # after the write: a crash leaves both, and the newer one is used
                if other != form:
                    self._remove(self._status_path(uri, other))
        state = self._state()
        state["status"][uri] = {"fetched_at": now, "iat": verified.iat}  # >= the old mark: checked above
        self._record(state, verified.iat)
        return verified

    @staticmethod
    def _remove(path: Path) -> None:
        """Remove the older form of a list. Whatever squats there (a folder, say) is left alone: the newer
        form is used all the same, and status_list_problem names the squatter if that one ever fails."""
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass

    def status_list(self, uri: str, *, trust: TrustList | None = None) -> VerifiedStatusList | None:
        """The held list for ``uri``, re-verified with the held trust list at its own ``iat`` (freshness is
        the policy's call); None when missing, damaged, or its key is no longer trusted.

        ``trust``: the held trust list the caller already has (one scan uses one), else it is loaded."""
        if trust is None:
            trust = self.trust_list()
        if trust is None:
            return None
        newest: VerifiedStatusList | None = None
        for form in STATUS_FORMS:
            held = self._held_form(uri, form, trust)
            if held is not None and (newest is None or held.iat > newest.iat):
                newest = held
        return newest

    def _held_form(self, uri: str, form: str, trust: TrustList) -> VerifiedStatusList | None:
        entry = self._status_memo.get((uri, form))
        if entry is None:
            path = self._status_path(uri, form)
            entry = self._status_memo[(uri, form)] = (path, os.fspath(path), FileMemo())
        path, name, memo = entry
        # Verified with this very trust list: a new one (a key revoked since) verifies the file again.
        # _load_status_list gives None for a path that is no regular file: no need to look again.
        return memo.load(name, (trust,), lambda: self._load_status_list(path, uri, trust, form), absent=_none)

    def _load_status_list(self, path: Path, uri: str, trust: TrustList, form: str) -> VerifiedStatusList | None:
        try:
            self._check_status_folder()
            raw = read_capped(path, MAX_STATUS_LIST_TOKEN)
        except (CredentialError, CacheError):  # too large, or not a regular file: status_list_problem says
            return None
        if raw is None:
            return None
        try:
            if form == "cwt":
                return self._verify_status(raw, uri, trust, unverified_cwt_claim(raw, CWT_IAT))
            token = raw.decode("ascii", errors="replace")
            return self._verify_status(token, uri, trust, _unverified_int(token, "iat", MAX_STATUS_LIST_TOKEN))
        except CredentialError:
            return None

    def status_list_problem(self, uri: str) -> str:
        """Why status_list(uri) is None (given a usable trust list), in one line."""
        paths = [self._status_path(uri, form) for form in STATUS_FORMS]
        try:
            self._check_status_folder()
        except UnusableCacheFileError as exc:
            return str(exc)
        for path in paths:
            problem = file_problem(path)
            if problem is not None:
                return f"{path.name} in the verifier cache {problem}: refused"
        if any(path.exists() for path in paths):
            return "the revocation data for this credential's status list does not verify (sync)"
        return "no revocation data for this credential's status list (sync first)"

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


__all__ = [
    "STATE_LOST",
    "Clock",
    "Marks",
    "VerifierCache",
    "load_root_certificate",
    "status_file_name",
]
