"""A package door that loads its names on first use (PEP 562 module ``__getattr__``).

credential/ and issuer/ re-export their public API from ``__init__`` without importing every module up front:
``import credential.errors`` (which every package does) then costs nothing beyond that module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_door(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``exports`` maps each public name to the module defining it;
    a name is imported the first time it is asked for and then kept in ``namespace`` (the package's globals)."""

    def __getattr__(name: str) -> Any:  # noqa: N807  # the PEP 562 hook's own name
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
