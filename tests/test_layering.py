"""DESIGN §3: the dependency direction between our packages, checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_graph import cycles
from tests.import_graph import import_graph as whole_graph

ROOT = Path(__file__).resolve().parent.parent
OURS = {"credential", "keys", "issuer", "verifier", "wallet_api", "epermit"}
ALLOWED = {
    "credential": set(),
    "keys": {"credential"},
    "verifier": {"credential"},
    "issuer": {"keys", "credential"},
    "wallet_api": {"issuer", "keys", "credential", "verifier"},  # the residents' login (wallet_api.login)
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
        "import sys, verifier, verifier.verify, verifier.cli, verifier.sync, verifier.qrimage, verifier.openid4vp\n"
        "loaded = {'flask', 'redis', 'qrcode'} & {m.split('.')[0] for m in sys.modules}\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- inside packages: the import graph, counting function-level and TYPE_CHECKING imports ------------------------

def import_graph() -> dict[str, set[str]]:
    return whole_graph(sorted(OURS), ROOT)


def test_no_import_cycle_anywhere() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# issuer/'s own direction: model <- store <- service <- http. A module may import its own layer or below.
ISSUER_LAYERS = {"issuer.errors": 0, "issuer.model": 0, "issuer.settings": 0, "issuer.rules": 0, "issuer.qr": 0,
                 "issuer.store": 1, "issuer.http": 3}


def issuer_layer(module: str) -> int:
    for prefix in sorted(ISSUER_LAYERS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return ISSUER_LAYERS[prefix]
    return 2  # the services: service, pickup, deferred, publication, audit, officers, desk, bulk, reissue


def test_issuer_depends_downwards_only() -> None:
    graph = import_graph()
    upward = {(module, target) for module, targets in graph.items() if module.startswith("issuer")
              for target in targets if target.startswith("issuer.") and issuer_layer(target) > issuer_layer(module)}
    assert upward == set()


def test_nothing_imports_the_command_line() -> None:
    graph = import_graph()
    importers = {module for module, targets in graph.items() for target in targets
                 if (target == "epermit.cli" or target.startswith("epermit.cli.")) and not module.startswith("epermit.cli")}
    assert importers == set()


# --- the public doors: every package's __init__ names its API, and each name resolves ------------------------------

DOORS = {
    "credential": ["verify_pass", "Permit", "issue_sd_jwt_vc", "StatusList", "TrustList", "EpermitError"],
    "keys": ["KeyRing", "Purpose", "load_keyring", "save_keyring", "init_keys"],
    "issuer": ["IssuerService", "IssuerSettings", "Store", "Record", "Officer", "IssuerError"],
    "verifier": ["verify", "VerifierCache", "Policy", "Result", "VerificationResult"],
    "wallet_api": ["create_app", "WalletApiSettings"],
}


@pytest.mark.parametrize("package", sorted(DOORS))
def test_each_package_door_exports_its_api(package: str) -> None:
    import importlib

    module = importlib.import_module(package)
    for name in DOORS[package]:  # `X as X` re-exports (verifier) or a PEP 562 door with __all__
        assert getattr(module, name) is not None, name
    for name in getattr(module, "__all__", ()):
        assert getattr(module, name) is not None, name
