"""A fresh clone passes its tests: no test, script, Makefile or CI file reads a path outside the repository.

Scanned: every tracked (or new, not ignored) text file under tests/, .ci/, fuzz/, bench/ and web/tools/, plus the
Makefile, pyproject.toml and the web build files. Flagged in them:
- a literal pointer to the checkout's surroundings: the design folder beside it (``../`` + DESIGN_FOLDER),
  a ``/`` + DESIGN_FOLDER + ``/`` path, an absolute ``/work`` path;
- ``Path(__file__).parents[n]`` or ``.parent`` chains that climb above the repository root from that file;
- a run of ``../`` longer than the file's depth (it leaves the root whether read from the file or from the root).
And every Path constant of tests/vectors_path.py must exist inside the repository.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import vectors_path

ROOT = Path(__file__).resolve().parents[1]
SCANNED_DIRS = ("tests", ".ci", "fuzz", "bench", "web/tools")
SCANNED_FILES = ("Makefile", "pyproject.toml", "web/build.mjs", "web/package.json")
TEXT_SUFFIXES = {"", ".py", ".sh", ".mjs", ".js", ".json", ".toml", ".cfg", ".ini", ".txt", ".md", ".yml", ".yaml"}
# Vendored data is not code that opens files: the Wycheproof JSON is 1 MB of hex that must not be regex-scanned.
VENDORED = ("tests/vectors/wycheproof/", "tests/vectors/status-list/")
# Where the walk goes when git is not there (an unpacked tarball): the same files minus what .gitignore names.
PRUNED = {".git", ".venv", "node_modules", "__pycache__", ".hypothesis", ".mypy_cache", ".ruff_cache",
          ".pytest_cache", "build", "corpus"}

# Hostile inputs that look like paths but are data fed to the code under test (a kid, a header): never opened.
HOSTILE_INPUTS = {"tests/attacks/test_signature_attacks.py": ('"../../../../etc/passwd"',)}
# The folder beside our checkout that a fresh clone lacks; spelled once, so that this file names no path to it.
DESIGN_FOLDER = "shared"
LITERALS = (
    (re.compile(rf"\.\./{DESIGN_FOLDER}\b"), f"the ../{DESIGN_FOLDER} folder beside the checkout"),
    (re.compile(rf"/{DESIGN_FOLDER}/"), f"a /{DESIGN_FOLDER}/ path"),
    (re.compile(r"(?<![\w.~-])/work(?:/|\b)"), "an absolute /work path"),
)
PARENTS_INDEX = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?(?:\.absolute\(\))?\.parents\[(\d+)\]")
PARENT_CHAIN = re.compile(r"Path\(__file__\)(?:\.resolve\(\))?(?:\.absolute\(\))?((?:\.parent\b)+)")
DOTDOT_RUN = re.compile(r"(?<![\w.])((?:\.\./)+)")


def _candidates() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                                cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                if p.is_file() and not PRUNED.intersection(p.relative_to(ROOT).parts)]
    return [name for name in listed.decode().split("\0") if name]


def scanned_files() -> list[str]:
    """Repository-relative names of the files this test reads."""
    chosen = []
    for name in _candidates():
        in_scope = name in SCANNED_FILES or any(name.startswith(d + "/") for d in SCANNED_DIRS)
        if (in_scope and not name.startswith(VENDORED) and Path(name).suffix in TEXT_SUFFIXES
                and (ROOT / name).is_file() and ROOT / name != Path(__file__).resolve()):
            chosen.append(name)
    return sorted(chosen)


def escapes(name: str, text: str) -> Iterator[str]:
    """What in ``text`` (the file ``name``, relative to the root) points outside the repository."""
    depth = len(Path(name).parts) - 1  # directories between the root and the file
    for number, line in enumerate(text.splitlines(), 1):
        for hostile in HOSTILE_INPUTS.get(name, ()):
            line = line.replace(hostile, "")
        for pattern, what in LITERALS:
            if pattern.search(line):
                yield f"{name}:{number}: {what}: {line.strip()}"
        # Path(__file__).parents[0] is the file's directory, so the root is parents[depth]: one more is outside.
        for match in PARENTS_INDEX.finditer(line):
            if int(match.group(1)) > depth:
                yield f"{name}:{number}: parents[{match.group(1)}] climbs above the root: {line.strip()}"
        for match in PARENT_CHAIN.finditer(line):
            if match.group(1).count(".parent") > depth + 1:  # n times .parent is parents[n - 1]
                yield f"{name}:{number}: a .parent chain climbs above the root: {line.strip()}"
        for match in DOTDOT_RUN.finditer(line):
            if match.group(1).count("../") > depth:
                yield f"{name}:{number}: {match.group(1)} climbs above the root: {line.strip()}"


def test_the_scan_covers_the_files_that_open_paths() -> None:
    files = set(scanned_files())
    # If the listing broke (say git answered for another directory), the scan below would pass on nothing.
    assert {"Makefile", ".ci/run", "tests/vectors_path.py", "tests/credential/test_wycheproof.py",
            "tests/issuer/test_redis_store.py", "fuzz/fuzz_verify.py"} <= files
    assert not any(name.startswith(VENDORED) for name in files)


def test_no_file_points_outside_the_repository() -> None:
    found = [hit for name in scanned_files()
             for hit in escapes(name, (ROOT / name).read_text(encoding="utf-8", errors="replace"))]
    assert found == []


@pytest.mark.parametrize(("name", "text"), [
    ("tests/vectors_path.py", f'SHARED = Path(__file__).resolve().parents[2] / "{DESIGN_FOLDER}" / "vectors"'),
    ("tests/issuer/test_x.py", 'V = Path(__file__).resolve().parents[3] / "vectors"'),
    ("tests/x.py", 'V = Path(__file__).parent.parent.parent / "vectors"'),
    ("tests/x.py", f'V = Path("../{DESIGN_FOLDER}/vectors")'),
    ("Makefile", "\tcp -r ../../vectors tests/"),
    ("web/tools/x.mjs", 'readFileSync("../../../etc/x")'),
    (".ci/run", f"export VECTORS=/work/{DESIGN_FOLDER}/vectors"),
    ("tests/attacks/test_other.py", 'KIDS = ["../../../../etc/passwd"]'),  # only where it is named a hostile input
])
def test_each_kind_of_escape_is_caught(name: str, text: str) -> None:
    assert list(escapes(name, text))


@pytest.mark.parametrize(("name", "text"), [
    ("tests/issuer/test_x.py", 'ROOT = Path(__file__).resolve().parents[2]'),
    ("tests/web/browser.py", 'BUILD = Path(__file__).resolve().parent.parent / "wallet_api"'),
    ("web/build.mjs", '// Build the verifier page into ../wallet_api/static/verify'),
    ("web/tools/x.mjs", 'new URL("../node_modules/zxing-wasm/dist/reader/zxing_reader.wasm", import.meta.url)'),
    ("tests/x.py", 'EXAMPLE = "https://example.com/workers/1"'),
])
def test_paths_inside_the_repository_are_not_flagged(name: str, text: str) -> None:
    assert list(escapes(name, text)) == []


def test_every_vector_path_constant_exists_inside_the_repository() -> None:
    constants = {name: value for name, value in vars(vectors_path).items() if isinstance(value, Path)}
    assert constants, "tests/vectors_path.py names no paths"
    for name, value in constants.items():
        assert value.resolve().is_relative_to(ROOT), (name, value)
        assert value.exists(), (name, value)
