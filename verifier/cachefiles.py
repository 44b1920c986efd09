"""How the verifier cache touches its files: refuse anything but a plain file, read with a cap, write atomically.

The cache folder is writable by whoever runs the verifier, and by anyone who can replace its files. A file
that is not a regular file is refused before it is opened: a FIFO would block the open (and with it every
scan) until someone writes to it, a device can have side effects on open, and a symlink can point the
verifier at a file it never wrote. The open itself is O_NOFOLLOW | O_NONBLOCK and checked with fstat, so a
file swapped between the lstat and the open is refused too.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from credential.errors import TooLargeError
from verifier.errors import UnusableCacheFileError

# getattr: Windows has neither flag; there a FIFO or a symlink is not a cache hazard of the same kind.
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
)


def kind_problem(mode: int) -> str | None:
    """Why a file of this ``st_mode`` is refused; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if stat.S_ISFIFO(mode):
        return "is a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISDIR(mode):
        return "is a folder"
    return "is not a regular file"


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a cache file (never following a symlink); None if it is fine or absent."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    return kind_problem(st.st_mode)


def folder_problem(path: Path) -> str | None:
    """Why ``path`` cannot hold cache files (never following a symlink); None if it is a folder or absent."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    return None if stat.S_ISDIR(mode) else kind_problem(mode)


def read_capped(path: Path, limit: int) -> bytes | None:
    """The bytes of the regular file ``path`` (None if absent); TooLargeError beyond ``limit`` bytes,
    UnusableCacheFileError for anything that is not a readable regular file."""
    problem = file_problem(path)
    if problem is not None:
        raise UnusableCacheFileError(path, problem)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since the lstat
            raise UnusableCacheFileError(path, "is a symbolic link") from exc
        raise UnusableCacheFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(fd)
        problem = kind_problem(st.st_mode)
        if problem is not None:  # swapped for a FIFO or device since the lstat: opened, never read
            raise UnusableCacheFileError(path, problem)
        # read(limit + 1) would allocate the whole cap (4 MiB for state.json) on every scan: size first.
        try:
            data = handle.read(min(st.st_size, limit) + 1)
        except OSError as exc:
            raise UnusableCacheFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if len(data) > limit:
        raise TooLargeError(path.name, limit)
    return data


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and move it into place: a crash leaves either file.

    os.replace swaps the directory entry, so a symlink or FIFO squatting on ``path`` is replaced, not
    written through."""
    import tempfile  # only writes need it (with shutil and fnmatch): a scan only reads

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = ["atomic_write", "file_problem", "folder_problem", "kind_problem", "read_capped"]
