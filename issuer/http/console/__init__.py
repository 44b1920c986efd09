"""The officer console at /officer/: server-rendered pages over the same OfficerDesk as the JSON API.

Sign-in takes the officer id, a password and a TOTP code (signin.py, issuer.logins; API tokens are for
machines and are not taken here) and opens a server-side session: the cookie holds a random session id,
the store its keyed hash with the officer's generation. Every request re-reads the session, so sign-out, a
password change, a TOTP reset, a changed or disabled officer end it at once, also for a copy of the cookie
saved earlier. Cookies: signed with ConsoleSettings.secret_key, Secure, HttpOnly, SameSite=Strict.
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
from issuer.desk import OfficerDesk
from issuer.errors import IssuerError
from issuer.http.console.audit import register_audit_routes
from issuer.http.console.display import register_filters
from issuer.http.console.portrait import register_portrait_routes
from issuer.http.console.records import register_record_routes
from issuer.http.console.registration import fresh_form, register_registration_routes
from issuer.http.console.requests import register_request_routes
from issuer.http.console.signin import register_sign_in_routes
from issuer.http.console.ui import ConsoleSettings, ConsoleUi
from issuer.model import Officer

__all__ = ["CONSOLE_OFF", "ConsoleSettings", "console_settings_from_env", "install"]

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

    @bp.get("/")
    @ui.signed_in
    def home(officer: Officer) -> Any:
        return ui.page("home.html", officer=officer, form=fresh_form(officer, request.args.to_dict()))

    @bp.post("/search")
    @ui.signed_in
    def search(officer: Officer) -> Any:
        """One box: an 18-character citizen ID lists the holder's records in the officer's districts; anything
        else is a record id and opens that record (another district's answers exactly like a missing one).
        A POST, so that no citizen ID lands in a URL, an access log or the browser's history."""
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

    register_registration_routes(bp, ui)
    register_sign_in_routes(bp, ui)
    register_record_routes(bp, ui)
    register_audit_routes(bp, ui)
    register_filters(bp)
    register_request_routes(bp, ui)  # the residents' requests queue (/officer/requests)
    register_portrait_routes(bp, ui)
    app.register_blueprint(bp)


CONSOLE_OFF = ("off (turn it on with EPERMIT_CONSOLE_SECRET_FILE=<a file of 32+ random bytes, e.g. "
               "`openssl rand -base64 48 > console-secret; chmod 600 console-secret`> or EPERMIT_CONSOLE_SECRET)")


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
