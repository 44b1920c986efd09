"""The nonce endpoint (OpenID4VCI §7): a fresh single-use c_nonce for the wallet's key proofs."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from wallet_api.context import wallet_context
from wallet_api.ratelimit import client_key, counted

bp = Blueprint("nonce", __name__)


@bp.post("/nonce")
def nonce() -> Response:
    context = wallet_context()
    count = counted("nonce_client", client_key(), context.settings.nonce_requests_per_client)
    # The count and the nonce in one store step (RateLimitedError past the limit: nothing stored).
    response = jsonify({"c_nonce": context.service.new_nonce(counts=[count])})
    response.headers["Cache-Control"] = "no-store"
    return response
