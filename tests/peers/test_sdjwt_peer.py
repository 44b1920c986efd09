"""@sd-jwt/sd-jwt-vc verifies our SD-JWT VC presentations against our real https issuer: the issuer
signature (key found through /.well-known/jwt-vc-issuer), our KB-JWT, and the status list entry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from credential.jwk import public_jwk
from credential.sdjwt import present
from keys import Purpose
from keys.signers import KeySigner
from tests.peers.conftest import PEER_TIMEOUT, LiveIssuer, wall_clock

PACKAGE = "@sd-jwt/sd-jwt-vc"
AUDIENCE = "https://verifier.example"
NONCE = "peer-nonce-0001"
DISCLOSE = ("name", "birthdate", "citizen_id")


class StatusKeyNotPublishedError(AssertionError):
    """The peer found no key for the status list token in the issuer's jwt-vc-issuer metadata."""


def presentation(issuer: LiveIssuer, holder: KeySigner, *, nonce: str = NONCE) -> tuple[str, str]:
    """A credential picked up for ``holder`` and our SD-JWT+KB of it; also the record id."""
    offer = issuer.offer()
    token = issuer.service.redeem(offer.pre_authorized_code, offer.tx_code)
    [delivered] = issuer.service.deliver(token, [holder.public_key], offer.configuration_ids[0])
    return present(delivered.sd_jwt_vc, disclose=DISCLOSE, holder_signer=holder, aud=AUDIENCE, nonce=nonce,
                   now=wall_clock()), offer.record_id


def peer_verify(issuer: LiveIssuer, text: str, *, status_key: dict[str, str] | None) -> dict[str, Any]:
    process = issuer.start_node(PACKAGE, "sdjwt_verify.mjs",
                                json.dumps({"presentation": text, "nonce": NONCE, "status_key": status_key}))
    out, err = process.communicate(timeout=PEER_TIMEOUT)
    assert process.returncode == 0, err[-4000:]
    result: dict[str, Any] = json.loads(out)
    return result


def status_key(issuer: LiveIssuer) -> dict[str, str]:
    """The status list signing key, handed to the peer out of band (our trust list carries it)."""
    return public_jwk(issuer.service.keyring.signer_for(Purpose.STATUS, now=wall_clock()).public_key)


def test_the_peer_verifies_signature_key_binding_and_status(issuer: LiveIssuer) -> None:
    text, _ = presentation(issuer, KeySigner.generate("ES256"))
    result = peer_verify(issuer, text, status_key=status_key(issuer))
    assert result["ok"], result["error"]
    assert set(DISCLOSE) <= set(result["claims"])
    assert "address" not in result["claims"]  # not disclosed, so not seen
    assert result["kb"]["aud"] == AUDIENCE and result["kb"]["nonce"] == NONCE
    assert result["status"]["status_list"]["uri"].startswith(f"{issuer.url}/statuslists/")


def test_the_peer_resolves_every_key_from_jwt_vc_issuer_metadata(issuer: LiveIssuer) -> None:
    text, _ = presentation(issuer, KeySigner.generate("ES256"))
    result = peer_verify(issuer, text, status_key=None)
    if not result["ok"] and "Status List JWT verification failed" in result["error"] \
            and "no key" in result["error"]:
        raise StatusKeyNotPublishedError(result["error"])
    assert result["ok"], result["error"]


@pytest.mark.parametrize("change", ["revoked", "wrong_nonce", "other_holder"])
def test_the_peer_refuses_what_it_should(issuer: LiveIssuer, change: str) -> None:
    holder = KeySigner.generate("ES256")
    if change == "other_holder":  # a KB-JWT by a key the credential is not bound to
        offer = issuer.offer()
        token = issuer.service.redeem(offer.pre_authorized_code, offer.tx_code)
        [delivered] = issuer.service.deliver(token, [holder.public_key], offer.configuration_ids[0])
        text = present(delivered.sd_jwt_vc, disclose=DISCLOSE, holder_signer=KeySigner.generate("ES256"),
                       aud=AUDIENCE, nonce=NONCE, now=wall_clock())
    else:
        text, record_id = presentation(issuer, holder, nonce="another-nonce" if change == "wrong_nonce" else NONCE)
        if change == "revoked":
            issuer.service.revoke(record_id, officer="supervisor-0001", reason="peer test")
    result = peer_verify(issuer, text, status_key=status_key(issuer))
    assert not result["ok"]
    expected = {"revoked": "Status is not valid", "wrong_nonce": "Invalid Nonce", "other_holder": "Signature"}
    assert expected[change] in result["error"], result["error"]
