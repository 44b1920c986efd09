"""The console's queue of residents' requests (/officer/requests): oldest first, approve or deny with a reason.

Each action is one call of issuer.requests.ResidentRequests, which checks the role (the desk's separation of
duties for what the approval does) and the district and writes the audit entry; the page shows the buttons
the officer's role allows for each kind and refuses nothing itself. Another district's request is not listed
and answers like a missing one.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint, redirect, request, url_for

from credential.errors import CredentialError
from credential.passclaims import CHINA_STANDARD_TIME
from issuer.errors import IssuerError
from issuer.http.console.ui import ConsoleUi
from issuer.model import Officer
from issuer.requests import RequestState, ResidentRequests, answer
from issuer.requests.service import DECIDING_ACTION
from issuer.requests.words import KIND_WORDS, STATE_WORDS

MAX_FIELD = 200
DONE = {"approve": "已批准 Approved: the resident is told and picks the credential up online",
        "deny": "已驳回 Denied: the resident is told why"}
QUEUED_BECAUSE = {"endorsement_not_due": ("未到签注期", "before the endorsement window"),
                  "registration_required": ("无有效居住登记", "no valid registration card"),
                  "flagged": ("有暂停记录", "a record of the holder is suspended"),
                  "officer_review": ("须民警审核", "needs an officer's review"),
                  "new_device": ("手机丢失，重新发证", "lost phone: re-delivery to the new phone")}


def register_request_routes(bp: Blueprint, ui: ConsoleUi) -> None:
    requests = ResidentRequests(ui.desk.service)

    def queue_page(officer: Officer, status: int = 200, **context: Any) -> Any:
        try:
            rows = requests.queue(officer)
        except (IssuerError, CredentialError) as exc:
            return ui.failed(officer, exc)
        may_decide = {kind.value: officer.may(action) for kind, action in DECIDING_ACTION.items()}
        when = {r.id: datetime.datetime.fromtimestamp(r.created_at, CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
                for r in rows}
        return ui.page("requests.html", status, officer=officer, rows=rows, answers={r.id: answer(r) for r in rows},
                       when=when,
                       kinds={k.value: w for k, w in KIND_WORDS.items()},
                       request_states={s.value: w for s, w in STATE_WORDS.items()}, because=QUEUED_BECAUSE,
                       may_decide=may_decide, **context)

    @bp.get("/requests")
    @ui.signed_in
    def resident_requests(officer: Officer) -> Any:
        done = request.args.get("done", "")
        return queue_page(officer, message=DONE.get(done))

    @bp.post("/requests/<request_id>/<action>")
    @ui.signed_in
    def decide_request(officer: Officer, request_id: str, action: str) -> Any:
        if action not in DONE:
            return queue_page(officer, 404, error="没有此操作 No such action")
        try:
            if action == "approve":
                requests.approve(officer, request_id[:MAX_FIELD])
            else:
                requests.deny(officer, request_id[:MAX_FIELD], request.form.get("reason", "")[:MAX_FIELD])
        except (IssuerError, CredentialError) as exc:
            status = exc.http_status if isinstance(exc, IssuerError) else 400
            return queue_page(officer, status, error=str(exc))
        return redirect(url_for("officer_console.resident_requests", done=action), 303)


__all__ = ["RequestState", "register_request_routes"]
