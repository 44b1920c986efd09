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
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import qrcode
from cryptography.fernet import Fernet, InvalidToken
from flask import Blueprint, Flask, Response, abort, redirect, render_template, request, session, url_for

from credential.errors import CredentialError
from credential.model import Permit
from credential.passclaims import CHINA_STANDARD_TIME
from issuer.console_records import register_record_routes
from issuer.desk import OfficerDesk
from issuer.errors import IssuerError, UnauthorizedError
from issuer.model import REASON_CODES, Action, Offer, Officer, Record

_PERMIT_FIELDS = ("type", "name", "name_pinyin", "sex", "ethnicity", "birth_date", "citizen_id", "address",
                  "document_number", "district", "authority_code", "authority_name", "valid_from", "valid_until")
_INT_FIELDS = ("sex", "ethnicity")
MAX_FIELD = 200
_CITIZEN_ID_LIKE = re.compile(r"[0-9]{15,18}|[0-9]{17}[Xx]")  # then checked in full (GB 11643) by the desk


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


class ConsoleUi:
    """What every console route shares: the signed-in officer, the CSRF token, rendering a page or a failure."""

    def __init__(self, settings: ConsoleSettings, desk: OfficerDesk, public_url: str) -> None:
        self.settings = settings
        self.desk = desk
        self.public_url = public_url
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"console-token" + settings.secret_key).digest()))

    def csrf_token(self) -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return str(session["csrf"])

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def current(self) -> Officer | None:
        sealed = session.get("token")
        if not isinstance(sealed, str):
            return None
        try:
            token = self._fernet.decrypt(sealed.encode("ascii"), ttl=self.settings.session_ttl).decode("utf-8")
            return self.desk.authenticate(token)
        except (InvalidToken, UnauthorizedError, UnicodeError):
            session.pop("token", None)
            return None

    def page(self, template: str, status: int = 200, **context: Any) -> tuple[str, int]:
        officer = context.get("officer")
        may = {a.value: officer.may(a) for a in Action} if isinstance(officer, Officer) else {}
        return render_template(f"officer/{template}", csrf=self.csrf_token(), reason_codes=REASON_CODES, may=may,
                               **context), status

    def failed(self, officer: Officer, exc: Exception, **context: Any) -> tuple[str, int]:
        status = exc.http_status if isinstance(exc, IssuerError) else 400
        return self.page(context.pop("template", "home.html"), status, officer=officer, error=str(exc), **context)

    def sheet(self, officer: Officer, record: Record, made: Offer, **context: Any) -> tuple[str, int]:
        """The printable pickup sheet of a fresh offer: the offer QR and the PIN (shown this once)."""
        uri = f"{self.public_url}/offers/{made.offer_id}"
        offer_uri = "openid-credential-offer://?credential_offer_uri=" + quote(uri, safe="")
        expires = datetime.datetime.fromtimestamp(made.expires_at, CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
        return self.page("sheet.html", officer=officer, record=record, offer=made, offer_uri=offer_uri,
                         offer_expires=expires, qr=_qr_data_uri(offer_uri), **context)


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
        officer_id = request.form.get("officer_id", "")[:MAX_FIELD]
        token = request.form.get("password", "")[:MAX_FIELD]
        try:
            officer = desk.authenticate(token)
        except IssuerError:
            officer = None
        if officer is None or not hmac.compare_digest(officer.id.encode(), officer_id.encode()):
            return ui.page("login.html", 401, error="wrong officer id or password")
        session.clear()
        session.permanent = True
        session["token"] = ui.seal(token)
        return redirect(url_for("officer_console.home"))

    @bp.post("/logout")
    def logout() -> Any:
        session.clear()
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
            return ui.failed(officer, exc, query=query)
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
