"""`epermit backup --data DIR OUT` and `epermit restore BACKUP --data DIR`: a whole office, consistently.

Copying epermit.sqlite3 alone while the office runs loses what is still in its WAL (acknowledged records).
``backup`` takes the store through SQLite's online backup API (one consistent snapshot; the office keeps
running), copies every other file of the data folder as it is (keys/, settings, published documents), and
writes manifest.json: the audit chain's head and record count in the copy, and each file's size and SHA-256.
The backup folder is 0700 and its files 0600 (personal data, sealed keys); it appears at OUT only once whole.
It is itself a data folder: `epermit audit verify --data OUT` runs on it, read-only.

``restore`` refuses a target folder that is not empty, checks every file against the manifest (none missing,
changed or added) and the copy's audit chain against the manifest's head, then puts the folder in place
whole. The manifest catches damage, not someone who can rewrite the backup: compare the head ``restore``
prints with one noted outside the machine (`epermit audit head`; docs/backup.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from credential.errors import EpermitError
from epermit.cli.harness import EXIT_OK, Subparsers, guarded
from epermit.errors import UsageError
from epermit.office import STORE_FILE, OfficeData
from issuer.audit import Anchor, all_entries, verify_chain
from issuer.errors import AuditChainError
from issuer.store.sqlite import SQLiteStore

MANIFEST = "manifest.json"
FORMAT = "epermit-backup"
VERSION = 1
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_FILES = 100_000
CHUNK = 1 << 20
# Beside the store: SQLite's own files, never copied (the backup API has taken what they hold).
_STORE_COMPANIONS = tuple(STORE_FILE + suffix for suffix in ("", "-wal", "-shm", "-journal"))


class BackupMismatchError(EpermitError):
    """The backup does not match its manifest (a file missing, changed or added, or the manifest unusable);
    ``path`` names the file (or the manifest)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Manifest:
    files: tuple[FileEntry, ...]
    head: Anchor | None  # the audit head in the store copy; None for an empty (or broken) log


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative, POSIX separators
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def add_backup_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    backup = subparsers.add_parser("backup", help="copy a data folder consistently, while the office runs")
    backup.add_argument("--data", type=Path, required=True, help="the office's data folder")
    backup.add_argument("out", type=Path, help="the backup folder to create (must not exist, or be empty)")
    backup.set_defaults(handler=guarded("backup", _backup))

    restore = subparsers.add_parser("restore", help="restore a backup into an empty data folder")
    restore.add_argument("backup", type=Path, help="a folder made by `epermit backup`")
    restore.add_argument("--data", type=Path, required=True, help="the data folder to create (must be empty)")
    restore.set_defaults(handler=guarded("restore", _restore))


# --- backup ----------------------------------------------------------------------------------------------

def _backup(args: argparse.Namespace) -> int:
    office = OfficeData(args.data)
    if not office.store_path.is_file():
        raise UsageError(f"no registry at {office.store_path} (is --data the office's data folder?)")
    out: Path = args.out
    _require_empty(out)
    if out.absolute().resolve().is_relative_to(office.path.absolute().resolve()):
        raise UsageError(f"{out} is inside the data folder {office.path}: put the backup elsewhere")
    files = _office_files(office.path)  # refuses a link or a device before anything is written
    staging = _staging(out, "partial")
    try:
        store = office.open_store(read_only=True)
        try:
            store.backup_to(staging / STORE_FILE)
        finally:
            store.close()
        entries = [_digest(staging, STORE_FILE)]
        entries += [_copy(office.path, staging, name) for name in files]
        audit = _audit_of(staging / STORE_FILE)
        manifest = {"format": FORMAT, "version": VERSION, "created_at": int(time.time()), "store": STORE_FILE,
                    **audit, "files": [e.as_json() for e in entries]}
        _write_private(staging / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        _put_in_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    head = audit["audit_head"] or "none (empty log)"
    print(f"backup {out}: {len(entries)} files, {audit['records']} records, audit head {head}")
    if audit["audit_problem"]:
        print(f"WARNING: the audit chain in this backup is broken: {audit['audit_problem']}")
    print("note the head outside the machine: `epermit restore` prints it again to compare")
    return EXIT_OK


def _office_files(root: Path) -> list[str]:
    """Every file of the data folder to copy as it is (relative POSIX paths, sorted): all but the store."""
    found: list[str] = []
    for directory, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names) + [d for d in dirs if (Path(directory) / d).is_symlink()]:
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            if Path(directory) == root and name in _STORE_COMPANIONS:
                continue
            if path.is_symlink() or not path.is_file():
                raise UsageError(f"{path} is not a regular file (a link or a device): a backup copies files only")
            found.append(relative)
    return found


def _audit_of(store_file: Path) -> dict[str, Any]:
    """What the manifest says of the store copy: its record count and its audit chain's head."""
    copy = SQLiteStore(store_file, read_only=True)
    try:
        records = sum(1 for _ in copy.record_states())
        try:
            report = verify_chain(all_entries(copy))
        except AuditChainError as exc:
            return {"records": records, "audit_entries": None, "audit_head": None, "audit_problem": str(exc)}
        head = None if report.head is None else str(report.head)
        return {"records": records, "audit_entries": report.entries, "audit_head": head, "audit_problem": None}
    finally:
        copy.close()


# --- restore ---------------------------------------------------------------------------------------------

def _restore(args: argparse.Namespace) -> int:
    source: Path = args.backup
    target: Path = args.data
    manifest = _read_manifest(source)
    _require_empty(target)
    expected = {e.path for e in manifest.files}
    present = set(_office_files(source)) - {MANIFEST} | ({STORE_FILE} if (source / STORE_FILE).is_file() else set())
    for missing in sorted(expected - present):
        raise BackupMismatchError(missing, "listed in the manifest, missing from the backup")
    for extra in sorted(present - expected):
        raise BackupMismatchError(extra, "in the backup, not in the manifest")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _staging(target, "restoring")
    try:
        for entry in manifest.files:  # checked as copied: what is checked is what lands in the data folder
            copied = _copy(source, staging, entry.path)
            if (copied.size, copied.sha256) != (entry.size, entry.sha256):
                raise BackupMismatchError(entry.path, "differs from the manifest (damaged or altered)")
        head = _check_chain(staging / STORE_FILE, manifest.head)
        _put_in_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(f"restored {len(manifest.files)} files into {target}; audit head {head or 'none (empty log)'}: "
          "compare it with the head noted when the backup was made")
    return EXIT_OK


def _read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST
    if not path.is_file():
        raise UsageError(f"no {MANIFEST} in {source} (is it a folder made by `epermit backup`?)")
    with open(path, "rb") as handle:
        data = handle.read(MAX_MANIFEST_BYTES + 1)
    try:
        if len(data) > MAX_MANIFEST_BYTES:
            raise ValueError("too large")
        manifest = json.loads(data)
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} version {VERSION} manifest")
        files = manifest["files"]
        if not isinstance(files, list) or len(files) > MAX_FILES:
            raise ValueError("no usable file list")
        entries = tuple(FileEntry(_safe_path(f["path"]), int(f["size"]), str(f["sha256"])) for f in files)
        head = manifest.get("audit_head")
        anchor = None if head is None else Anchor.parse(str(head))
    except (ValueError, KeyError, TypeError, AttributeError, EpermitError) as exc:
        raise BackupMismatchError(MANIFEST, f"unusable: {exc}") from None
    if len({e.path for e in entries}) != len(entries) or STORE_FILE not in {e.path for e in entries}:
        raise BackupMismatchError(MANIFEST, f"unusable: repeated paths, or no {STORE_FILE}")
    return Manifest(entries, anchor)


def _check_chain(store_file: Path, head: Anchor | None) -> Anchor | None:
    """The copy's chain must verify and still hold the manifest's head (a broken chain backed up as broken
    has no head: it is restored as it was)."""
    copy = SQLiteStore(store_file, read_only=True)
    try:
        return verify_chain(all_entries(copy), expect=head).head if head is not None else None
    finally:
        copy.close()


def _safe_path(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 4096 or "\\" in value or "\0" in value:
        raise ValueError(f"bad path {str(value)[:80]!r}")
    parts = PurePosixPath(value).parts
    if PurePosixPath(value).is_absolute() or any(p in ("", ".", "..") for p in parts) or value != "/".join(parts):
        raise ValueError(f"bad path {value[:80]!r}")
    return value


# --- files -----------------------------------------------------------------------------------------------

def _require_empty(folder: Path) -> None:
    if folder.is_symlink() or (folder.exists() and (not folder.is_dir() or any(folder.iterdir()))):
        raise UsageError(f"{folder} exists and is not an empty folder: refusing to write into it")


def _staging(final: Path, kind: str) -> Path:
    """A private folder beside ``final``, renamed to it once complete (one file system, one rename)."""
    staging = final.parent / f".{final.name}.{kind}-{secrets.token_hex(6)}"
    staging.mkdir(mode=0o700)
    return staging


def _copy(source_root: Path, target_root: Path, relative: str) -> FileEntry:
    """Copy one file (0600, its folders 0700, fsynced), digesting the bytes written."""
    target = target_root / relative
    for parent in reversed(target.relative_to(target_root).parents[:-1]):
        (target_root / parent).mkdir(mode=0o700, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(source_root / relative, "rb") as src, open(fd, "wb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return FileEntry(relative, size, digest.hexdigest())


def _digest(root: Path, relative: str) -> FileEntry:
    digest, size = hashlib.sha256(), 0
    with open(root / relative, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(relative, size, digest.hexdigest())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _put_in_place(staging: Path, final: Path) -> None:
    for directory, _, _ in os.walk(staging):
        _fsync_dir(Path(directory))
    if final.is_dir():
        final.rmdir()  # empty (checked): the rename takes its place
    os.rename(staging, final)
    _fsync_dir(final.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
