"""verifier.filememo: a memo is used only while the file is provably the one it was computed from."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.verifier.conftest import STATUS_URI, World
from verifier.cache import VerifierCache, status_file_name
from verifier.filememo import COARSE_MARGIN_NS, FINE_MARGIN_NS, FileMemo, identity, settled


class Counter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return self.path.read_bytes()


def _wait_until_settled(path: Path) -> None:
    ident = identity(path)
    assert ident is not None
    while not settled(ident, time.time_ns()):
        time.sleep(0.02)


def test_a_settled_unchanged_file_is_read_once(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"one")
    _wait_until_settled(path)
    memo: FileMemo[bytes] = FileMemo()
    read = Counter(path)
    assert memo.load(path, (), read) == b"one"
    assert memo.load(path, (), read) == b"one"
    assert read.calls == 1


def test_any_change_is_seen_even_same_size_and_immediate(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"one")
    _wait_until_settled(path)
    memo: FileMemo[bytes] = FileMemo()
    read = Counter(path)
    assert memo.load(path, (), read) == b"one"
    path.write_bytes(b"two")  # in place, same size, same inode, right away
    assert memo.load(path, (), read) == b"two"
    tmp = tmp_path / "g"
    tmp.write_bytes(b"six")
    os.replace(tmp, path)  # a new inode, as the cache writes
    assert memo.load(path, (), read) == b"six"


def test_a_racy_file_is_read_every_time(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"one")  # ctime is now: a second write in the same tick would look identical
    memo: FileMemo[bytes] = FileMemo()
    read = Counter(path)
    memo.load(path, (), read)
    memo.load(path, (), read)
    assert read.calls == 2


def test_dependencies_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "f"
    memo: FileMemo[bytes | None] = FileMemo()
    assert memo.load(path, (), lambda: None) is None  # missing: never memoised
    path.write_bytes(b"one")
    _wait_until_settled(path)
    read = Counter(path)
    memo.load(path, (1,), read)
    memo.load(path, (2,), read)  # another dependency: computed again
    memo.load(path, (2,), read)
    assert read.calls == 2
    assert identity(tmp_path) is None  # a directory is not a file


def test_margins() -> None:
    now = time.time_ns()
    assert settled((1, 1, 1, 1, now - FINE_MARGIN_NS - 7), now)
    assert not settled((1, 1, 1, 1, now - 7), now)
    whole_second = (now // 1_000_000_000 - 2) * 1_000_000_000  # FAT-like timestamps get the wide margin
    assert not settled((1, 1, 1, 1, whole_second), whole_second + COARSE_MARGIN_NS - 1)


def test_cache_sees_a_damaged_status_file_after_a_settled_read(world: World, filled: VerifierCache) -> None:
    path = filled.directory / "status" / status_file_name(STATUS_URI)
    _wait_until_settled(path)
    _wait_until_settled(filled.directory / "trustlist.jwt")
    assert filled.status_list(STATUS_URI) is not None
    assert filled.status_list(STATUS_URI) is filled.status_list(STATUS_URI)  # memoised
    path.write_text(path.read_text()[:-5] + "AAAAA")  # same size, in place
    assert filled.status_list(STATUS_URI) is None


def test_cache_sees_a_removed_root(world: World, filled: VerifierCache) -> None:
    _wait_until_settled(filled.directory / "trustlist.jwt")
    _wait_until_settled(filled.directory / "root.pem")
    assert filled.trust_list() is not None
    (filled.directory / "root.pem").unlink()
    assert filled.trust_list() is None


def test_absent_answers_for_a_missing_or_irregular_path_without_computing(tmp_path: Path) -> None:
    path = tmp_path / "f"
    memo: FileMemo[bytes | None] = FileMemo()
    read = Counter(path)
    assert memo.load(path, (), read, absent=lambda: None) is None
    path.mkdir()  # a folder squatting where the file belongs: no regular file either
    assert memo.load(path, (), read, absent=lambda: None) is None
    assert read.calls == 0
    path.rmdir()
    path.write_bytes(b"now here")  # the file appears: it is read at once, never hidden by the absence
    assert memo.load(path, (), read, absent=lambda: None) == b"now here"
    assert read.calls == 1
    path.unlink()  # and gone again: absent, not the value read before
    assert memo.load(path, (), read, absent=lambda: None) is None
