"""The officer console at /officer/: server-rendered pages over the same OfficerDesk as the JSON API.

Sign-in takes the officer id and a bearer token as the password; the token is kept in the session cookie
encrypted (Fernet, key derived from ConsoleSettings.secret_key) and re-authenticated on every request, so a
disabled officer or a revoked token ends the session at once. Cookies: Secure, HttpOnly, SameSite=Strict.
Every form carries a per-session CSRF token; a POST without it is refused (400). Role, district and audit
rules are the desk's: the console decides nothing itself.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import io
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import qrcode
from cryptography.fernet import Fernet, InvalidToken
from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, session, url_for

from credential.errors import CredentialError
from credential.model import Permit
from credential.passclaims import CHINA_STANDARD_TIME
from issuer.desk import OfficerDesk
from issuer.errors import IssuerError, UnauthorizedError
from issuer.officers import Officer
from issuer.reasons import REASON_CODES, parse_reason

_PERMIT_FIELDS = ("type", "name", "name_pinyin", "sex", "ethnicity", "birth_date", "citizen_id", "address",
                  "document_number", "district", "authority_code", "authority_name", "valid_from", "valid_until")
_INT_FIELDS = ("sex", "ethnicity")
MAX_FIELD = 200


@dataclass(frozen=True)
class ConsoleSettings:
    secret_key: bytes  # no default: signs and encrypts the session cookie
    session_ttl: int = 8 * 3600

    def __post_init__(self) -> None:
        if not isinstance(self.secret_key, bytes) or len(self.secret_key) < 32:
            raise ValueError("the console secret_key must be at least 32 random bytes")


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def install(app: Flask, settings: ConsoleSettings, desk: OfficerDesk, public_url: str) -> None:
    """Register /officer/ on the officer API app (and its session cookie settings)."""
    app.secret_key = settings.secret_key
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_NAME="epermit_officer", PERMANENT_SESSION_LIFETIME=settings.session_ttl)
    fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"console-token" + settings.secret_key).digest()))
    bp = Blueprint("officer_console", __name__, url_prefix="/officer", template_folder="templates",
                   static_folder="static/officer", static_url_path="/static")

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return str(session["csrf"])

    @bp.before_request
    def check_csrf() -> None:
        if request.method == "POST":
            given = request.form.get("csrf", "")
            if not given or "csrf" not in session or not hmac.compare_digest(given, str(session["csrf"])):
                abort(400, "missing or wrong CSRF token")

    def current() -> Officer | None:
        sealed = session.get("token")
        if not isinstance(sealed, str):
            return None
        try:
            token = fernet.decrypt(sealed.encode("ascii"), ttl=settings.session_ttl).decode("utf-8")
            return desk.authenticate(token)
        except (InvalidToken, UnauthorizedError, UnicodeError):
            session.pop("token", None)
            return None

    def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
        return render_template(f"officer/{template}", csrf=csrf_token(), reason_codes=REASON_CODES, **context), status

    def failed(officer: Officer, exc: Exception, **context: Any) -> tuple[str, int]:
        status = exc.http_status if isinstance(exc, IssuerError) else 400
        return page(context.pop("template", "home.html"), status, officer=officer, error=str(exc), **context)

    @bp.after_request
    def headers(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                                       "frame-ancestors 'none'; form-action 'self'")
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @bp.get("/login")
    def login_form() -> tuple[str, int]:
        return page("login.html")

    @bp.post("/login")
    def login() -> Any:
        officer_id = request.form.get("officer_id", "")[:MAX_FIELD]
        token = request.form.get("password", "")[:MAX_FIELD]
        try:
            officer = desk.authenticate(token)
        except IssuerError:
            officer = None
        if officer is None or not hmac.compare_digest(officer.id.encode(), officer_id.encode()):
            return page("login.html", 401, error="wrong officer id or password")
        session.clear()
        session.permanent = True
        session["token"] = fernet.encrypt(token.encode("utf-8")).decode("ascii")
        return redirect(url_for("officer_console.home"))

    @bp.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("officer_console.login_form"))

    @bp.get("/")
    def home() -> Any:
        officer = current()
        if officer is None:
            return redirect(url_for("officer_console.login_form"))
        query = request.args.get("q", "").strip()[:MAX_FIELD]
        if query:
            try:
                record = desk.get_record(officer, query)
            except (IssuerError, CredentialError) as exc:
                return failed(officer, exc)
            return redirect(url_for("officer_console.record", record_id=record.id))
        return page("home.html", officer=officer)

    @bp.post("/records")
    def register() -> Any:
        officer = current()
        if officer is None:
            return redirect(url_for("officer_console.login_form"))
        data: dict[str, Any] = {}
        for name in _PERMIT_FIELDS:
            value = request.form.get(name, "").strip()[:MAX_FIELD]
            if value:
                data[name] = int(value) if name in _INT_FIELDS and value.isdigit() else value
        try:
            record = desk.register(officer, Permit.from_dict(data))
        except (IssuerError, CredentialError) as exc:
            return failed(officer, exc, form=data)
        return redirect(url_for("officer_console.record", record_id=record.id))

    @bp.get("/records/<record_id>")
    def record(record_id: str) -> Any:
        officer = current()
        if officer is None:
            return redirect(url_for("officer_console.login_form"))
        try:
            found = desk.get_record(officer, record_id[:MAX_FIELD])
        except (IssuerError, CredentialError) as exc:
            return failed(officer, exc)
        return page("record.html", officer=officer, record=found, message=request.args.get("done"))

    @bp.post("/records/<record_id>/offer")
    def offer(record_id: str) -> Any:
        officer = current()
        if officer is None:
            return redirect(url_for("officer_console.login_form"))
        try:
            found = desk.get_record(officer, record_id[:MAX_FIELD])
            made = desk.create_offer(officer, found.id)
        except (IssuerError, CredentialError) as exc:
            return failed(officer, exc)
        uri = f"{public_url}/offers/{made.offer_id}"
        offer_uri = "openid-credential-offer://?credential_offer_uri=" + _quote(uri)
        expires = datetime.datetime.fromtimestamp(made.expires_at, CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
        return page("sheet.html", officer=officer, record=found, offer=made, offer_uri=offer_uri, offer_expires=expires,
                    qr=_qr_data_uri(offer_uri))

    @bp.post("/records/<record_id>/<action>")
    def change(record_id: str, action: str) -> Any:
        officer = current()
        if officer is None:
            return redirect(url_for("officer_console.login_form"))
        if action not in ("suspend", "lift", "revoke"):
            abort(404)
        try:
            found = desk.get_record(officer, record_id[:MAX_FIELD])
            reason = parse_reason(request.form.get("reason_code"), request.form.get("reason", "")[:MAX_FIELD])
            getattr(desk, action)(officer, found.id, reason)
        except (IssuerError, CredentialError) as exc:
            try:
                again = desk.get_record(officer, record_id[:MAX_FIELD])
            except (IssuerError, CredentialError):
                return failed(officer, exc)
            return failed(officer, exc, template="record.html", record=again)
        return redirect(url_for("officer_console.record", record_id=found.id, done=action))

    app.register_blueprint(bp)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


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
