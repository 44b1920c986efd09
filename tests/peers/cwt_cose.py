"""Peer: python-cwt (dajiaji/python-cwt) verifies our QR pass and its live proof with its default settings.

Runs in its own venv (tests/peer_venv.py). Request (hex strings): {"pass": COSE_Sign1 bytes as sent,
"proof": the live proof's COSE_Sign1 bytes as sent, "issuer_key": {"x", "y", "kid"}, "wrong_key": {...}}.
The holder key is read by the peer from the pass's cnf claim. Answer: what the peer decoded, and whether it
refused the deliberately wrong inputs (another issuer key, another external_aad).
"""

import hashlib
import json
import sys

import cbor2
import cwt
from cwt import COSE, COSEKey


def ec2_key(spec):
    # A public COSE_Key (RFC 9052 §7): kty EC2, crv P-256, both coordinates, the kid the pass names.
    return COSEKey.new({1: 2, -1: 1, -2: bytes.fromhex(spec["x"]), -3: bytes.fromhex(spec["y"]),
                        2: bytes.fromhex(spec["kid"])})


def refused(call):
    try:
        call()
    except Exception:  # the peer's verdict, whatever it raises
        return True
    return False


def main():
    request = json.load(sys.stdin)
    cose_pass, proof = bytes.fromhex(request["pass"]), bytes.fromhex(request["proof"])
    issuer = ec2_key(request["issuer_key"])
    claims = cwt.decode(cose_pass, issuer)  # COSE_Sign1 signature, then exp/nbf against the wall clock
    parsed = cwt.Claims.new(claims)  # the peer's own claim rules, cnf included
    holder = COSEKey.new(parsed.cnf)  # the holder key as the peer reads it from the pass
    aad = hashlib.sha256(cose_pass).digest()
    proof_payload = cbor2.loads(COSE.new().decode(proof, holder, external_aad=aad))
    answer = {
        "claims": sorted(claims),
        "name": claims[-70001][2],
        "status": claims[65535],
        "holder_key": {"x": parsed.cnf[-2].hex(), "y": parsed.cnf[-3].hex()},
        "proof_payload": {str(k): v for k, v in proof_payload.items()},
        "refuses_other_issuer_key": refused(lambda: cwt.decode(cose_pass, ec2_key(request["wrong_key"]))),
        "refuses_other_aad": refused(lambda: COSE.new().decode(proof, holder, external_aad=bytes(32))),
    }
    json.dump(answer, sys.stdout)


main()
