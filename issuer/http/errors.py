"""Every failure leaves an epermit HTTP API as one JSON shape, ``{"error", "error_description"}``, mapped here.

The officer API (issuer.http) and the wallet API (wallet_api.errors) share ``error_response``: the same
body, ``Cache-Control: no-store`` and the RFC 6750 challenge for bearer-token failures. OAuth-facing
responses (the wallet API) keep descriptions to the ASCII that RFC 6749 allows; the officer API may say a
field's Chinese name. Descriptions never repeat the request's tokens, codes or PINs. No input reaches a 500:
the last-resort handler logs the bug (issuer.http.logs) and answers ``server_error`` without details.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from credential.errors import CredentialError, InvalidApplicationError
from issuer.errors import IssuerError, RateLimitedError, StoreUnavailableError, UnauthorizedError
from issuer.http.logs import log_store_unavailable, log_unexpected

# Bearer-token failures (RFC 6750 §3) carry a WWW-Authenticate challenge as well as the JSON body.
BEARER_ERRORS = frozenset({"invalid_token", "insufficient_scope"})
# The Chinese message a resident reads first, beside RFC 6749's ASCII error_description (an extra member:
# §5.2 lets a response carry more than error, error_description and error_uri). Wallets show it when present.
ZH_FIELD = "error_description_zh"
_HTTP_ERRORS = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large",
                415: "unsupported_media_type", 406: "not_acceptable"}


def ascii_description(text: str) -> str:
    """OpenID4VCI and RFC 6749: error_description is ASCII %x20-21 / %x23-5B / %x5D-7E only."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)[:300]


def error_response(error: str, description: str, http_status: int, *, ascii_only: bool = False,
                   realm: str | None = None, **extra: Any) -> Response:
    """The one JSON error body; ``extra`` adds fields such as ``field`` (which input was wrong)."""
    response = jsonify({"error": error, "error_description": ascii_description(description) if ascii_only
                        else description[:300], **extra})
    response.status_code = http_status
    response.headers["Cache-Control"] = "no-store"
    params = ([f'realm="{realm}"'] if realm and http_status == 401 else []) + \
        ([f'error="{error}"'] if error in BEARER_ERRORS else [])
    if params:
        response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(params)
    return response


def issuer_error_response(exc: IssuerError, *, api: str, ascii_only: bool = False,
                          realm: str | None = None, zh: str | None = None) -> Response:
    """The response to an issuer error; a store failure is also logged and counted (``api`` names the app).
    ``zh``: the Chinese message (default: the error's own, when it wrote one)."""
    if isinstance(exc, StoreUnavailableError):
        log_store_unavailable(exc, api=api, where="request")
    zh = zh or exc.description_zh
    extra = {ZH_FIELD: zh[:300]} if zh else {}
    response = error_response(exc.error, exc.description, exc.http_status, ascii_only=ascii_only, realm=realm,
                              **extra)
    if isinstance(exc, RateLimitedError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def http_error_response(exc: HTTPException, *, ascii_only: bool = False) -> Response:
    status = exc.code or 500
    return error_response(_HTTP_ERRORS.get(status, "http_error"), exc.description or exc.name or "error", status,
                          ascii_only=ascii_only)


def unexpected_error_response(exc: Exception, *, api: str) -> Response:
    log_unexpected(exc, api=api)
    return error_response("server_error", "internal error", 500)


def register_officer_error_handlers(app: Flask) -> None:
    """The officer API's mapping: issuer errors by their own status, format errors as 400."""
    realm = "epermit-officers"

    def issuer_error(exc: IssuerError) -> Response:
        return issuer_error_response(exc, api="officer", realm=realm if isinstance(exc, UnauthorizedError) else None)

    def invalid_application(exc: InvalidApplicationError) -> Response:
        return error_response("invalid_application", str(exc), 400, field=exc.field)

    def credential_error(exc: CredentialError) -> Response:
        return error_response("invalid_request", str(exc), 400)

    def unexpected(exc: Exception) -> Response:  # last resort: tests show no input reaches it
        return unexpected_error_response(exc, api="officer")

    # Flask picks the most specific registered class, so the order here does not matter.
    app.register_error_handler(IssuerError, issuer_error)
    app.register_error_handler(InvalidApplicationError, invalid_application)
    app.register_error_handler(CredentialError, credential_error)
    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(Exception, unexpected)
