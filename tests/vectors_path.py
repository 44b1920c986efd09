"""Where the vendored test vectors live: tests/vectors/ in this repository (each folder's README.md says whence)."""

from __future__ import annotations

from pathlib import Path

VECTORS_DIR = Path(__file__).resolve().parent / "vectors"
WYCHEPROOF_DIR = VECTORS_DIR / "wycheproof"
STATUS_LIST_VECTORS = VECTORS_DIR / "status-list" / "token-status-list-vectors.json"
PORTRAIT_SOURCE = VECTORS_DIR / "portrait" / "astronaut-face.png"
