"""The nonce endpoint (OpenID4VCI §7): a fresh single-use c_nonce for the wallet's key proofs."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from wallet_api.context import wallet_context

bp = Blueprint("nonce", __name__)


@bp.post("/nonce")
def nonce() -> Response:
    response = jsonify({"c_nonce": wallet_context().service.new_nonce()})
    response.headers["Cache-Control"] = "no-store"
    return response
