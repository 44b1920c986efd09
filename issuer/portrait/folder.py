"""The photos a bulk CSV names (its ``portrait`` column): files relative to the CSV's own folder.

A name is a relative path that stays inside that folder (no absolute path, no ``..``, no symbolic link
out of it) and names a regular file no larger than the upload cap; anything else is the row's error
(InvalidApplicationError on ``portrait``), found while every row is validated, before anything is stored.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from credential.errors import InvalidApplicationError
from issuer.portrait.capture import MAX_UPLOAD

PORTRAIT_COLUMN = "portrait"


def portrait_reader(folder: Path) -> Callable[[str], bytes]:
    root = folder.resolve()

    def read(name: str) -> bytes:
        relative = PurePosixPath(name.replace("\\", "/"))
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise InvalidApplicationError(PORTRAIT_COLUMN, "must be a file name relative to the CSV's folder")
        path = (root / Path(*relative.parts)).resolve()
        if root not in path.parents:
            raise InvalidApplicationError(PORTRAIT_COLUMN, "must name a file inside the CSV's folder")
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise InvalidApplicationError(PORTRAIT_COLUMN, f"cannot open {name}: {exc.strerror}") from exc
        with os.fdopen(fd, "rb") as handle:
            if not os.path.isfile(path) or os.fstat(handle.fileno()).st_size > MAX_UPLOAD:
                raise InvalidApplicationError(PORTRAIT_COLUMN, f"{name} is not a photo file of at most "
                                                               f"{MAX_UPLOAD // (1024 * 1024)} MiB")
            return handle.read(MAX_UPLOAD + 1)

    return read
