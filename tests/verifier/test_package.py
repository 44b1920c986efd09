"""The package's door: `from verifier import verify, VerifierCache, Policy, ...` without the heavy parts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_public_names_are_the_functions_not_their_modules() -> None:
    # verifier.verify and verifier.sync are also submodules: whichever loads first, the package must
    # still hand out the functions.
    code = (
        "import inspect, verifier.sync, verifier.verify\n"
        "from verifier import Policy, Result, VerificationResult, VerifierCache, VerifierError, sync, verify\n"
        "assert inspect.isfunction(verify) and verify.__module__ == 'verifier.verify', verify\n"
        "assert inspect.isfunction(sync) and sync.__module__ == 'verifier.sync', sync\n"
        "assert {Policy.__module__, Result.__module__, VerificationResult.__module__, VerifierCache.__module__,\n"
        "        VerifierError.__module__} == {'verifier.policy', 'verifier.result', 'verifier.cache.folder', 'verifier.errors'}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_importing_the_package_loads_no_image_or_report_code() -> None:
    code = (
        "import sys, verifier\n"
        "loaded = {'PIL', 'zxingcpp', 'qrcode', 'flask', 'redis'} & {m.split('.')[0] for m in sys.modules}\n"
        "loaded |= {'verifier.qrimage', 'verifier.cli'} & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
