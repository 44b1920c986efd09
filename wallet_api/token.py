"""The token endpoint (RFC 6749 §3.2, OpenID4VCI §6): a pre-authorized code and its PIN buy an access token.

With a DPoP proof (RFC 9449 §5) the token is bound to the proof's key and its token_type is DPoP.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from wallet_api.access import token_request_binding
from wallet_api.bodies import bounded_body, form_fields
from wallet_api.context import wallet_context
from wallet_api.errors import ProtocolError
from wallet_api.metadata import PRE_AUTHORIZED_GRANT
from wallet_api.ratelimit import client_key, enforce

MAX_CODE_LENGTH = 256
MAX_TX_CODE_LENGTH = 64

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
    enforce("token_client", client_key(), settings.token_requests_per_client)  # every request counts
    if request.mimetype != "application/x-www-form-urlencoded":
        raise ProtocolError("invalid_request", "the body must be application/x-www-form-urlencoded")
    fields = form_fields(bounded_body(context.settings.max_body_bytes))
    grant_type = _single_parameter(fields, "grant_type", MAX_CODE_LENGTH)
    if not grant_type:
        raise ProtocolError("invalid_request", "grant_type is missing")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise ProtocolError("unsupported_grant_type", "only the pre-authorized code grant is supported")
    code = _single_parameter(fields, "pre-authorized_code", MAX_CODE_LENGTH)
    if not code:
        raise ProtocolError("invalid_request", "pre-authorized_code is missing")
    enforce("token_code", code, settings.token_requests_per_code)  # from any address: a leaked code
    tx_code = _single_parameter(fields, "tx_code", MAX_TX_CODE_LENGTH)
    jkt = token_request_binding(context)  # before the code is redeemed: a refused proof must not use it up
    # The service decides what a missing or wrong PIN means (invalid_request / invalid_grant) and counts attempts.
    access_token = context.service.redeem(code, tx_code, dpop_jkt=jkt)
    response = jsonify({"access_token": access_token, "token_type": "Bearer" if jkt is None else "DPoP",
                        "expires_in": context.service.settings.access_token_ttl})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
