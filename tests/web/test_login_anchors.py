"""Which CAs the wallet PWA proves a login request with (web/wallet/src/loginanchors.js), run in node from the
sources: the office's root that /wallet/verifiers.json names as ``issuer_login`` counts only for that exact
client_id, only for the card's own issuer named by the trust list the wallet verified, and only when it is the
very root the wallet pinned — as the command-line wallet's epermit.wallet.anchors decides. Otherwise the
operator's CA bundle alone proves the request, and the refusal the resident reads says why the root did not
count. (Chromium: tests/web/test_wallet_login_root.py.)"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.jwk import public_jwk
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.tls import LoopbackCA
from keys import KeyRing

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://epermit.example"
CLIENT = "x509_san_dns:epermit.example"


def der(certificate: Any) -> str:
    return base64.b64encode(certificate.public_bytes(Encoding.DER)).decode("ascii")


def javascript(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (ROOT / "web" / "node_modules" / "@peculiar" / "x509").exists():
        pytest.skip("the web build's packages are not installed (cd web && npm ci)")
    run = subprocess.run([node, str(ROOT / "tests" / "web" / "loginanchors_cases.mjs")], input=json.dumps(cases),
                         capture_output=True, text=True, timeout=60, check=False, cwd=ROOT / "web")
    assert run.returncode == 0, run.stderr
    answer: list[dict[str, Any]] = json.loads(run.stdout)
    return answer


def test_the_office_root_counts_for_its_own_issuers_login_only_and_only_as_the_pinned_root() -> None:
    now = int(time.time())
    office = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now)
    other = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now)
    bundle = der(LoopbackCA(now=now).certificate)
    root, other_root = der(office.root_certificate), der(other.root_certificate)
    pinned = {"issuer": ISSUER, "root": public_jwk(office.root.public_key)}

    def served(*certificates: str, client_id: str = CLIENT) -> dict[str, Any]:
        return {"certificates": [bundle], "issuer_login": {"client_id": client_id, "certificates": list(certificates)}}

    cases = {
        "the issuer's login, the pinned root": (served(root), CLIENT, ISSUER, pinned),
        "no issuer_login (the demo)": ({"certificates": [bundle]}, CLIENT, ISSUER, pinned),
        "named for another client_id": (served(root, client_id="x509_san_dns:employer.example"), CLIENT, ISSUER, pinned),
        "an employer's request": (served(root), "x509_san_dns:employer.example", ISSUER, pinned),
        "another root than the pinned one": (served(other_root), CLIENT, ISSUER, pinned),
        "the pinned root and another": (served(root, other_root), CLIENT, ISSUER, pinned),
        "no certificate": (served(), CLIENT, ISSUER, pinned),
        "not base64 DER": (served("not a certificate!"), CLIENT, ISSUER, pinned),
        "no pinned root yet": (served(root), CLIENT, ISSUER, None),
        "a trust list of another issuer": (served(root), CLIENT, ISSUER, {**pinned, "issuer": "https://other.example"}),
    }
    answers = javascript([{"served": s, "clientId": c, "card": {"issuer": i}, "trust": t}
                          for s, c, i, t in cases.values()])
    said = dict(zip(cases, answers, strict=True))
    assert said == {
        "the issuer's login, the pinned root": {"anchors": [bundle, root], "refusal": None},
        "no issuer_login (the demo)": {"anchors": [bundle], "refusal": None},
        "named for another client_id": {"anchors": [bundle], "refusal": None},
        "an employer's request": {"anchors": [bundle], "refusal": None},
        "another root than the pinned one": {"anchors": [bundle], "refusal": "login_root_mismatch"},
        "the pinned root and another": {"anchors": [bundle], "refusal": "login_root_mismatch"},
        "no certificate": {"anchors": [bundle], "refusal": "login_root_mismatch"},
        "not base64 DER": {"anchors": [bundle], "refusal": "login_root_mismatch"},
        "no pinned root yet": {"anchors": [bundle], "refusal": "login_root_unpinned"},
        "a trust list of another issuer": {"anchors": [bundle], "refusal": "login_root_unpinned"},
    }
