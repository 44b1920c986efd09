"""pyeudiw accepts our KB-JWT: an SD-JWT VC from our issuer, presented with credential.sdjwt.present, passes
its issuer-signature and key-binding checks, and a wrong audience, nonce or holder key is refused."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from credential.jwk import key_id, public_jwk
from credential.sdjwt import present
from keys import Purpose
from keys.signers import KeySigner
from tests.peers.conftest import PEER_TIMEOUT, PEERS_PYTHON, ROOT, LiveIssuer, require_peer, wall_clock

SCRIPT = ROOT / "tests" / "peers" / "python" / "pyeudiw_kb.py"
AUDIENCE = "https://verifier.example"
NONCE = "peer-nonce-0002"


def pyeudiw(arguments: dict[str, Any]) -> dict[str, Any]:
    require_peer(PEERS_PYTHON.is_file() and subprocess.run(
        [str(PEERS_PYTHON), "-c", "import pyeudiw.sd_jwt.sd_jwt"], capture_output=True, check=False,
        timeout=PEER_TIMEOUT).returncode == 0, "pyeudiw (in .venv-peers)")
    done = subprocess.run([str(PEERS_PYTHON), str(SCRIPT), json.dumps(arguments)], capture_output=True, text=True,
                          timeout=PEER_TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


class KbJwtKidError(AssertionError):
    """pyeudiw looks the KB-JWT's kid up in the cnf JWK (which has none) and finds no key."""


@pytest.mark.parametrize("change", [
    None, "aud", "nonce", "holder"])
def test_pyeudiw_checks_our_key_binding(issuer: LiveIssuer, change: str | None) -> None:
    holder = KeySigner.generate("ES256")
    offer = issuer.offer()
    token = issuer.service.redeem(offer.pre_authorized_code, offer.tx_code)
    [delivered] = issuer.service.deliver(token, [holder.public_key], offer.configuration_ids[0])
    signer = KeySigner.generate("ES256") if change == "holder" else holder
    text = present(delivered.sd_jwt_vc, disclose=("name", "birthdate"), holder_signer=signer,
                   aud="https://other.example" if change == "aud" else AUDIENCE,
                   nonce="other" if change == "nonce" else NONCE, now=wall_clock())
    credential_key = issuer.service.keyring.signer_for(Purpose.CREDENTIAL, now=wall_clock())
    issuer_jwk = {**public_jwk(credential_key.public_key), "kid": credential_key.kid}
    result = pyeudiw({"presentation": text, "issuer_jwk": issuer_jwk, "aud": AUDIENCE, "nonce": NONCE})
    if change is None:
        if not result["ok"] and result["step"] == "key binding" and f"Kid {key_id(holder.public_key)} not found" \
                in result["error"]:
            raise KbJwtKidError(result["error"])
        assert result["ok"], (result["step"], result["error"])
        assert {"name", "birthdate"} <= set(result["claims"]) and result["kb"]
    else:
        assert not result["ok"]
        assert ("JWSVerificationError" if change == "holder" else "InvalidKeyBinding") in result["error"]
