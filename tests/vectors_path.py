"""Where the shared test vectors live: ../shared/vectors beside the checkout (CI lays it there too)."""

from __future__ import annotations

from pathlib import Path

SHARED_VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors"
