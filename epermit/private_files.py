"""Files that hold secrets or personal data (pickup sheets, SMS batches, the demo's offer): owner-only.

Written 0600 whatever the umask, and whatever the file was before: ``os.open``'s mode only applies to a
file it creates, so a file that already existed (say 0644) is tightened with ``fchmod`` before a byte is
written. A symbolic link is never followed: the file is ours, not wherever a link points. A folder made
for such files is 0700 (``private_folder``), an existing one of ours is tightened.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def open_private(path: Path, *, exclusive: bool = False) -> io.TextIOWrapper:
    """A UTF-8 text file for writing, 0600; ``exclusive``: refuse a file that exists (FileExistsError)."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return open(fd, "w", encoding="utf-8", newline="")


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, 0600."""
    with open_private(path) as out:
        out.write(text)


def write_private_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``, 0600 (a QR code of a secret is as secret as the secret)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, FILE_MODE)
    with open(fd, "wb") as out:
        os.fchmod(fd, FILE_MODE)
        out.write(data)


def check_replaceable(target: Path, *, overwrite: bool) -> None:
    """Refuse now what would stop a staged file's rename onto ``target`` later, before the caller stores
    anything: an existing target (unless ``overwrite``), or one that is not a regular file (a link, a folder)."""
    if os.path.lexists(target):
        if not overwrite:
            raise FileExistsError(f"{target} exists: refusing to overwrite it")
        if target.is_symlink() or not target.is_file():
            raise FileExistsError(f"{target} is not a regular file: refusing to replace it")


def publish_staged(temporary: Path, target: Path, *, overwrite: bool) -> None:
    """Put the written, fsynced ``temporary`` (beside ``target``) in place and make the new name durable.
    Without ``overwrite`` an existing target is refused by the link itself (no check-then-write race)."""
    if overwrite:
        os.replace(temporary, target)
    else:
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: check, then rename
            if os.path.lexists(target):
                raise FileExistsError(f"{target} exists: refusing to overwrite it") from None
            os.rename(temporary, target)
        else:
            os.unlink(temporary)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the new name survives a power cut
    finally:
        os.close(directory)


def private_folder(path: Path) -> Path:
    """``path`` as a folder only its owner can enter: made 0700, or tightened to it when it is ours (a folder
    another user owns, e.g. root's with a group for the service, is theirs to set; our files in it are 0600)."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    found = path.stat()
    if found.st_mode & 0o777 != FOLDER_MODE and found.st_uid == os.geteuid():
        path.chmod(FOLDER_MODE)
    return path
