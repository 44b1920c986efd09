"""Request bodies larger than the API's JSON cap, for the routes that take a photo (the portrait).

The app's MAX_CONTENT_LENGTH stays the small JSON cap; only the named endpoints get the photo cap, set
before anything reads the body (the console's CSRF check parses the form first). Uploaded files are kept
in memory, never spooled to a temporary file: a portrait is biometric data, and the cap bounds the memory.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Flask, Request, request

from issuer.portrait.capture import MAX_UPLOAD

UPLOAD_BODY_LIMIT = MAX_UPLOAD + 64 * 1024  # the photo and, in a form, its boundary lines and CSRF field
UPLOAD_ENDPOINTS = frozenset({"officer_portraits.put_portrait", "officer_console.portrait_preview"})


class OfficerRequest(Request):
    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()  # never a temporary file on disk (module docstring); the body cap bounds it


def install_uploads(app: Flask) -> None:
    app.request_class = OfficerRequest

    @app.before_request
    def photo_cap() -> None:
        if request.endpoint in UPLOAD_ENDPOINTS:
            request.max_content_length = UPLOAD_BODY_LIMIT
