"""The documents a wallet or verifier reads before anything else: issuer, AS and JWT VC issuer metadata, vct types."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from credential.jwk import public_jwk
from credential.model import CredentialType
from keys import Purpose
from wallet_api.configurations import credential_configurations, vct
from wallet_api.context import WalletContext, wallet_context
from wallet_api.display import LOCALES, type_metadata
from wallet_api.errors import ProtocolError
from wallet_api.settings import DPOP_ALGORITHMS

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE_GRANT = "authorization_code"
LOGIN = "epermit_login_verifier"  # app.extensions: present when the residents' OpenID4VP login is set up

bp = Blueprint("metadata", __name__)


def public_json(document: dict[str, Any], context: WalletContext) -> Response:
    """A public, cacheable JSON document that any origin may read (web verifiers, browser wallets)."""
    response = jsonify(document)
    response.headers["Cache-Control"] = f"public, max-age={context.settings.public_document_max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def issuer_metadata(context: WalletContext) -> dict[str, Any]:
    settings = context.settings
    base = settings.public_url
    name_zh = settings.issuer_name_zh or context.service.keyring.authority_name
    document: dict[str, Any] = {
        "credential_issuer": base,
        "credential_endpoint": f"{base}/credential",
        "nonce_endpoint": f"{base}/nonce",
        "deferred_credential_endpoint": f"{base}/deferred_credential",
        "notification_endpoint": f"{base}/notification",
        "display": [
            {"name": name, "locale": locale}
            for locale, name in zip(LOCALES, (name_zh, settings.issuer_name_en), strict=True)
        ],
        "credential_configurations_supported": credential_configurations(settings),
    }
    if renews():  # this issuer is its own AS (OpenID4VCI §12.2.4): said explicitly for the auth code flow
        document["authorization_servers"] = [base]
    if settings.batch_size >= 2:  # the spec requires batch_size >= 2 when the parameter is present
        document["batch_credential_issuance"] = {"batch_size": settings.batch_size}
    return document


@bp.get("/.well-known/openid-credential-issuer")
def openid_credential_issuer() -> Response:
    context = wallet_context()
    return public_json(issuer_metadata(context), context)


def authorization_server_metadata(context: WalletContext) -> dict[str, Any]:
    """RFC 8414 §2 metadata of the AS that is this issuer. Without a login verifier (wallet_api.login) only
    the pre-authorized flow is served, as below; with one the authorization code flow of renewals is added
    (``_renews``) and the issuer metadata names this AS in ``authorization_servers``.

    Only the pre-authorized code grant, at the token endpoint: no authorization endpoint, so no response type.
    ``response_types_supported`` is REQUIRED by RFC 8414 §2 (OpenID4VCI §12.2.4 lets a pre-authorized-only AS
    omit it, but generic RFC 8414 clients want it) and lists RFC 7591 ``response_types`` values, which §2.1
    there gives as none for grants that do not use the authorization endpoint: hence the empty array.
    ``grant_types_supported`` must be given, as its default is authorization_code and implicit.
    """
    base = context.settings.public_url
    document: dict[str, Any] = {
        "issuer": base,
        "token_endpoint": f"{base}/token",
        "response_types_supported": [],
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": True,  # OpenID4VCI §12.3: no client_id needed
        "token_endpoint_auth_methods_supported": ["none"],
        # RFC 9449 §5.1. OpenID4VCI 1.0 defines no DPoP parameter in the credential issuer metadata: a
        # wallet learns it here, and that DPoP is required from a 401 challenge (settings.dpop_required).
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
    }
    if renews():
        # Renewals by the authorization code flow (wallet_api.authorization): PAR required (RFC 9126 §5),
        # PKCE S256 only (RFC 7636), iss in the authorization response (RFC 9207 §3), DPoP-bound codes.
        document.update({
            "authorization_endpoint": f"{base}/authorize",
            "pushed_authorization_request_endpoint": f"{base}/par",
            "require_pushed_authorization_requests": True,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "authorization_details_types_supported": ["openid_credential"],
            "scopes_supported": [str(entry["scope"]) for entry in credential_configurations(context.settings).values()
                                 if "scope" in entry],
        })
    return document


def renews() -> bool:
    """Whether renewals run the authorization code flow here (a login verifier is set up)."""
    return current_app.extensions.get(LOGIN) is not None


@bp.get("/.well-known/oauth-authorization-server")
def oauth_authorization_server() -> Response:
    context = wallet_context()
    return public_json(authorization_server_metadata(context), context)


@bp.get("/.well-known/jwt-vc-issuer")
def jwt_vc_issuer() -> Response:
    """SD-JWT VC issuer key discovery: every credential and status list signing key not revoked (rotation keeps
    old ones), by kid. The status keys are here because a generic verifier resolves a status list token's kid
    the way it resolved the credential's; our own verifiers take both from the trust list, with purposes."""
    context = wallet_context()
    keyring = context.service.keyring
    keys = [
        {**public_jwk(signer.public_key), "kid": signer.kid, "alg": signer.alg, "use": "sig"}
        for purpose in (Purpose.CREDENTIAL, Purpose.STATUS)
        for signer in keyring.signers_of(purpose)
        if keyring.states.get(signer.kid) != "revoked"
    ]
    return public_json({"issuer": context.settings.public_url, "jwks": {"keys": keys}}, context)


@bp.get("/vct/<path:rest>")
def type_metadata_document(rest: str) -> Response:
    context = wallet_context()
    for credential_type in CredentialType:
        if credential_type.vct_path == f"/vct/{rest}":
            return public_json(type_metadata(credential_type, vct(context.settings, credential_type)), context)
    raise ProtocolError("not_found", "no such credential type", http_status=404)
