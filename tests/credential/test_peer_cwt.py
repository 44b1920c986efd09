"""python-cwt 3.3.0, an independent COSE/CWT library, verifies our QR pass and live proof exactly as sent.

With its default settings: the pass (COSE_Sign1, tag 18, taken out of base45 and zlib) with the issuer's public
key as a COSE_Key, then the live proof with the holder key python-cwt itself reads from the pass's cnf claim.
It refuses a compressed EC2 key, an untagged message and, in other libraries, a message without alg: the pass
carries an uncompressed holder key, and the proof is tagged and names ES256.
"""

from __future__ import annotations

import datetime
import time
import zlib
from pathlib import Path
from typing import Any

import cbor2
import pytest

from credential.base45 import b45decode
from credential.jwk import kid_bytes
from credential.qrpass import QR_PREFIX, encode_pass, live_qr_text
from credential.samples import sample_permit
from keys import KeyRing, KeySigner, Purpose
from tests.peer_venv import peer_python, run_peer

PEER = "cwt==3.3.0"  # needs cbor2 < 6: its own venv
STATUS_URI = "https://jzz.example.gov.cn/statuslists/7"


@pytest.fixture(scope="module")
def python() -> Path:
    return peer_python(PEER)


def _coordinates(signer: Any) -> dict[str, str]:
    numbers = signer.public_key.public_numbers()
    return {"x": numbers.x.to_bytes(32, "big").hex(), "y": numbers.y.to_bytes(32, "big").hex()}


def test_python_cwt_verifies_our_live_qr(python: Path) -> None:
    now = int(time.time())  # python-cwt judges exp and nbf by the wall clock
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    signer, holder = ring.signer_for(Purpose.CREDENTIAL, now=now), KeySigner.generate()
    today = datetime.date.today()
    permit = sample_permit(valid_from=today - datetime.timedelta(days=1), valid_until=today + datetime.timedelta(days=30))
    cose_pass = encode_pass(permit, signer=signer, holder_key=holder.public_key, status_uri=STATUS_URI,
                            status_idx=42, now=now)
    text = live_qr_text(cose_pass, holder_signer=holder, now=now)
    pass_item, proof_item = cbor2.loads(zlib.decompress(b45decode(text[len(QR_PREFIX):])))
    sent_pass, sent_proof = cbor2.dumps(pass_item), cbor2.dumps(proof_item)  # each message exactly as sent
    assert sent_pass == cose_pass

    kid = {"kid": kid_bytes(signer.kid).hex()}  # the 8 bytes the pass names
    other = ring.signer_for(Purpose.STATUS, now=now)  # a real key of the same ring, presented under that kid
    answer = run_peer(python, "cwt_cose.py", {
        "pass": sent_pass.hex(), "proof": sent_proof.hex(),
        "issuer_key": {**_coordinates(signer), **kid}, "wrong_key": {**_coordinates(other), **kid},
    })
    assert answer["claims"] == sorted([4, 5, 6, 8, 65535, -70001])
    assert answer["name"] == "张伟"
    assert answer["status"] == {"status_list": {"idx": 42, "uri": STATUS_URI}}
    assert answer["holder_key"] == _coordinates(holder)
    assert answer["proof_payload"] == {"1": now}
    assert answer["refuses_other_issuer_key"] and answer["refuses_other_aad"]  # the peer really checks
