"""The console's record page and its actions: issue, endorse, re-deliver, approve or deny, suspend, lift, revoke.

The page also shows the record's history (issuer.history: every audit entry of the record, newest first, a
page at a time through the store's per-record index), its offers and pickups and the validity in force and
endorsed. The citizen ID is masked (110101********1234) unless the officer presses "reveal": a POST whose
desk call writes a ``reveal_citizen_id`` entry.

Each action is one desk call (issuer.desk.OfficerDesk): the desk checks the role and the district and writes
the audit entry; the page only shows the buttons the officer's role allows (the desk refuses the others
anyway). A record of another district answers exactly like a missing one.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint, abort, redirect, request, url_for

from credential.errors import CredentialError
from credential.model import CredentialType
from issuer.errors import IssuerError, StoreUnavailableError
from issuer.http import metrics
from issuer.http.console.display import officer_names
from issuer.http.console.ui import ConsoleUi
from issuer.http.console.words import (
    ACTIONS,
    CHOOSE_REASON,
    CONFIRM_REVOKE,
    OFFER_STATES,
    OTHER_NEEDS_TEXT,
    OUTCOMES,
    Words,
    entry_reason_words,
)
from issuer.http.logs import log_store_unavailable
from issuer.model import REASON_CODES, Action, Officer, ReasonCode, Record, RecordState, parse_reason
from issuer.rules import beijing_day

MAX_FIELD = 200
# What the page says after a redirect (?done=...): fixed labels, nothing reflected from the URL.
DONE = {"registered": "已登记 Registered", "suspend": "已暂停 Suspended", "lift": "已恢复 Lifted", "revoke": "已吊销 Revoked",
        "approve": "已批准 Approved: the resident's wallet receives the credential",
        "deny": "已驳回 Denied: the record is revoked"}
CHANGES = ("suspend", "lift", "revoke")


def incomplete(action: str, form: dict[str, str]) -> tuple[str, Words] | None:
    """What the form of ``action`` (a change or redeliver) lacks, as (the input's name, words), or None.

    Revocation is final: its form has no preselected reason and a confirmation box that must be ticked.
    """
    code = form.get("reason_code", "")
    if code not in REASON_CODES:
        return "reason_code", CHOOSE_REASON
    if code == ReasonCode.OTHER.value and not form.get("reason", "").strip():
        return "reason", OTHER_NEEDS_TEXT
    if action == "revoke" and form.get("confirm") != "1":
        return "confirm", CONFIRM_REVOKE
    return None


def query_seq(text: str) -> int | None:
    """A ``before``/seq query parameter, or None when absent or not a plain number (then the newest page)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def endorsement_due(record: Record, window_days: int) -> datetime.date | None:
    """The first day the annual endorsement (签注) may be made, or None: only an active residence permit."""
    permit = record.permit
    if permit.type is not CredentialType.RESIDENCE_PERMIT or record.state is not RecordState.ACTIVE:
        return None
    return permit.valid_until - datetime.timedelta(days=window_days)


def register_record_routes(bp: Blueprint, ui: ConsoleUi) -> None:
    desk = ui.desk

    def record_page(officer: Officer, record: Record, status: int = 200, *, before: int | None = None,
                    **context: Any) -> tuple[str, int]:
        due = endorsement_due(record, desk.service.settings.endorsement_window_days)
        now = desk.service.clock()
        today = beijing_day(now)
        history = desk.record_history(officer, record.id, before=before)
        return ui.page("record.html", status, officer=officer, record=record, due=due,
                       endorse_now=due is not None and today >= due,
                       pending=desk.awaiting_approval(officer, record.id), new_device=ReasonCode.NEW_DEVICE.value,
                       history=history, now=now, in_force=history.in_force(today), offer_states=OFFER_STATES,
                       names=officer_names(desk, (e.officer for e in history.entries)), actions=ACTIONS,
                       outcomes=OUTCOMES, reason_words=entry_reason_words, **context)

    def refused(officer: Officer, record_id: str, exc: Exception) -> tuple[str, int]:
        """The record page again with the error, or the plain error when the record cannot be shown."""
        def again(found: Record) -> tuple[str, int]:
            if isinstance(exc, StoreUnavailableError):
                log_store_unavailable(exc, api="officer", where="console")
            status = exc.http_status if isinstance(exc, IssuerError) else 400
            return record_page(officer, found, status, error=str(exc))

        return ui.with_record(officer, record_id, again, refusal=exc)

    def not_done(officer: Officer, record_id: str, action: str, lacking: tuple[str, Words]) -> tuple[str, int]:
        """The record page again, the lacking input of the action's form marked; nothing changed."""
        field, words = lacking
        return ui.with_record(officer, record_id, lambda found: record_page(
            officer, found, 400, error=" ".join(words), errors={f"{action}-{field}": words}))

    @bp.get("/records/<record_id>")
    @ui.signed_in
    def record(officer: Officer, record_id: str) -> Any:
        return ui.with_record(officer, record_id, lambda found: record_page(
            officer, found, message=DONE.get(request.args.get("done", "")),
            before=query_seq(request.args.get("before", ""))))

    @bp.post("/records/<record_id>/reveal")
    @ui.signed_in
    def reveal(officer: Officer, record_id: str) -> Any:
        """The page once more with the full citizen ID: a POST (CSRF-checked, never a link to follow or a URL
        in the history) and an audited action; another district's record is refused like a missing one."""
        try:
            found = desk.reveal_citizen_id(officer, record_id[:MAX_FIELD])
        except (IssuerError, CredentialError) as exc:
            return refused(officer, record_id[:MAX_FIELD], exc)
        return record_page(officer, found, revealed=True)

    @bp.post("/records/<record_id>/offer")
    @ui.signed_in
    def offer(officer: Officer, record_id: str) -> Any:
        pending = request.form.get("pending") == "1"
        try:
            found = desk.get_record(officer, record_id[:MAX_FIELD])
            made = desk.create_offer(officer, found.id, pending=pending)
        except (IssuerError, CredentialError) as exc:
            return refused(officer, record_id[:MAX_FIELD], exc)
        return ui.sheet(officer, found, made, pending=pending)

    @bp.post("/records/<record_id>/endorse")
    @ui.signed_in
    def endorse(officer: Officer, record_id: str) -> Any:
        try:
            endorsed, made = desk.endorse(officer, record_id[:MAX_FIELD])
        except (IssuerError, CredentialError) as exc:
            return refused(officer, record_id[:MAX_FIELD], exc)
        return ui.sheet(officer, endorsed, made, endorsed_until=endorsed.permit.valid_until)

    @bp.post("/records/<record_id>/redeliver")
    @ui.signed_in
    def redeliver(officer: Officer, record_id: str) -> Any:
        form = {"reason_code": ReasonCode.NEW_DEVICE.value, **request.form.to_dict()}
        lacking = incomplete("redeliver", form)
        if lacking is not None and officer.may(Action.REDELIVER):
            return not_done(officer, record_id[:MAX_FIELD], "redeliver", lacking)
        try:
            reason = parse_reason(form["reason_code"],
                                  request.form.get("reason", "")[:MAX_FIELD])
            found = desk.get_record(officer, record_id[:MAX_FIELD])
            retired, made = desk.redeliver(officer, found.id, reason)
        except (IssuerError, CredentialError) as exc:
            return refused(officer, record_id[:MAX_FIELD], exc)
        return ui.sheet(officer, found, made, retired=len(retired))

    @bp.post("/records/<record_id>/<action>")
    @ui.signed_in
    def change(officer: Officer, record_id: str, action: str) -> Any:
        if action not in (*CHANGES, "approve", "deny"):
            abort(404)
        # An officer who may not make the change gets the desk's refusal (and its audit entry), not a form hint.
        lacking = incomplete(action, request.form.to_dict()) if action in CHANGES else None
        if lacking is not None and officer.may(Action(action)):
            return not_done(officer, record_id[:MAX_FIELD], action, lacking)
        try:
            if action == "approve":
                done = desk.approve(officer, record_id[:MAX_FIELD])
            elif action == "deny":
                text = request.form.get("reason", "").strip()[:MAX_FIELD]
                done = desk.deny(officer, record_id[:MAX_FIELD], parse_reason("OTHER", text).text)
            else:
                reason = parse_reason(request.form.get("reason_code"), request.form.get("reason", "")[:MAX_FIELD])
                done = getattr(desk, action)(officer, record_id[:MAX_FIELD], reason)
        except (IssuerError, CredentialError) as exc:
            return refused(officer, record_id[:MAX_FIELD], exc)
        if action == "revoke":
            metrics.REVOCATIONS.inc()
        return redirect(url_for("officer_console.record", record_id=done.id, done=action), 303)
