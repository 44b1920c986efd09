"""Interop with the SD-JWT reference implementation (sd-jwt 0.10.4, Daniel Fett's), both directions."""

from __future__ import annotations

import time
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from credential.errors import MalformedError, ReplayedError
from credential.jwk import public_jwk
from credential.sdjwt import credential_type_of, present, verify_sd_jwt_vc
from tests.conftest import T0
from tests.credential.sdjwt_support import HOLDER, ISS, ISSUER, STATUS_URI, issue, resolve

ISSUER_JWK = JWK(**public_jwk(ISSUER.public_key))


def peer_verify(text: str, **expected: Any) -> dict[str, Any]:
    result: dict[str, Any] = SDJWTVerifier(text, lambda iss, header: ISSUER_JWK, **expected).get_verified_payload()
    return result


def test_reference_library_verifies_our_sd_jwt_vc() -> None:
    ours = verify_sd_jwt_vc(issue(), resolve_key=resolve, now=T0, require_key_binding=False).claims
    theirs = peer_verify(issue())
    assert theirs.keys() == ours.keys()
    assert {k: v for k, v in theirs.items() if k not in ("iat", "cnf")} == {
        k: v for k, v in ours.items() if k not in ("iat", "cnf")
    }
    assert theirs["name"] == "张伟"


def test_reference_library_verifies_our_presentation_with_key_binding() -> None:
    pres = present(issue(), disclose={"name", "citizen_id"}, holder_signer=HOLDER, aud="https://landlord.example",
                   nonce="n-123", now=T0)
    claims = peer_verify(pres, expected_aud="https://landlord.example", expected_nonce="n-123")
    assert claims["name"] == "张伟" and claims["citizen_id"] == "410102199003151230"
    assert "address" not in claims
    with pytest.raises(ValueError, match="nonce"):
        peer_verify(pres, expected_aud="https://landlord.example", expected_nonce="other")


def _peer_issued(holder: bool = True, now: int = T0) -> SDJWTIssuer:
    claims = {
        "iss": ISS,
        "vct": ISS + "/vct/residence-registration/1",
        "iat": now,
        "exp": now + 86400,
        "status": {"status_list": {"idx": 11, "uri": STATUS_URI}},
        SDObj("name"): "张伟",
        SDObj("birthdate"): "1990-03-15",
        "nationalities": [SDObj("CN"), SDObj("HK")],
    }
    return SDJWTIssuer(
        claims,
        JWK.from_pyca(ISSUER.private_key),
        JWK.from_pyca(HOLDER.private_key) if holder else None,
        add_decoy_claims=True,
        extra_header_parameters={"typ": "dc+sd-jwt", "kid": ISSUER.kid},
    )


def test_we_verify_the_reference_library_issuance() -> None:
    issued = _peer_issued().sd_jwt_issuance
    result = verify_sd_jwt_vc(issued, resolve_key=resolve, now=T0, require_key_binding=False)
    assert result.claims["name"] == "张伟"
    assert result.claims["nationalities"] == ["CN", "HK"]
    assert result.status_idx == 11 and result.holder_key is not None
    assert credential_type_of(result.claims).slug == "residence_registration"


def test_we_verify_the_reference_library_presentation_with_key_binding() -> None:
    now = int(time.time())  # the reference holder stamps its KB-JWT with the wall clock
    holder = SDJWTHolder(_peer_issued(now=now).sd_jwt_issuance)
    holder.create_presentation({"name": True, "nationalities": [True, False]}, nonce="n-123",
                               aud="https://landlord.example", holder_key=JWK.from_pyca(HOLDER.private_key))
    result = verify_sd_jwt_vc(holder.sd_jwt_presentation, resolve_key=resolve, now=now, require_key_binding=True,
                              aud="https://landlord.example", nonce="n-123")
    assert result.key_bound
    assert result.claims["name"] == "张伟" and "birthdate" not in result.claims
    assert result.claims["nationalities"] == ["CN"]
    with pytest.raises(ReplayedError):
        verify_sd_jwt_vc(holder.sd_jwt_presentation, resolve_key=resolve, now=now, require_key_binding=True,
                         aud="https://other.example", nonce="n-123")
    with pytest.raises(ReplayedError):  # a minute too late
        verify_sd_jwt_vc(holder.sd_jwt_presentation, resolve_key=resolve, now=now + 360, require_key_binding=True,
                         aud="https://landlord.example", nonce="n-123")


def test_we_reject_what_the_reference_library_accepts_an_unreferenced_disclosure() -> None:
    stray = issue().split("~")[1]
    token = _peer_issued(holder=False).sd_jwt_issuance
    tampered = token[:-1] + "~" + stray + "~" if not token.endswith("~") else token + stray + "~"
    peer_verify(tampered)  # the reference library lets it through (DESIGN §9)
    with pytest.raises(MalformedError):
        verify_sd_jwt_vc(tampered, resolve_key=resolve, now=T0, require_key_binding=False)
