"""The wallet PWA and the command-line wallet agree on the two things of a renewal that no browser test can
twist: the JWK thumbprint a code and a session are bound to (web/wallet/src/jwkthumb.js, credential.jwk), and
which authorization responses are believed (web/wallet/src/codeflow.js, epermit.wallet.renewal: iss and state
checked before the code or an error is, RFC 9207 §2.4). The JavaScript runs in node, from the sources."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from credential.encoding import b64url_encode
from credential.jwk import public_jwk, thumbprint
from epermit.wallet.renewal import REDIRECT_URI, RenewalRefusedError, authorization_response

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://127.0.0.1:8443"
STATE = "s" * 32


def response(**fields: str) -> str:
    return f"{REDIRECT_URI}?{urllib.parse.urlencode(fields)}"


RESPONSES = {
    "good": response(code="abc", state=STATE, iss=ISSUER),
    "another issuer": response(code="abc", state=STATE, iss="https://evil.example"),
    "no issuer": response(code="abc", state=STATE),
    "another state": response(code="abc", state="t" * 32, iss=ISSUER),
    "denied": response(error="access_denied", error_description="nothing to renew", state=STATE, iss=ISSUER),
    "denied by a mix-up": response(error="access_denied", state=STATE, iss="https://evil.example"),
    "no code": response(state=STATE, iss=ISSUER),
    "another redirect_uri": f"https://wallet.example/callback?{urllib.parse.urlencode({'code': 'abc', 'state': STATE, 'iss': ISSUER})}",
}


def python_answer(redirect: str) -> dict[str, str]:
    try:
        return {"code": authorization_response(redirect, issuer=ISSUER, state=STATE)}
    except RenewalRefusedError as exc:
        return {"error": exc.error}


def javascript(cases: dict[str, Any]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (ROOT / "web" / "node_modules" / "@peculiar" / "x509").exists():
        pytest.skip("the web build's packages are not installed (cd web && npm ci)")
    run = subprocess.run([node, str(ROOT / "tests" / "web" / "codeflow_twins.mjs")], input=json.dumps(cases),
                         capture_output=True, text=True, timeout=60, check=False, cwd=ROOT / "web")
    assert run.returncode == 0, run.stderr
    answer: dict[str, Any] = json.loads(run.stdout)
    return answer


def test_both_wallets_read_the_same_authorization_responses_and_name_keys_alike() -> None:
    keys = [ec.generate_private_key(ec.SECP256R1()).public_key() for _ in range(5)]
    cases = {"jwks": [public_jwk(k) for k in keys],
             "responses": [{"redirect": r, "issuer": ISSUER, "state": STATE} for r in RESPONSES.values()]}
    answer = javascript(cases)
    assert answer["thumbprints"] == [b64url_encode(thumbprint(k)) for k in keys]
    expected = [python_answer(r) for r in RESPONSES.values()]
    assert dict(zip(RESPONSES, answer["responses"], strict=True)) == dict(zip(RESPONSES, expected, strict=True))
    # And what both say: only the good one yields a code; a denial is believed only from the right issuer.
    assert [name for name, said in zip(RESPONSES, expected, strict=True) if "code" in said] == ["good"]
    assert expected[list(RESPONSES).index("denied")] == {"error": "access_denied"}
    assert expected[list(RESPONSES).index("denied by a mix-up")] == {"error": "invalid_request"}
