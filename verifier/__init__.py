"""Offline verification for landlords and employers: trust and status list cache, sync, QR decoding, CLI.

    from verifier import Policy, VerifierCache, sync, verify

    cache = VerifierCache("~/.cache/epermit/verifier")
    sync("https://permits.example.gov.cn", cache, now=now, root_pem=root_pem)  # the only network access
    outcome = verify(scanned_text, cache, policy=Policy(), now=now)          # never raises for bad input

No flask, redis or image library is loaded here: QR images are read by ``verifier.qrimage`` (zxing-cpp,
Pillow), the human report is ``verifier.report``, the command line ``verifier.cli``.
"""

from __future__ import annotations

# The names below are bound after their submodules load, so that the function ``verify`` (not the module
# verifier.verify) and the function ``sync`` (not verifier.sync) are what `from verifier import ...` gives.
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
from verifier.sync import SyncSummary as SyncSummary
from verifier.sync import sync as sync
from verifier.verify import verify as verify
