"""DESIGN §3: the dependency direction between our packages, checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"credential", "keys", "issuer", "verifier", "wallet_api", "epermit"}
ALLOWED = {
    "credential": set(),
    "keys": {"credential"},
    "verifier": {"credential"},
    "issuer": {"keys", "credential"},
    "wallet_api": {"issuer", "keys", "credential"},
    "epermit": OURS - {"epermit"},
}
SERVER_ONLY = {"flask", "redis", "qrcode", "gunicorn"}


def imported_top_levels(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_design_allows(package: str) -> None:
    imported = imported_top_levels(package)
    forbidden = {name: files for name, files in imported.items() if name in OURS - {package} - ALLOWED[package]}
    assert forbidden == {}


@pytest.mark.parametrize("package", ["credential", "keys", "verifier"])
def test_core_packages_do_not_import_server_libraries(package: str) -> None:
    imported = imported_top_levels(package)
    assert SERVER_ONLY & set(imported) == set()


def test_importing_the_verifier_loads_neither_flask_nor_redis() -> None:
    code = (
        "import sys, verifier, verifier.verify, verifier.cli, verifier.sync, verifier.qrimage\n"
        "loaded = {'flask', 'redis', 'qrcode'} & {m.split('.')[0] for m in sys.modules}\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
