"""Every failure leaves the wallet API as an OAuth-style JSON error (issuer.http.errors' shape): the code, an
ASCII English ``error_description`` (RFC 6749), and ``error_description_zh``, the resident's Chinese
(wallet_api.error_words).

Descriptions never repeat the request's tokens, codes or PINs; a rejected request changes nothing that the
handler did not deliberately consume (a nonce, a PIN attempt).
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from credential.errors import CredentialError
from issuer.errors import IssuerError
from issuer.http.errors import (
    ZH_FIELD,
    ascii_description,
    error_response,
    issuer_error_response,
    unexpected_error_response,
)
from wallet_api.error_words import zh_message
from wallet_api.settings import DPOP_ALGORITHMS


class ProtocolError(CredentialError):
    """A request the HTTP layer refuses before or around the issuer service: bad form, bad proof, bad body."""

    def __init__(self, error: str, description: str, *, http_status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.http_status = http_status


class DpopError(ProtocolError):
    """A refused DPoP proof or DPoP-bound token; ``resource`` marks a protected-resource request (401 with a
    `WWW-Authenticate: DPoP` challenge, RFC 9449 §7.1) as opposed to the token endpoint (400, §5)."""

    def __init__(self, error: str, description: str, *, resource: bool, nonce: str | None = None) -> None:
        super().__init__(error, description, http_status=401 if resource else 400)
        self.resource = resource
        self.nonce = nonce  # sent as DPoP-Nonce: the value a use_dpop_nonce retry must carry


def _refusal(error: str, description: str, http_status: int, *, zh: str | None = None) -> Response:
    return error_response(error, description, http_status, ascii_only=True, **{ZH_FIELD: zh_message(error, zh)})


def _protocol_error(exc: ProtocolError) -> Response:
    return _refusal(exc.error, exc.description, exc.http_status)


def _dpop_error(exc: DpopError) -> Response:
    response = _refusal(exc.error, exc.description, exc.http_status)
    if exc.resource:  # RFC 9449 §7.1: the DPoP challenge replaces the Bearer one error_response may have set
        response.headers["WWW-Authenticate"] = (
            f'DPoP error="{exc.error}", error_description="{ascii_description(exc.description)}", '
            f'algs="{" ".join(DPOP_ALGORITHMS)}"'
        )
    if exc.nonce is not None:
        response.headers["DPoP-Nonce"] = exc.nonce
    return response


def _issuer_error(exc: IssuerError) -> Response:
    return issuer_error_response(exc, api="wallet", ascii_only=True, zh=zh_message(exc.error, exc.description_zh))


def _credential_error(exc: CredentialError) -> Response:
    # A format error that no view turned into a protocol error: the input was bad, not the server.
    return _refusal("invalid_request", f"malformed input ({exc.code})", 400)


def _too_large(exc: RequestEntityTooLarge) -> Response:
    return _refusal("invalid_request", "request body too large", 413)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    name = (exc.name or "error").lower().replace(" ", "_")
    return _refusal("invalid_request" if status == 400 else name, exc.description or name, status)


def _unexpected(exc: Exception) -> Response:
    return unexpected_error_response(exc, api="wallet")


def register_error_handlers(app: Flask) -> None:
    # Flask picks the most specific registered class, so the order here does not matter.
    app.register_error_handler(ProtocolError, _protocol_error)
    app.register_error_handler(DpopError, _dpop_error)
    app.register_error_handler(IssuerError, _issuer_error)
    app.register_error_handler(CredentialError, _credential_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
