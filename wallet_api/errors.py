"""Every failure leaves the wallet API as an OAuth-style JSON error, mapped here and nowhere else.

Descriptions never repeat the request's tokens, codes or PINs; a rejected request changes nothing that the
handler did not deliberately consume (a nonce, a PIN attempt).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from credential.errors import CredentialError
from issuer.errors import IssuerError, RateLimitedError

_log = logging.getLogger(__name__)

# Bearer-token failures (RFC 6750 §3) carry a WWW-Authenticate challenge as well as the JSON body.
_BEARER_ERRORS = frozenset({"invalid_token", "insufficient_scope"})


class ProtocolError(CredentialError):
    """A request the HTTP layer refuses before or around the issuer service: bad form, bad proof, bad body."""

    def __init__(self, error: str, description: str, *, http_status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.http_status = http_status


def ascii_description(text: str) -> str:
    """OpenID4VCI and RFC 6749: error_description is ASCII %x20-21 / %x23-5B / %x5D-7E only."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)[:300]


def error_response(error: str, description: str, http_status: int) -> Response:
    response = jsonify({"error": error, "error_description": ascii_description(description)})
    response.status_code = http_status
    response.headers["Cache-Control"] = "no-store"
    if error in _BEARER_ERRORS:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


def _protocol_error(exc: ProtocolError) -> Response:
    return error_response(exc.error, exc.description, exc.http_status)


def _issuer_error(exc: IssuerError) -> Response:
    response = error_response(exc.error, str(exc), exc.http_status)
    if isinstance(exc, RateLimitedError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _credential_error(exc: CredentialError) -> Response:
    # A format error that no view turned into a protocol error: the input was bad, not the server.
    return error_response("invalid_request", f"malformed input ({exc.code})", 400)


def _too_large(exc: RequestEntityTooLarge) -> Response:
    return error_response("invalid_request", "request body too large", 413)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    name = (exc.name or "error").lower().replace(" ", "_")
    return error_response("invalid_request" if status == 400 else name, exc.description or name, status)


def _unexpected(exc: Exception) -> Response:
    _log.exception("unhandled error in the wallet API")
    return error_response("server_error", "internal error", 500)


def register_error_handlers(app: Flask) -> None:
    # Flask picks the most specific registered class, so the order here does not matter.
    app.register_error_handler(ProtocolError, _protocol_error)
    app.register_error_handler(IssuerError, _issuer_error)
    app.register_error_handler(CredentialError, _credential_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
