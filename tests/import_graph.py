"""Our import graph, read from the source: every import counts, also inside functions and under TYPE_CHECKING.

One home for the checker that tests/test_layering.py (the whole tree) and tests/keys/test_imports.py (keys/
alone, and the checker's own tests) use.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(packages: str | Iterable[str], root: Path = ROOT) -> dict[str, Path]:
    names = [packages] if isinstance(packages, str) else list(packages)
    return {module_name(path, root): path for package in names for path in sorted((root / package).rglob("*.py"))}


def modules(package: str | Iterable[str], root: Path = ROOT) -> dict[str, ast.Module]:
    return {name: ast.parse(path.read_text(encoding="utf-8"), str(path))
            for name, path in sources(package, root).items()}


def imported_modules(name: str, tree: ast.Module, known: set[str], *, is_package: bool) -> set[str]:
    """The modules of ``known`` that ``name`` imports anywhere in its source, at any depth."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:  # ``from keys import cli`` imports the module keys.cli
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in known else source)
    return found & known - {name}


def import_graph(package: str | Iterable[str], root: Path = ROOT) -> dict[str, set[str]]:
    paths = sources(package, root)
    return {name: imported_modules(name, ast.parse(path.read_text(encoding="utf-8"), str(path)), set(paths),
                                   is_package=path.name == "__init__.py")
            for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), each sorted; a cycle lies in one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups
