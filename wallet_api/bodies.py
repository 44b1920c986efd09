"""Request bodies read with a hard cap, and the form encoding of the token endpoint.

Werkzeug enforces MAX_CONTENT_LENGTH against a Content-Length header, but a chunked body is only *cut* at
the limit, silently. create_app therefore sets the limit one byte above ours and we refuse any body that
reaches it: a truncated prefix is never parsed as if it were the request.
"""

from __future__ import annotations

import urllib.parse

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from wallet_api.errors import ProtocolError

MAX_FORM_FIELDS = 16


def bounded_body(max_bytes: int) -> bytes:
    data = request.get_data(cache=False)
    if len(data) > max_bytes:
        raise RequestEntityTooLarge()
    return data


def form_fields(body: bytes) -> dict[str, list[str]]:
    """application/x-www-form-urlencoded, strictly: UTF-8 after percent-decoding, few fields, values kept in order."""
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: too many fields
        raise ProtocolError("invalid_request", "the body is not a valid form") from exc
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields
