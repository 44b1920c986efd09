"""The verified form of a file, kept in memory while the file is provably the one that was verified.

A verifier scans many passes against the same few files (trust list, status lists, state.json). Reading
and re-verifying them on every scan costs far more than the scan; a ``stat`` costs a microsecond. A memo
is used only when all of these hold, otherwise the file is read and verified again:

- the file's identity is unchanged: inode, device, size, mtime and ctime (nanoseconds). Every write by
  the cache goes through a new inode (os.replace); an edit in place changes ctime, which no tool can set;
- whatever the value was derived from (``deps``: the root file's identity, the trust list object) is
  the same;
- the identity was *settled* when it was read: its ctime lay well before the read began. A file written
  again within one timestamp tick of the previous write (same ctime, same size, same inode) would
  otherwise be indistinguishable — git's "racy clean" problem. A write after the read starts gets a
  ctime no earlier than the start minus the kernel's coarse-clock lag (≤ 10 ms) and the filesystem's
  granularity, so a margin larger than both (0.1 s; 3 s where timestamps are whole milliseconds, as on
  FAT or exFAT) makes such a write always visible.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

Identity = tuple[int, int, int, int, int]
FINE_MARGIN_NS = 100_000_000  # nanosecond timestamps: coarse-clock lag is at most one jiffy
COARSE_MARGIN_NS = 3_000_000_000  # FAT keeps 2 s, exFAT 10 ms: any whole-millisecond ctime gets this


def identity(path: Path | str) -> Identity | None:
    """What changes whenever the file does; None for a missing or non-regular file (never memoised).

    lstat: a symlink is not a regular file here (verifier.cachefiles refuses to read through one)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def settled(ident: Identity, start_ns: int) -> bool:
    """True when no write after ``start_ns`` can produce this identity again."""
    ctime = ident[4]
    margin = COARSE_MARGIN_NS if ctime % 1_000_000 == 0 else FINE_MARGIN_NS
    return ctime < start_ns - margin


class FileMemo(Generic[T]):
    """The last value computed from one file, with the identity and dependencies it was computed from."""

    __slots__ = ("_deps", "_ident", "_value")

    def __init__(self) -> None:
        self._ident: Identity | None = None
        self._deps: tuple[object, ...] = ()
        self._value: T | None = None

    def load(self, path: Path | str, deps: tuple[object, ...], compute: Callable[[], T], *,
             absent: Callable[[], T] | None = None) -> T:
        """The memoised value if ``path`` and ``deps`` are unchanged and settled, else ``compute()``.

        ``absent``: what ``compute`` gives for a path that is no regular file (missing, a folder, a symlink),
        returned at once for such a path: the stat already decided, and a second look (a status list's
        other form, absent on every scan) would only repeat it."""
        start = time.time_ns()  # before the stat: a write after this moment cannot look settled
        ident = identity(path)
        if ident is None and absent is not None:
            return absent()
        if ident is not None and ident == self._ident and deps == self._deps:
            return self._value  # type: ignore[return-value]  # set together with _ident
        value = compute()
        if ident is not None and settled(ident, start):
            self._ident, self._deps, self._value = ident, deps, value
        else:
            self._ident, self._deps, self._value = None, (), None
        return value
