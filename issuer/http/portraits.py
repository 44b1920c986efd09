"""The officer API's portrait routes: PUT a photo (putPortrait), GET the portrait kept (getPortrait).

The photo is the request body itself (Content-Type image/jpeg or image/png), capped at issuer.http.uploads;
the answer says what was kept (the permit's new portrait_sha256) and which credentials delivered before
were retired (they showed the old face; an issuing officer makes the new pickup offer). GET returns exactly the bytes the credentials carry (image/webp), to
officers of the record's district only, every read audited (issuer.desk).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from issuer.errors import IssuerError
from issuer.http.context import current_officer, officer_context
from issuer.http.records import record_json
from issuer.portrait.capture import PORTRAIT_MEDIA_TYPE

bp = Blueprint("officer_portraits", __name__, url_prefix="/api/v1")
PHOTO_TYPES = ("image/jpeg", "image/png")


class UnsupportedPhotoTypeError(IssuerError):
    http_status = 415
    error = "unsupported_media_type"

    def __init__(self) -> None:
        super().__init__(f"send the photo as the body with Content-Type {' or '.join(PHOTO_TYPES)}")


@bp.put("/records/<record_id>/portrait")
def put_portrait(record_id: str) -> Response:
    who = current_officer()  # before the body is read
    if request.mimetype not in PHOTO_TYPES:
        raise UnsupportedPhotoTypeError
    upload = request.get_data(cache=False)
    context = officer_context()
    record, retired = context.desk.set_portrait(who, record_id, upload)
    digest = record.permit.holder.portrait_sha256
    return jsonify({"record": record_json(record),
                    "portrait": {"media_type": PORTRAIT_MEDIA_TYPE, "sha256": digest.hex() if digest else None},
                    "retired": [{"list": list_no, "idx": idx} for list_no, idx in retired]})


@bp.get("/records/<record_id>/portrait")
def get_portrait(record_id: str) -> Response:
    portrait = officer_context().desk.portrait(current_officer(), record_id)
    response = Response(portrait, mimetype=PORTRAIT_MEDIA_TYPE)
    response.headers["Content-Disposition"] = "inline"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
