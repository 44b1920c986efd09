"""The officer console at /officer/: server-rendered pages over the same OfficerDesk as the JSON API.

Sign-in takes the officer id and a bearer token as the password and opens a server-side session: the
cookie holds a random session id, the store its hash with the officer and the token it was opened with
(OfficerRegistry.open_session). Every request re-reads the session, so sign-out, a revoked or expired token,
a changed or disabled officer end it at once, also for a copy of the cookie saved earlier. The token itself
is kept nowhere. Cookies: signed with ConsoleSettings.secret_key, Secure, HttpOnly, SameSite=Strict.
Every form carries a per-session CSRF token; a POST without it is refused (400). Role, district and audit
rules are the desk's: the console decides nothing itself.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask, Response, abort, redirect, request, session, url_for

from credential.errors import CredentialError
from credential.model import Permit
from issuer.desk import OfficerDesk
from issuer.errors import IssuerError, RateLimitedError
from issuer.http.console.portrait import register_portrait_routes
from issuer.http.console.records import register_record_routes
from issuer.http.console.ui import ConsoleSettings, ConsoleUi
from issuer.http.context import client_address

__all__ = ["ConsoleSettings", "console_settings_from_env", "install"]

_PERMIT_FIELDS = ("type", "name", "name_pinyin", "sex", "ethnicity", "birth_date", "citizen_id", "address",
                  "document_number", "district", "authority_code", "authority_name", "valid_from", "valid_until")
_INT_FIELDS = ("sex", "ethnicity")
MAX_FIELD = 200
_CITIZEN_ID_LIKE = re.compile(r"[0-9]{15,18}|[0-9]{17}[Xx]")  # then checked in full (GB 11643) by the desk


def citizen_id_query(text: str) -> str | None:
    """``text`` as a citizen ID to search for (then checked by the desk), or None for a record id."""
    if _CITIZEN_ID_LIKE.fullmatch(text):
        return text.upper()
    return None


def install(app: Flask, settings: ConsoleSettings, desk: OfficerDesk, public_url: str) -> None:
    """Register /officer/ on the officer API app (and its session cookie settings)."""
    app.secret_key = settings.secret_key
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_NAME="epermit_officer", PERMANENT_SESSION_LIFETIME=settings.session_ttl)
    ui = ConsoleUi(settings, desk, public_url)
    bp = Blueprint("officer_console", __name__, url_prefix="/officer", template_folder="templates",
                   static_folder="static/officer", static_url_path="/static")

    @bp.before_request
    def check_csrf() -> None:
        if request.method == "POST":
            given = request.form.get("csrf", "")
            expected = str(session.get("csrf", ""))  # compared as bytes: non-ASCII str would raise TypeError
            if not given or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
                abort(400, "missing or wrong CSRF token")

    @bp.after_request
    def headers(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                                       "frame-ancestors 'none'; form-action 'self'")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @bp.get("/login")
    def login_form() -> tuple[str, int]:
        return ui.page("login.html")

    @bp.post("/login")
    def login() -> Any:
        """A failed sign-in is audited with the officer id it claimed and throttled per address and per id
        (issuer.signin): past the limit the page says when to try again, a right token too."""
        officer_id = request.form.get("officer_id", "")[:MAX_FIELD]
        token = request.form.get("password", "")[:MAX_FIELD]
        try:
            desk.authenticate(token, client=client_address(), officer_id=officer_id)
            ui.sign_in(token)
        except RateLimitedError as exc:
            minutes = -(-exc.retry_after // 60)
            page, status = ui.page("login.html", 429, error=f"登录失败次数过多，请 {minutes} 分钟后再试。"
                                                            f"Too many failed sign-ins: try again in {minutes} min.")
            return Response(page, status, headers={"Retry-After": str(exc.retry_after)})
        except IssuerError:
            return ui.page("login.html", 401, error="警号或令牌错误 Wrong officer id or password")
        return redirect(url_for("officer_console.home"))

    @bp.post("/logout")
    def logout() -> Any:
        ui.sign_out()
        return redirect(url_for("officer_console.login_form"))

    @bp.get("/")
    def home() -> Any:
        officer = ui.current()
        if officer is None:
            return redirect(url_for("officer_console.login_form"))
        return ui.page("home.html", officer=officer)

    @bp.post("/search")
    def search() -> Any:
        """One box: an 18-character citizen ID lists the holder's records in the officer's districts; anything
        else is a record id and opens that record (another district's answers exactly like a missing one).
        A POST, so that no citizen ID lands in a URL, an access log or the browser's history."""
        officer = ui.current()
        if officer is None:
            return redirect(url_for("officer_console.login_form"))
        query = request.form.get("q", "").strip()[:MAX_FIELD]
        if not query:
            return redirect(url_for("officer_console.home"))
        citizen_id = citizen_id_query(query)
        try:
            if citizen_id is None:
                return redirect(url_for("officer_console.record", record_id=desk.get_record(officer, query).id), 303)
            found = desk.find_by_citizen_id(officer, citizen_id)
            rows = [(record, desk.awaiting_approval(officer, record.id)) for record in found]
        except (IssuerError, CredentialError) as exc:
            return ui.failed(officer, exc, rename={"citizen_id": "q"}, query=query)
        return ui.page("search.html", officer=officer, query=citizen_id, rows=rows)

    @bp.post("/records")
    def register() -> Any:
        officer = ui.current()
        if officer is None:
            return redirect(url_for("officer_console.login_form"))
        data: dict[str, Any] = {}
        for name in _PERMIT_FIELDS:
            value = request.form.get(name, "").strip()[:MAX_FIELD]
            if value:
                data[name] = int(value) if name in _INT_FIELDS and value.isascii() and value.isdigit() else value
        # The supervisor's form has the override field (possibly left empty: the desk then says why not).
        override = request.form.get("override_reason")
        override = override[:MAX_FIELD] if override is not None else None
        try:
            record = desk.register(officer, Permit.from_dict(data), override_reason=override)
        except (IssuerError, CredentialError) as exc:
            return ui.failed(officer, exc, form={**data, "override_reason": override or ""})
        return redirect(url_for("officer_console.record", record_id=record.id))

    register_record_routes(bp, ui)
    register_portrait_routes(bp, ui)
    app.register_blueprint(bp)


def console_settings_from_env(env: Mapping[str, str]) -> ConsoleSettings | None:
    """The console is on when the operator gives it a secret (EPERMIT_CONSOLE_SECRET or ..._FILE), else off.

    There is no default secret: without one the officer API runs without the console.
    """
    secret = env.get("EPERMIT_CONSOLE_SECRET", "").encode("utf-8")
    path = env.get("EPERMIT_CONSOLE_SECRET_FILE")
    if path:
        with open(path, "rb") as handle:
            secret = handle.read(4096).strip()
    return ConsoleSettings(secret_key=secret) if secret else None
