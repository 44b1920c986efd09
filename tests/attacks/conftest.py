"""The attack suite runs on the verifier tests' issuing world: a real key ring, real signatures, a real cache."""

from __future__ import annotations

from tests.verifier.conftest import cache, filled, world

__all__ = ["cache", "filled", "world"]
