"""The authorization server's own endpoints (OpenID4VCI 1.0 §5): PAR and the authorization endpoint.

    POST /par         RFC 9126: a pushed authorization request (wallet_api.authorization.pushed), with a
                      DPoP proof (RFC 9449 §10.1) or dpop_jkt -> 201 {request_uri, expires_in}
    GET  /authorize   ?client_id&request_uri -> 303 to the OpenID4VP request by which this server
                      authenticates the resident (same device: openid4vp://?client_id=…&request_uri=…).
                      The wallet answers it at /resident/login/response (wallet_api.login.routes), which,
                      for a login linked to a pushed request, sends the wallet to its redirect_uri with
                      ``code``, ``state`` and ``iss`` (RFC 9207) — or ``error=access_denied`` when there is
                      nothing to renew. With ``Accept: application/json`` (a browser wallet, whose fetch
                      cannot read a Location) 200 {authorization_uri} instead of the 303.
The token endpoint's authorization_code grant is wallet_api.token's (wallet_api.authorization.codes).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from wallet_api.access import resident_proof, spend_proof
from wallet_api.authorization import codes, pushed
from wallet_api.bodies import bounded_body, form_fields
from wallet_api.configurations import credential_configurations
from wallet_api.context import wallet_context
from wallet_api.errors import ProtocolError
from wallet_api.issuance import no_store
from wallet_api.login.routes import login_verifier
from wallet_api.ratelimit import client_key, enforce

bp = Blueprint("authorization", __name__)
JSON = "application/json"


def scopes() -> dict[str, str]:
    """scope -> credential configuration id, from the issuer metadata's configurations."""
    configurations = credential_configurations(wallet_context().settings)
    return {str(entry.get("scope", name)): name for name, entry in configurations.items()}


@bp.post("/par")
def pushed_authorization_request() -> Response:
    context = wallet_context()
    enforce("token_client", client_key(), context.settings.token_requests_per_client)
    if request.mimetype != "application/x-www-form-urlencoded":
        raise ProtocolError("invalid_request", "the body must be application/x-www-form-urlencoded")
    fields = form_fields(bounded_body(context.settings.max_body_bytes))
    proof = resident_proof(context, "POST", "/par", token=None) if request.headers.get("DPoP") else None
    request_uri, expires_in = pushed.push(context, fields, proof_jkt=None if proof is None else proof.jkt,
                                          scopes=scopes())
    if proof is not None:
        spend_proof(context, proof, resource=False)
    return no_store(jsonify({"request_uri": request_uri, "expires_in": expires_in}), 201)


@bp.get("/authorize")
def authorize() -> Response:
    context = wallet_context()
    if set(request.args) - {"client_id", "request_uri"}:  # RFC 9126 §4: everything else was pushed
        raise ProtocolError("invalid_request", "send only client_id and request_uri (PAR is required)")
    client_id, request_uri = request.args.get("client_id", ""), request.args.get("request_uri", "")
    if not client_id or not request_uri:
        raise ProtocolError("invalid_request", "client_id and request_uri are required")
    verifier = login_verifier()  # before the pushed request is spent: no login, no authorization
    found = pushed.take(context, request_uri, client_id)
    pending = verifier.start(now=context.clock())
    transaction = pending.transaction
    codes.link_login(context, transaction.state, found, transaction.expires_at - transaction.created_at)
    if request.accept_mimetypes.best == JSON:
        # A browser wallet's fetch cannot read a redirect's Location: it asks for JSON and gets the same URI.
        return no_store(jsonify({"authorization_uri": pending.authorization_uri}))
    answer = Response(status=303, headers={"Location": pending.authorization_uri})
    return no_store(answer, 303)


__all__ = ["bp", "scopes"]
