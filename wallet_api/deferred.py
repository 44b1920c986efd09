"""The deferred credential endpoint (OpenID4VCI §9): the wallet polls for an application awaiting approval.

POST {transaction_id} with the access token that opened the transaction: 202 (same transaction_id, interval)
while the application is pending, 200 {"credentials", "notification_id"} once approved (the transaction is
used up), 400 invalid_transaction_id for an unknown, used, expired or foreign id, 400
credential_request_denied when it will never be issued (refused, suspended, revoked).
"""

from __future__ import annotations

from flask import Blueprint, Response

from wallet_api.access import authorize
from wallet_api.context import wallet_context
from wallet_api.errors import ProtocolError
from wallet_api.issuance import deferred, issued, json_body, no_encryption

MAX_TRANSACTION_ID_LENGTH = 128

bp = Blueprint("deferred", __name__)


@bp.post("/deferred_credential")
def deferred_credential() -> Response:
    context = wallet_context()
    token = authorize(context, "/deferred_credential").token  # 401 before looking at the body
    body = json_body(context)
    no_encryption(body)
    transaction_id = body.get("transaction_id")
    if not isinstance(transaction_id, str) or not transaction_id:
        raise ProtocolError("invalid_credential_request", "transaction_id is missing")
    if len(transaction_id) > MAX_TRANSACTION_ID_LENGTH:
        raise ProtocolError("invalid_transaction_id", "unknown, used or expired transaction_id")
    transaction, delivered = context.service.deferred_credentials(token, transaction_id)
    if delivered is None:
        return deferred(context, transaction_id)
    return issued(context, token, transaction.configuration_id, delivered)
