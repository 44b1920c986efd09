"""Offline verification for landlords and employers: trust and status list cache, sync, QR decoding, CLI.

    from verifier import Policy, VerifierCache, sync, verify

    cache = VerifierCache("~/.cache/epermit/verifier")
    sync("https://permits.example.gov.cn", cache, now=now, root_pem=root_pem)  # the only network access
    outcome = verify(scanned_text, cache, policy=Policy(), now=now)          # never raises for bad input

No flask, redis or image library is loaded here: QR images are read by ``verifier.qrimage`` (zxing-cpp,
Pillow), the human report is ``verifier.report``, the command line ``verifier.cli``.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

# The names below are bound after their submodules load, so that the function ``verify`` (not the module
# verifier.verify) is what `from verifier import ...` gives.
from verifier.cache import VerifierCache as VerifierCache
from verifier.errors import CacheError as CacheError
from verifier.errors import InvalidPolicyError as InvalidPolicyError
from verifier.errors import NoRootError as NoRootError
from verifier.errors import NoTrustListError as NoTrustListError
from verifier.errors import RootMismatchError as RootMismatchError
from verifier.errors import SyncError as SyncError
from verifier.errors import UsageError as UsageError
from verifier.errors import VerifierError as VerifierError
from verifier.policy import Policy as Policy
from verifier.result import Result as Result
from verifier.result import VerificationResult as VerificationResult
from verifier.verify import verify as verify

if TYPE_CHECKING:
    from verifier.sync import SyncSummary as SyncSummary
    from verifier.sync import sync as sync

# The network sync code loads on first use (`from verifier import sync`, or importing verifier.sync): a scan,
# a fresh process each time, never syncs. Importing the submodule binds the package attribute ``sync`` to
# the module; the package keeps the function there instead, whichever way it was loaded.
_LAZY = {"sync": "verifier.sync", "SyncSummary": "verifier.sync"}


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name == "sync" and isinstance(value, types.ModuleType):
            value = value.sync
        super().__setattr__(name, value)


if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any name imported from the package

    def __getattr__(name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module 'verifier' has no attribute {name!r}")
        import importlib

        module = importlib.import_module(_LAZY[name])
        return getattr(module, name)


sys.modules[__name__].__class__ = _Package
