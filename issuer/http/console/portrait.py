"""The console's portrait page: /officer/records/<id>/portrait. Upload a photo, see exactly what will be
issued, keep it.

Two steps, each one desk call. "Preview" makes the portrait from the upload and shows it at its true size
and enlarged, with its byte count; nothing is written. The page carries the portrait back sealed for this
record (issuer.portrait.vault, use "preview"), so "Keep" stores exactly the bytes the officer saw and the
browser can neither read nor alter them. Keeping retires credentials that show the old face; the page then
says so, and an issuing officer prints the new pickup sheet (issuer.service.set_portrait). A record of another district answers like a missing one.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, redirect, request, url_for

from credential.errors import CredentialError
from credential.portrait import portrait_data_uri
from issuer.errors import InvalidRequestError, IssuerError, NotFoundError
from issuer.http.console.ui import ConsoleUi
from issuer.model import Action, Officer, Record
from issuer.portrait.capture import MAX_PORTRAIT_BYTES, PORTRAIT_SIZE
from issuer.portrait.vault import MAX_SEALED

MAX_FIELD = 200
DONE = {"kept": "已保存照片 Portrait kept: the resident's pickup carries it",
        "retired": "已保存照片；原电子证件已失效，请签发民警重新签发 Portrait kept; the credentials showing the old "
                   "face no longer work: an issuing officer prints a new pickup sheet"}


def register_portrait_routes(bp: Blueprint, ui: ConsoleUi) -> None:
    desk = ui.desk

    def page(officer: Officer, record: Record, status: int = 200, **context: Any) -> tuple[str, int]:
        current = None
        if officer.may(Action.READ_PORTRAIT) and record.permit.holder.portrait_sha256 is not None:
            try:
                current = portrait_data_uri(desk.portrait(officer, record.id))
            except NotFoundError:
                current = None
        return ui.page("portrait.html", status, officer=officer, record=record, current=current,
                       size=PORTRAIT_SIZE, budget=MAX_PORTRAIT_BYTES, **context)

    def refused(officer: Officer, record_id: str, exc: Exception) -> tuple[str, int]:
        status = exc.http_status if isinstance(exc, IssuerError) else 400
        return ui.with_record(officer, record_id, lambda again: page(officer, again, status, error=str(exc)),
                              refusal=exc)

    @bp.get("/records/<record_id>/portrait")
    @ui.signed_in
    def portrait(officer: Officer, record_id: str) -> Any:
        return ui.with_record(officer, record_id,
                              lambda found: page(officer, found, message=DONE.get(request.args.get("done", ""))))

    @bp.post("/records/<record_id>/portrait/preview")
    @ui.signed_in
    def portrait_preview(officer: Officer, record_id: str) -> Any:
        upload = request.files.get("photo")
        try:
            if upload is None:
                raise InvalidRequestError("选择一张照片 Choose a photo (JPEG or PNG)")
            made, sealed = desk.preview_portrait(officer, record_id[:MAX_FIELD], upload.read())
            found = desk.get_record(officer, record_id[:MAX_FIELD])
        except (IssuerError, CredentialError) as exc:
            return refused(officer, record_id[:MAX_FIELD], exc)
        return page(officer, found, preview=portrait_data_uri(made), preview_bytes=len(made),
                    sealed=base64.urlsafe_b64encode(sealed).decode("ascii"))

    @bp.post("/records/<record_id>/portrait")
    @ui.signed_in
    def keep_portrait(officer: Officer, record_id: str) -> Any:
        try:
            text = request.form.get("sealed", "")
            if not text or len(text) > 2 * MAX_SEALED:
                raise InvalidRequestError("预览已失效，请重新上传 The preview is missing: upload the photo again")
            try:
                sealed = base64.urlsafe_b64decode(text.encode("ascii"))
            except (binascii.Error, UnicodeEncodeError) as exc:
                raise InvalidRequestError("预览已失效，请重新上传 The preview is damaged: upload the photo again") from exc
            kept, retired = desk.keep_preview(officer, record_id[:MAX_FIELD], sealed)
        except (IssuerError, CredentialError) as exc:
            return refused(officer, record_id[:MAX_FIELD], exc)
        done = "retired" if retired else "kept"  # credentials showing the old face retired: a new pickup is due
        return redirect(url_for("officer_console.portrait", record_id=kept.id, done=done), 303)
