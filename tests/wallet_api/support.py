"""A minimal OpenID4VCI holder for the wallet API tests: key proofs and the calls of the pre-authorized flow."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from flask.testing import FlaskClient

from credential.encoding import b64url_encode, json_dumps
from credential.jwk import public_jwk
from keys.signers import KeySigner

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"


def sign_jws(header: dict[str, Any], payload: dict[str, Any], signer: KeySigner) -> str:
    """A compact JWS with exactly the given header (credential.jose.sign_compact would add a kid)."""
    signing_input = f"{b64url_encode(json_dumps(header))}.{b64url_encode(json_dumps(payload))}".encode("ascii")
    return signing_input.decode("ascii") + "." + b64url_encode(signer.sign(signing_input))


def make_proof(
    signer: KeySigner,
    *,
    aud: str,
    nonce: str | None,
    iat: int,
    header: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """A `jwt` key proof: {"typ", "alg", "jwk"} over {"aud", "iat", "nonce"}; overrides merge in (None deletes)."""
    full_header: dict[str, Any] = {"typ": PROOF_TYP, "alg": signer.alg, "jwk": public_jwk(signer.public_key)}
    full_payload: dict[str, Any] = {"aud": aud, "iat": iat, "nonce": nonce}
    for target, overrides in ((full_header, header), (full_payload, payload)):
        for name, value in (overrides or {}).items():
            target[name] = value
        for name in [name for name, value in target.items() if value is None]:
            del target[name]
    return sign_jws(full_header, full_payload, signer)


def redeem(client: FlaskClient, code: str, tx_code: str | None) -> Any:
    form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code}
    if tx_code is not None:
        form["tx_code"] = tx_code
    return client.post("/token", data=form)


def fetch_nonce(client: FlaskClient) -> str:
    response = client.post("/nonce")
    assert response.status_code == 200
    nonce: str = response.get_json()["c_nonce"]
    return nonce


def request_credential(
    client: FlaskClient, token: str, configuration_id: str, proofs: list[str] | None, **extra: Any
) -> Any:
    body: dict[str, Any] = {"credential_configuration_id": configuration_id, **extra}
    if proofs is not None:
        body["proofs"] = {"jwt": proofs}
    return client.post("/credential", json=body, headers={"Authorization": f"Bearer {token}"})


def post_json(client: FlaskClient, path: str, token: str | None, body: object) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return client.post(path, json=body, headers=headers)


def access_token(client: FlaskClient, code: str, tx_code: str) -> str:
    response = redeem(client, code, tx_code)
    assert response.status_code == 200, response.get_json()
    token: str = response.get_json()["access_token"]
    return token


def dpop_proof(
    signer: KeySigner,
    *,
    htu: str,
    iat: int,
    htm: str = "POST",
    access_token: str | None = None,
    nonce: str | None = None,
    jti: str | None = None,
    header: dict[str, Any] | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """A DPoP proof (RFC 9449 §4.2): {"typ": "dpop+jwt", "alg", "jwk"} over {"jti", "htm", "htu", "iat", "ath"?,
    "nonce"?}; ``ath`` is computed here from ``access_token``; overrides merge in (None deletes)."""
    full_header: dict[str, Any] = {"typ": "dpop+jwt", "alg": signer.alg, "jwk": public_jwk(signer.public_key)}
    full_payload: dict[str, Any] = {"jti": jti or secrets.token_urlsafe(16), "htm": htm, "htu": htu, "iat": iat}
    if access_token is not None:
        full_payload["ath"] = b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())
    if nonce is not None:
        full_payload["nonce"] = nonce
    for target, overrides in ((full_header, header), (full_payload, payload)):
        for name, value in (overrides or {}).items():
            target[name] = value
        for name in [name for name, value in target.items() if value is None]:
            del target[name]
    return sign_jws(full_header, full_payload, signer)
