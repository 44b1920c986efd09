"""The console's sign-in pages: /officer/login (officer id, password, TOTP code) and /officer/enrol (the QR
code of a new TOTP secret for an officer who has none yet), over issuer.logins through the desk.

Every failure is audited and throttled by the desk (issuer.signin): past the limit the page says when to try
again, a right password and code too. The page never says which of the three was wrong.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, request, session, url_for

from issuer.errors import IssuerError, RateLimitedError
from issuer.http.console.ui import ConsoleUi
from issuer.http.context import client_address
from issuer.qr import qr_data_uri

MAX_FIELD = 200
WRONG = "警号、密码或验证码错误 Wrong officer id, password or code"
WRONG_CODE = "验证码错误或已过期，请输入应用当前显示的验证码 Wrong or expired code: type the one the app shows now"


def _throttled(ui: ConsoleUi, template: str, exc: RateLimitedError, **context: Any) -> Response:
    minutes = -(-exc.retry_after // 60)
    page, status = ui.page(template, 429, error=f"登录失败次数过多，请 {minutes} 分钟后再试。"
                                                f"Too many failed sign-ins: try again in {minutes} min.", **context)
    return Response(page, status, headers={"Retry-After": str(exc.retry_after)})


def register_sign_in_routes(bp: Blueprint, ui: ConsoleUi) -> None:
    desk = ui.desk

    @bp.get("/login")
    def login_form() -> tuple[str, int]:
        return ui.page("login.html")

    @bp.post("/login")
    def login() -> Any:
        officer_id = request.form.get("officer_id", "")[:MAX_FIELD]
        password = request.form.get("password", "")[:MAX_FIELD]
        code = request.form.get("code", "").strip()[:MAX_FIELD]
        try:
            signed = desk.sign_in(officer_id, password, code, client=client_address())
        except RateLimitedError as exc:
            return _throttled(ui, "login.html", exc)
        except IssuerError:
            return ui.page("login.html", 401, error=WRONG, officer_id=officer_id)
        if signed.must_enrol:
            enrolment_id, _ = desk.logins.begin_enrolment(signed)
            session.clear()
            session["enrolment"], session["enrolling"] = enrolment_id, signed.officer.id
            return redirect(url_for("officer_console.enrol_form"))
        ui.start_session(desk.logins.open_session(signed, ttl=ui.settings.session_ttl))
        return redirect(url_for("officer_console.home"))

    def enrol_page(status: int = 200, **context: Any) -> Any:
        enrolment = desk.logins.pending_enrolment(str(session.get("enrolment", "")))
        if enrolment is None:
            return redirect(url_for("officer_console.login_form"))
        return ui.page("enrol.html", status, enrolment=enrolment, qr=qr_data_uri(enrolment.uri), **context)

    @bp.get("/enrol")
    def enrol_form() -> Any:
        return enrol_page()

    @bp.post("/enrol")
    def enrol() -> Any:
        code = request.form.get("code", "").strip()[:MAX_FIELD]
        try:
            session_id = desk.finish_enrolment(str(session.get("enrolment", "")), code,
                                               officer_id=str(session.get("enrolling", "")), client=client_address(),
                                               ttl=ui.settings.session_ttl)
        except RateLimitedError as exc:
            return _throttled(ui, "login.html", exc)
        except IssuerError:
            return enrol_page(401, error=WRONG_CODE)
        ui.start_session(session_id)
        return redirect(url_for("officer_console.home"))

    @bp.post("/logout")
    def logout() -> Any:
        ui.sign_out()
        return redirect(url_for("officer_console.login_form"))
