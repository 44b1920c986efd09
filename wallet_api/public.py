"""Public documents for offline verifiers: the status list aggregation, the status lists and the trust list.

They are signed, so any cache or CDN may hold them; ETags let a verifier's sync ask "anything new?" cheaply.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request

from credential.statuslist import aggregation_document
from wallet_api.context import wallet_context
from wallet_api.errors import ProtocolError
from wallet_api.metadata import public_json

STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
TRUST_LIST_MEDIA_TYPE = "application/jwt"
MAX_LIST_NUMBER_DIGITS = 9

bp = Blueprint("public", __name__)


def _signed_document(body: str, media_type: str, etag: str, max_age: int) -> Response:
    """A cacheable, CORS-open signed token, answered with 304 when the client's ETag is current."""
    etag = etag.strip('"')
    if request.if_none_match.contains(etag) or request.if_none_match.star_tag:
        response = Response(status=304)
    else:
        response = Response(body, mimetype=media_type)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response


@bp.get("/statuslists")
def status_list_aggregation() -> Response:
    context = wallet_context()
    return public_json(aggregation_document(context.service.status_list_uris()), context)


@bp.get("/statuslists/<number>")
def status_list(number: str) -> Response:
    if not (number.isascii() and number.isdigit()) or len(number) > MAX_LIST_NUMBER_DIGITS:
        raise ProtocolError("not_found", "no such status list", http_status=404)
    context = wallet_context()
    published = context.service.published_status_list(number)  # 404 from the service for an unknown list
    ttl = context.service.settings.status_list_ttl
    return _signed_document(published.token, STATUS_LIST_MEDIA_TYPE, published.etag, ttl)


@bp.get("/trustlist.jwt")
def trust_list() -> Response:
    context = wallet_context()
    token = context.service.trust_list_token()
    etag = hashlib.sha256(token.encode("ascii")).hexdigest()[:32]
    return _signed_document(token, TRUST_LIST_MEDIA_TYPE, etag, context.settings.public_document_max_age)
