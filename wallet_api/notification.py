"""The notification endpoint (OpenID4VCI §11): the wallet reports what became of the credentials it got.

POST {notification_id, event, event_description?} with the access token that received them -> 204. The
issuer service writes the first report of each event to the audit trail (``pickup_confirmed`` for
credential_accepted), so the officer sees the pickup confirmed; identical repeats also get 204.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response

from issuer.deferred import EVENTS
from wallet_api.access import authorize
from wallet_api.context import resident_requests, wallet_context
from wallet_api.errors import ProtocolError
from wallet_api.issuance import json_body, no_store

MAX_NOTIFICATION_ID_LENGTH = 128
MAX_EVENT_DESCRIPTION = 500
# OpenID4VCI §11.1: event_description is ASCII from %x20-21 / %x23-5B / %x5D-7E (no '"', no '\').
_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
INVALID = "invalid_notification_request"

bp = Blueprint("notification", __name__)


@bp.post("/notification")
def notification() -> Response:
    context = wallet_context()
    access = authorize(context, "/notification")  # 401 before looking at the body
    token = access.token
    body = json_body(context, INVALID)
    notification_id, event = body.get("notification_id"), body.get("event")
    description = body.get("event_description")
    if not isinstance(notification_id, str) or not notification_id:
        raise ProtocolError(INVALID, "notification_id is missing")
    if event not in EVENTS:
        raise ProtocolError(INVALID, f"event must be one of {', '.join(EVENTS)}")
    if description is not None and not (
        isinstance(description, str) and len(description) <= MAX_EVENT_DESCRIPTION
        and _DESCRIPTION.fullmatch(description)
    ):
        raise ProtocolError(INVALID, f"event_description must be printable ASCII without quotes or backslashes, "
                                     f"at most {MAX_EVENT_DESCRIPTION} characters")
    if len(notification_id) > MAX_NOTIFICATION_ID_LENGTH:
        raise ProtocolError("invalid_notification_id", "unknown or expired notification_id")
    assert isinstance(event, str)
    # InvalidNotificationIdError (400)
    notice = context.service.notify(token, notification_id, event, description, grant=access.grant)
    if event == "credential_accepted":  # the new credential of a resident's request is in the wallet: finish it
        resident_requests().confirmed(notice.offer_id)
    return no_store(Response(), 204)
