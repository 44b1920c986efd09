"""Public documents for offline verifiers: the status list aggregation, the status lists and the trust list.

They are signed, so any cache or CDN may hold them; ETags let a verifier's sync ask "anything new?" cheaply.
When the store is down (StoreUnavailableError) each document is served from the last copy served
(wallet_api.lastcopies: in memory, and in the published folder when the app has one, so also by a process
that had not served it since it started), so verifiers keep syncing through an outage or a full disk.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable

from flask import Blueprint, Response, current_app, request

from credential.statuslist import aggregation_document
from issuer.errors import StoreUnavailableError
from wallet_api.context import wallet_context
from wallet_api.errors import ProtocolError
from wallet_api.lastcopies import LastCopies
from wallet_api.metadata import public_json

STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
TRUST_LIST_MEDIA_TYPE = "application/jwt"
MAX_LIST_NUMBER_DIGITS = 9
GZIP_MIN_BYTES = 256  # smaller tokens gain nothing from gzip

LAST_COPIES = "epermit_last_published"  # app.extensions key: the LastCopies of this app (create_app)
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

bp = Blueprint("public", __name__)


def _or_last_copy(name: str, fetch: Callable[[], str], usable: Callable[[str], bool]) -> str:
    """``fetch()``, remembered; while the store is unavailable, the copy remembered last (else the 503).
    ``usable`` judges a copy read back from the folder."""
    copies: LastCopies = current_app.extensions[LAST_COPIES]
    try:
        value = fetch()
    except StoreUnavailableError:
        kept = copies.recall(name)
        if kept is None or not usable(kept):
            raise
        return kept
    copies.remember(name, value)
    return value


def _is_token(text: str) -> bool:
    return _COMPACT_JWS.fullmatch(text) is not None


def _is_uri_list(text: str) -> bool:
    try:
        uris = json.loads(text)
    except ValueError:
        return False
    return isinstance(uris, list) and all(isinstance(u, str) for u in uris)


def _signed_document(body: str, media_type: str, etag: str, max_age: int) -> Response:
    """A cacheable, CORS-open signed token, answered with 304 when the client's ETag is current."""
    etag = etag.strip('"')
    gzipped = request.accept_encodings["gzip"] > 0 and len(body) >= GZIP_MIN_BYTES
    tag = f"{etag}-gzip" if gzipped else etag  # each encoding its own strong ETag (RFC 9110 §8.8.3)
    if request.if_none_match.contains(tag) or request.if_none_match.star_tag:
        response = Response(status=304)
    elif gzipped:
        response = Response(gzip.compress(body.encode("ascii"), compresslevel=6, mtime=0), mimetype=media_type)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(body, mimetype=media_type)
    response.set_etag(tag)
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response


@bp.get("/statuslists")
def status_list_aggregation() -> Response:
    context = wallet_context()
    uris = _or_last_copy("statuslists.json", lambda: json.dumps(context.service.status_list_uris()), _is_uri_list)
    return public_json(aggregation_document(json.loads(uris)), context)


@bp.get("/statuslists/<number>")
def status_list(number: str) -> Response:
    if not (number.isascii() and number.isdigit()) or len(number) > MAX_LIST_NUMBER_DIGITS:
        raise ProtocolError("not_found", "no such status list", http_status=404)
    context = wallet_context()
    token = _or_last_copy(  # 404 from the service for an unknown list
        f"statuslist-{int(number)}.jwt", lambda: context.service.published_status_list(number).token, _is_token)
    ttl = context.service.settings.status_list_ttl
    etag = hashlib.sha256(token.encode("ascii")).hexdigest()  # as issuer.publication names it
    return _signed_document(token, STATUS_LIST_MEDIA_TYPE, etag, ttl)


@bp.get("/trustlist.jwt")
def trust_list() -> Response:
    context = wallet_context()
    token = _or_last_copy("trustlist.jwt", context.service.trust_list_token, _is_token)
    etag = hashlib.sha256(token.encode("ascii")).hexdigest()[:32]
    return _signed_document(token, TRUST_LIST_MEDIA_TYPE, etag, context.settings.public_document_max_age)
