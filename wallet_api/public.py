"""Public documents for offline verifiers: the status list aggregation, the status lists and the trust list.

They are signed, so any cache or CDN may hold them; ETags let a verifier's sync ask "anything new?" cheaply.
A status list is served as a JWT (the default) or, when ``Accept`` prefers it, as a CWT (a quarter smaller:
its ``lst`` is bytes, not base64url), each form with its own ETag and ``Vary: Accept``.
When the store is down (StoreUnavailableError) each document is served from the last copy served
(wallet_api.lastcopies: in memory, and in the published folder when the app has one, so also by a process
that had not served it since it started), so verifiers keep syncing through an outage or a full disk; the CWT
form is derived from that same JWT.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable

from flask import Blueprint, Response, current_app, request

from credential.statuslist import CWT_MEDIA_TYPE, JWT_MEDIA_TYPE, aggregation_document
from issuer.errors import StoreUnavailableError
from issuer.http.logs import log_store_unavailable
from issuer.model import PublishedStatusList
from issuer.statuscwt import CwtForms
from wallet_api.context import wallet_context
from wallet_api.errors import ProtocolError
from wallet_api.lastcopies import LastCopies
from wallet_api.metadata import public_json

STATUS_LIST_MEDIA_TYPE = JWT_MEDIA_TYPE
TRUST_LIST_MEDIA_TYPE = "application/jwt"
MAX_LIST_NUMBER_DIGITS = 9
GZIP_MIN_BYTES = 256  # smaller tokens gain nothing from gzip

LAST_COPIES = "epermit_last_published"  # app.extensions key: the LastCopies of this app (create_app)
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
CWT_FORMS = "epermit_status_list_cwts"  # app.extensions key: the CWT form of each list (issuer.statuscwt)

bp = Blueprint("public", __name__)


def _or_last_copy(name: str, fetch: Callable[[], str], usable: Callable[[str], bool]) -> str:
    """``fetch()``, remembered; while the store is unavailable, the copy remembered last (else the 503).
    ``usable`` judges a copy read back from the folder."""
    copies: LastCopies = current_app.extensions[LAST_COPIES]
    try:
        value = fetch()
    except StoreUnavailableError as exc:
        kept = copies.recall(name)
        if kept is None or not usable(kept):
            raise  # logged by the error handler
        log_store_unavailable(exc, api="wallet", where="last copy")  # answered, but not silently
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


def _signed_document(body: str | bytes, media_type: str, etag: str, max_age: int, *,
                     negotiated: bool = False) -> Response:
    """A cacheable, CORS-open signed token, answered with 304 when the client's ETag is current.

    Text (a compact JWS) is gzipped for clients that take it; bytes (a CWT: zlib inside) are sent as they
    are. ``negotiated``: the form was chosen by ``Accept``, so caches must key on it too."""
    etag = etag.strip('"')
    gzipped = isinstance(body, str) and request.accept_encodings["gzip"] > 0 and len(body) >= GZIP_MIN_BYTES
    tag = f"{etag}-gzip" if gzipped else etag  # each encoding its own strong ETag (RFC 9110 §8.8.3)
    if request.if_none_match.contains(tag) or request.if_none_match.star_tag:
        response = Response(status=304)
    elif gzipped:
        assert isinstance(body, str)  # only text is gzipped
        response = Response(gzip.compress(body.encode("ascii"), compresslevel=6, mtime=0), mimetype=media_type)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(body, mimetype=media_type)
    response.set_etag(tag)
    response.vary.add("Accept-Encoding")
    if negotiated:
        response.vary.add("Accept")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response


@bp.get("/statuslists")
def status_list_aggregation() -> Response:
    context = wallet_context()
    uris = _or_last_copy("statuslists.json", lambda: json.dumps(context.service.status_list_uris()), _is_uri_list)
    return public_json(aggregation_document(json.loads(uris)), context)


def status_list_form() -> str:
    """The media type to answer with: the CWT when ``Accept`` prefers it, else the JWT (also without an
    Accept header, or on a tie); 406 when the Accept header admits neither."""
    if not request.accept_mimetypes:
        return JWT_MEDIA_TYPE
    form = request.accept_mimetypes.best_match([JWT_MEDIA_TYPE, CWT_MEDIA_TYPE])  # first wins a tie
    if form is None:
        raise ProtocolError("not_acceptable", f"status lists are served as {JWT_MEDIA_TYPE} or {CWT_MEDIA_TYPE}",
                            http_status=406)
    return form


def _cwt_forms() -> CwtForms:
    forms = current_app.extensions.setdefault(CWT_FORMS, CwtForms())
    assert isinstance(forms, CwtForms)
    return forms


@bp.get("/statuslists/<number>")
def status_list(number: str) -> Response:
    if not (number.isascii() and number.isdigit()) or len(number) > MAX_LIST_NUMBER_DIGITS:
        raise ProtocolError("not_found", "no such status list", http_status=404)
    form = status_list_form()
    context = wallet_context()
    token = _or_last_copy(  # 404 from the service for an unknown list
        f"statuslist-{int(number)}.jwt", lambda: context.service.published_status_list(number).token, _is_token)
    ttl = context.service.settings.status_list_ttl
    etag = hashlib.sha256(token.encode("ascii")).hexdigest()  # as issuer.publication names it
    if form == CWT_MEDIA_TYPE:  # derived from the JWT just served, so also while the store is down
        published = PublishedStatusList(context.service.settings.status_list_uri(int(number)), token, etag, 0)
        cwt = _cwt_forms().cwt_for(published, context.service.keyring)
        return _signed_document(cwt.data, CWT_MEDIA_TYPE, cwt.etag, ttl, negotiated=True)
    return _signed_document(token, STATUS_LIST_MEDIA_TYPE, etag, ttl, negotiated=True)


@bp.get("/trustlist.jwt")
def trust_list() -> Response:
    context = wallet_context()
    token = _or_last_copy("trustlist.jwt", context.service.trust_list_token, _is_token)
    etag = hashlib.sha256(token.encode("ascii")).hexdigest()[:32]
    return _signed_document(token, TRUST_LIST_MEDIA_TYPE, etag, context.settings.public_document_max_age)
