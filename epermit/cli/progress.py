"""The progress bar of `epermit issue` on stderr: one line per stage of a batch (checking, issuing, the
sheet), each with its own count, so that a clerk watching 995 rows sees where the time goes.

Shown only when asked (a terminal, or ``--progress``): a log file or a pipe gets no carriage returns.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")


class Progress:
    def __init__(self, *, shown: bool) -> None:
        self.shown = shown
        self._bar: Any = None
        self._name = ""

    def stage(self, name: str, total: int | None) -> None:
        """Start the next stage: ``total`` steps (None: not known), named ``name`` (zh, then en)."""
        if not self.shown:
            return
        from tqdm import tqdm  # type: ignore[import-untyped]

        self.close()
        self._name = name
        self._bar = tqdm(total=total, unit="row", desc=name, file=sys.stderr, leave=True)

    def tick(self) -> None:
        self.advance(1)

    def advance(self, steps: int) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def each(self, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            yield item
            self.tick()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
