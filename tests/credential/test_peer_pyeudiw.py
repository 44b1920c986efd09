"""pyeudiw 2.2.0 (italia/eudi-wallet-it-python), an independent relying party, accepts our SD-JWT VC presentations.

It once refused every one of them with "Key with Kid … not found": it matches a KB-JWT header's kid against the
holder's cnf.jwk, which has none. The KB-JWT header is now typ and alg only (RFC 9901 §4.3).
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import pytest

from credential.jwk import public_jwk
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc, present
from keys import KeyRing, KeySigner, Purpose
from tests.peer_venv import peer_python, run_peer

PEER = "pyeudiw==2.2.0"
ISS = "https://jzz.example.gov.cn"
AUD = "https://landlord.example"


@pytest.fixture(scope="module")
def python() -> Path:
    return peer_python(PEER)


def _world() -> tuple[dict[str, Any], str]:
    now = int(time.time())  # the peer judges the KB-JWT's iat by the wall clock
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    signer = ring.signer_for(Purpose.CREDENTIAL, now=now)
    holder = KeySigner.generate()
    today = datetime.date.today()
    credential = issue_sd_jwt_vc(
        sample_permit(valid_from=today, valid_until=today + datetime.timedelta(days=30)), issuer=ISS,
        signer=signer, holder_key=holder.public_key, status_uri=f"{ISS}/statuslists/1", status_idx=3, now=now,
        exp=now + 86400, certificates=(ring.certificates[signer.kid],),  # as the issuer sends it: with x5c
    )
    presentation = present(credential, disclose={"name", "document_number"}, holder_signer=holder, aud=AUD,
                           nonce="n-1", now=now)
    return {**public_jwk(signer.public_key), "kid": signer.kid}, presentation


def test_pyeudiw_verifies_our_presentation_and_refuses_a_wrong_nonce(python: Path) -> None:
    issuer_jwk, presentation = _world()
    answer = run_peer(python, "pyeudiw_sd_jwt.py", {"issuer_jwk": issuer_jwk, "cases": [
        {"presentation": presentation, "aud": AUD, "nonce": "n-1"},
        {"presentation": presentation, "aud": AUD, "nonce": "another"},
    ]})
    accepted, wrong_nonce = answer["results"]
    assert accepted["ok"], accepted["error"]
    assert {"name", "document_number", "vct", "cnf", "status"} <= set(accepted["claims"])
    assert "citizen_id" not in accepted["claims"]
    assert not wrong_nonce["ok"]  # the peer really checks: our acceptance above means something
