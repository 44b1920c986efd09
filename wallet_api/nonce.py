"""The nonce endpoint (OpenID4VCI §7): a fresh single-use c_nonce for the wallet's key proofs."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from wallet_api.context import wallet_context
from wallet_api.ratelimit import client_key, enforce

bp = Blueprint("nonce", __name__)


@bp.post("/nonce")
def nonce() -> Response:
    context = wallet_context()
    enforce("nonce_client", client_key(), context.settings.nonce_requests_per_client)
    response = jsonify({"c_nonce": context.service.new_nonce()})
    response.headers["Cache-Control"] = "no-store"
    return response
