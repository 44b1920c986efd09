"""The token endpoint (RFC 6749 §3.2, OpenID4VCI §6): a pre-authorized code and its PIN buy an access token,
or (a renewal) an authorization code with its PKCE code_verifier and a DPoP proof by the pushed key
(wallet_api.authorization.codes).

With a DPoP proof (RFC 9449 §5) the token is bound to the proof's key and its token_type is DPoP; the
authorization code grant requires one.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from wallet_api.access import resident_proof, spend_proof, token_request_binding
from wallet_api.authorization.pushed import CREDENTIAL_DETAIL
from wallet_api.bodies import bounded_body, form_fields
from wallet_api.context import wallet_context
from wallet_api.errors import DpopError, ProtocolError
from wallet_api.metadata import AUTHORIZATION_CODE_GRANT, PRE_AUTHORIZED_GRANT, renews
from wallet_api.ratelimit import client_key, counted, enforce_all

MAX_CODE_LENGTH = 256
MAX_TX_CODE_LENGTH = 64
MAX_URI_LENGTH = 2048

bp = Blueprint("token", __name__)


def _single_parameter(fields: dict[str, list[str]], name: str, max_length: int) -> str | None:
    values = fields.get(name, [])
    if len(values) > 1:  # RFC 6749 §3.2: parameters MUST NOT be repeated
        raise ProtocolError("invalid_request", f"parameter {name} is repeated")
    if not values:
        return None
    if len(values[0]) > max_length:
        raise ProtocolError("invalid_request", f"parameter {name} is too long")
    return values[0]


@bp.post("/token")
def token() -> Response:
    context = wallet_context()
    settings = context.settings
    client = counted("token_client", client_key(), settings.token_requests_per_client)  # every request counts
    try:
        grant_type, fields, code = _parsed()
    except ProtocolError:
        enforce_all([client])  # a refused request counts too (and a client past its limit hears 429 first)
        raise
    # Also per code, from any address (a leaked code): both counts in one store step.
    enforce_all([client, counted("token_code", code, settings.token_requests_per_code)])
    if grant_type == AUTHORIZATION_CODE_GRANT:
        return _authorization_code(fields, code)
    tx_code = _single_parameter(fields, "tx_code", MAX_TX_CODE_LENGTH)
    jkt = token_request_binding(context)  # before the code is redeemed: a refused proof must not use it up
    # The service decides what a missing or wrong PIN means (invalid_request / invalid_grant) and counts attempts.
    access_token = context.service.redeem(code, tx_code, dpop_jkt=jkt)
    return _token_response({"access_token": access_token, "token_type": "Bearer" if jkt is None else "DPoP",
                            "expires_in": context.service.settings.access_token_ttl})


def _parsed() -> tuple[str, dict[str, list[str]], str]:
    """(grant type, form fields, code) of a well-formed token request; ProtocolError otherwise."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise ProtocolError("invalid_request", "the body must be application/x-www-form-urlencoded")
    fields = form_fields(bounded_body(wallet_context().settings.max_body_bytes))
    grant_type = _single_parameter(fields, "grant_type", MAX_CODE_LENGTH)
    if not grant_type:
        raise ProtocolError("invalid_request", "grant_type is missing")
    if grant_type == AUTHORIZATION_CODE_GRANT and renews():
        code = _single_parameter(fields, "code", MAX_CODE_LENGTH)
        if not code:
            raise ProtocolError("invalid_request", "code is missing")
        return grant_type, fields, code
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise ProtocolError("unsupported_grant_type", "only the pre-authorized code and authorization code grants "
                            "are supported")
    code = _single_parameter(fields, "pre-authorized_code", MAX_CODE_LENGTH)
    if not code:
        raise ProtocolError("invalid_request", "pre-authorized_code is missing")
    return grant_type, fields, code


def _token_response(document: dict[str, Any]) -> Response:
    response = jsonify(document)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _authorization_code(fields: dict[str, list[str]], code: str) -> Response:
    """RFC 6749 §4.1.3 with RFC 7636 §4.5 and RFC 9449 §5: every check before the code is spent."""
    context = wallet_context()
    redirect_uri = _single_parameter(fields, "redirect_uri", MAX_URI_LENGTH)
    client_id = _single_parameter(fields, "client_id", MAX_CODE_LENGTH)
    verifier = _single_parameter(fields, "code_verifier", MAX_CODE_LENGTH)
    if not request.headers.get("DPoP"):
        raise DpopError("invalid_dpop_proof", "the authorization code grant needs a DPoP proof", resource=False)
    from wallet_api.authorization.codes import redeem_code  # the back end's, loaded on first use
    from wallet_api.login.routes import sessions

    proof = resident_proof(context, "POST", "/token", token=None)
    renewal = redeem_code(context, code=code, redirect_uri=redirect_uri, client_id=client_id, code_verifier=verifier,
                          jkt=proof.jkt, identity_of=sessions())
    spend_proof(context, proof, resource=False)
    document: dict[str, Any] = {"access_token": renewal.access_token, "token_type": "DPoP",
                                "expires_in": context.service.settings.access_token_ttl}
    if renewal.details:  # OpenID4VCI §6.2: what was asked by authorization_details, and its identifiers
        document["authorization_details"] = [
            {"type": CREDENTIAL_DETAIL, "credential_configuration_id": c, "credential_identifiers": [c]}
            for c in renewal.configuration_ids]
    return _token_response(document)
