"""keys/ on the source: no import cycle between its modules, counting the imports a runtime check misses
(inside functions, under ``if TYPE_CHECKING:``), and no system clock (time is the caller's ``now``)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.import_graph import cycles, import_graph, modules

# The operator's boundary (epermit/cli/keys.py) reads the clock and passes ``now`` in; nothing in keys/ does.
CLOCK_EXEMPT: set[str] = set()
CLOCK_CALLS = {"now", "utcnow", "today"}  # datetime.now(), date.today(), ...


def clock_reads(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name == "time"]
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            found.append("from time import ...")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in CLOCK_CALLS):
            found.append(f"{ast.unparse(node.func)}()")
    return found


def test_keys_has_no_import_cycle() -> None:
    graph = import_graph("keys")
    assert {"keys", "keys.keyring", "keys.keydir", "keys.purpose", "keys.errors"} <= set(graph)
    assert "keys.keyring" in graph["keys.keydir"]  # the direction: the directory reads and writes the ring
    assert cycles(graph) == []


def test_the_ring_knows_nothing_of_files() -> None:
    graph = import_graph("keys")
    assert not graph["keys.keyring"] & {"keys.keydir", "keys.keystore", "keys.publish", "keys.rotation", "keys"}
    assert graph["keys.errors"] == set()  # every module may raise its errors


def test_hidden_cycles_are_found(tmp_path: Path) -> None:
    """The checker itself: a cycle through a function-level import and one through TYPE_CHECKING."""
    package = tmp_path / "pkg"
    package.mkdir()
    sources = {
        "__init__.py": "from pkg.a import A as A\n",
        "a.py": "class A:\n    def load(self) -> None:\n        from pkg.b import load\n        load()\n",
        "b.py": "from pkg.a import A\n\ndef load() -> A: ...\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import d\n",
        "d.py": "from .c import x\n",
        "e.py": "from pkg import A\n",  # through the package door, which imports pkg.a only: no cycle
    }
    for file, text in sources.items():
        (package / file).write_text(text, encoding="utf-8")
    graph = import_graph("pkg", tmp_path)
    assert graph["pkg.c"] == {"pkg.d"} and graph["pkg.e"] == {"pkg"}
    assert cycles(graph) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d"]]
    (package / "a.py").write_text("import pkg\n", encoding="utf-8")  # a module importing its own door
    assert cycles(import_graph("pkg", tmp_path)) == [["pkg", "pkg.a"], ["pkg.c", "pkg.d"]]


def test_keys_reads_no_system_clock() -> None:
    reads = {name: clock_reads(tree) for name, tree in modules("keys").items() if name not in CLOCK_EXEMPT}
    assert {name: found for name, found in reads.items() if found} == {}
    assert clock_reads(ast.parse("import time\nimport datetime\ndatetime.datetime.now()\n")) == [
        "time", "datetime.datetime.now()"]
