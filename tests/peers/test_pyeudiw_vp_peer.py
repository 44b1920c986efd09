"""pyeudiw's OpenID4VP relying-party code (its DCQL handler) accepts the vp_token our wallet side builds for a
request our verifier side made: issuer signature, KB-JWT audience (the client_id with its x509_san_dns prefix)
and nonce, expiry, and the status list it fetches itself from our https issuer; and refuses it for another
verifier's client_id or nonce, and once the credential is revoked.

One difference found (pyeudiw 2.2.0): it reads each vp_token entry as one presentation string, as drafts
before OpenID4VP 1.0 did; 1.0 §8.1 makes it an array of presentations, which is what our wallet sends and
our verifier requires. The peer is handed the entry's one element.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from credential.jwk import public_jwk
from epermit.tls import LoopbackCA
from keys import KeyRing, Purpose
from keys.signers import KeySigner
from tests.peers.conftest import PEER_TIMEOUT, PEERS_PYTHON, ROOT, LiveIssuer, require_peer, wall_clock
from verifier.openid4vp import (
    InMemoryTransactionStore,
    VerifierIdentity,
    basic_query,
    matching_query,
    new_request,
    parse_authorization_link,
    verify_request_object,
    vp_token_form,
)

SCRIPT = ROOT / "tests" / "peers" / "python" / "pyeudiw_vp.py"
HOST = "employer.example"


def pyeudiw(arguments: dict[str, Any], ca_file: str) -> dict[str, Any]:
    require_peer(PEERS_PYTHON.is_file() and subprocess.run(
        [str(PEERS_PYTHON), "-c", "import pyeudiw.sd_jwt.sd_jwt"], capture_output=True, check=False,
        timeout=PEER_TIMEOUT).returncode == 0, "pyeudiw (in .venv-peers)")
    done = subprocess.run([str(PEERS_PYTHON), str(SCRIPT), json.dumps(arguments)], capture_output=True, text=True,
                          timeout=PEER_TIMEOUT, check=False, env={**os.environ, "REQUESTS_CA_BUNDLE": ca_file})
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def answered(issuer: LiveIssuer) -> tuple[dict[str, Any], str]:
    """A request by our verifier side, answered by our wallet side with a freshly delivered credential."""
    now = wall_clock()
    holder = KeySigner.generate("ES256")
    offer = issuer.offer()
    token = issuer.service.redeem(offer.pre_authorized_code, offer.tx_code)
    [delivered] = issuer.service.deliver(token, [holder.public_key], offer.configuration_ids[0])
    ca = LoopbackCA(now=now)
    certified = ca.issue_server((HOST,))
    identity = VerifierIdentity(HOST, KeySigner(certified.key), (certified.certificate,), name_zh="甲", name_en="A")
    store = InMemoryTransactionStore()
    pending = new_request(identity, response_uri=f"https://{HOST}/r", request_uri_base=f"https://{HOST}/q",
                          dcql_query=basic_query(issuer.url), store=store, now=now)
    link = parse_authorization_link(pending.authorization_uri)
    request = verify_request_object(pending.transaction.request_object, link=link, trust_anchors=[ca.certificate],
                                    now=now)
    query, held = matching_query(request, [delivered.sd_jwt_vc])
    form = vp_token_form(request, query, held, holder_signer=holder, now=now)
    assert set(form) == {"vp_token", "state"}  # what the wallet posts (direct_post)
    return {"vp_token": {k: v[0] for k, v in json.loads(form["vp_token"]).items()},
            "dcql_query": pending.transaction.dcql_query, "client_id": identity.client_id,
            "nonce": pending.transaction.nonce}, offer.record_id


def issuer_jwk(ring: KeyRing) -> dict[str, str]:
    signer = ring.signer_for(Purpose.CREDENTIAL, now=wall_clock())
    return {**public_jwk(signer.public_key), "kid": signer.kid}


@pytest.mark.parametrize("change", [None, "client_id", "nonce", "revoked"])
def test_pyeudiw_verifies_our_vp_token(issuer: LiveIssuer, change: str | None) -> None:
    arguments, record_id = answered(issuer)
    arguments["issuer_jwk"] = issuer_jwk(issuer.service.keyring)
    if change == "client_id":
        arguments["client_id"] = "x509_san_dns:other.example"
    elif change == "nonce":
        arguments["nonce"] = "another-nonce"
    elif change == "revoked":
        issuer.service.revoke(record_id, officer="officer-0001", reason="test")
    result = pyeudiw(arguments, str(issuer.ca_file))
    if change is None:
        assert result["ok"], (result["step"], result["error"])
        assert set(result["claims"]) == {"name", "document_number", "authority_name"}
    else:
        assert not result["ok"] and result["step"] == "validate", result
        assert ("VPRevoked" if change == "revoked" else "InvalidKeyBinding") in result["error"], result["error"]
