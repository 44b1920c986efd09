"""Credential Offers by reference: the JSON a wallet fetches after scanning the officer's QR, and that QR."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from issuer.model import Offer, offer_uri
from issuer.qr import qr_png
from wallet_api.context import wallet_context
from wallet_api.metadata import PRE_AUTHORIZED_GRANT

TX_CODE_LENGTH = 6
TX_CODE_DESCRIPTION = "请输入民警提供的6位取证密码 / Enter the 6-digit PIN the officer gave you"

bp = Blueprint("offers", __name__)


def offer_document(public_url: str, offer: Offer) -> dict[str, Any]:
    return {
        "credential_issuer": public_url,
        "credential_configuration_ids": list(offer.configuration_ids),
        "grants": {
            PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": offer.pre_authorized_code,
                "tx_code": {"input_mode": "numeric", "length": TX_CODE_LENGTH, "description": TX_CODE_DESCRIPTION},
            }
        },
    }


def _private(response: Response) -> Response:
    # The offer holds a live pre-authorized code: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offers/<offer_id>")
def credential_offer(offer_id: str) -> Response:
    context = wallet_context()
    offer = context.service.offer_by_id(offer_id)  # OfferNotFoundError (404) when unknown or redeemed
    return _private(jsonify(offer_document(context.settings.public_url, offer)))


@bp.get("/offers/<offer_id>/qr.png")
def credential_offer_qr(offer_id: str) -> Response:
    context = wallet_context()
    offer = context.service.offer_by_id(offer_id)
    png = qr_png(offer_uri(context.settings.public_url, offer.offer_id))
    return _private(Response(png, mimetype="image/png"))
