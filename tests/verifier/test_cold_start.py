"""`epermit verify` of one QR text, a fresh process each scan, loads only the code that verification uses.

Most of a scan's start-up was imports of code it never ran (issue 19): the network sync, the SD-JWT code,
cryptography's x509 package (certificate objects, names, path validation) and serialization package (SSH
formats, ciphers), the image readers. This pins the budget by name, not by time: the scan runs in a
subprocess through the console script's entry point and reports what it loaded. The same run given an SD-JWT
VC shows the check sees a module loaded on first use.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.verifier.test_cli_sd_jwt import SdJwtWorld

ROOT = Path(__file__).resolve().parents[2]
# Loaded by no QR text scan: a package name stands for its submodules too.
NOT_FOR_A_QR_SCAN = frozenset({
    "verifier.sync", "credential.sdjwt", "credential.disclosures", "verifier.openid4vp",
    "cryptography.x509", "cryptography.hazmat.primitives.serialization",
    "PIL", "zxingcpp", "ssl", "http", "urllib.request", "email", "socket", "shutil",
    "issuer", "keys", "wallet_api", "flask", "redis",
})

SCAN = """
import io, json, sys
from contextlib import redirect_stdout
from epermit.cli import main
with redirect_stdout(io.StringIO()) as out:
    status = main(["verify", "--cache", sys.argv[1], sys.argv[2]])
print(json.dumps({"status": status, "first": out.getvalue().splitlines()[0], "modules": sorted(sys.modules)}))
"""


def scan(world: SdJwtWorld, credential: str) -> tuple[int, str, set[str]]:
    path = world.dir / "scanned.txt"
    path.write_text(credential + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", SCAN, str(world.cache), str(path)], cwd=ROOT, check=True,
                          capture_output=True, text=True)
    report = json.loads(done.stdout)
    return report["status"], report["first"], set(report["modules"])


def loaded(modules: set[str], names: frozenset[str]) -> set[str]:
    return {m for m in modules for name in names if m == name or m.startswith(name + ".")}


@pytest.fixture
def world(tmp_path: Path) -> SdJwtWorld:
    built = SdJwtWorld(tmp_path)
    built.imported()
    return built


@pytest.mark.parametrize("live", [False, True])
def test_a_qr_scan_loads_only_what_it_uses(world: SdJwtWorld, live: bool) -> None:
    status, first, modules = scan(world, world.qr(live=live))
    assert (status, first) == (0, f"✔ VALID ({'live' if live else 'static'}) — 有效")  # every check ran
    assert {"verifier.verify", "credential.trustlist", "credential.certificate"} <= modules
    assert loaded(modules, NOT_FOR_A_QR_SCAN) == set()


def test_an_sd_jwt_scan_loads_the_sd_jwt_code(world: SdJwtWorld) -> None:
    status, first, modules = scan(world, world.presentation())
    assert status == 0 and first.startswith("✔ VALID")
    assert {"credential.sdjwt", "credential.disclosures"} <= loaded(modules, NOT_FOR_A_QR_SCAN)
