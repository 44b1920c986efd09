"""What every console page shares: its settings, the signed-in officer, the CSRF token, rendering a page."""

from __future__ import annotations

import datetime
import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import redirect, render_template, session, url_for

from credential.errors import CredentialError
from credential.passclaims import CHINA_STANDARD_TIME
from issuer.desk import OfficerDesk
from issuer.errors import IssuerError, SettingsError, StoreUnavailableError, UnauthorizedError
from issuer.http.console.words import REASONS, ROLES, STATES, TYPES, field_error
from issuer.http.logs import log_store_unavailable
from issuer.model import REASON_CODES, Action, Offer, Officer, Record, offer_uri, pickup_url
from issuer.qr import qr_data_uri

MAX_RECORD_ID = 200  # characters of a record id taken from a URL
Page = tuple[str, int]


@dataclass(frozen=True)
class ConsoleSettings:
    secret_key: bytes  # no default: signs the session cookie (which holds the session id and the CSRF token)
    session_ttl: int = 8 * 3600

    def __post_init__(self) -> None:
        if not isinstance(self.secret_key, bytes) or len(self.secret_key) < 32:
            raise SettingsError("secret_key", "the console secret must be at least 32 random bytes")


class ConsoleUi:
    """What every console route shares: the signed-in officer, the CSRF token, rendering a page or a failure."""

    def __init__(self, settings: ConsoleSettings, desk: OfficerDesk, public_url: str) -> None:
        self.settings = settings
        self.desk = desk
        self.public_url = public_url

    def csrf_token(self) -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return str(session["csrf"])

    def start_session(self, session_id: str) -> None:
        """A fresh cookie (a new CSRF token) holding a session just opened (issuer.logins)."""
        session.clear()
        session.permanent = True
        session["sid"] = session_id

    def sign_out(self) -> None:
        session_id = session.get("sid")
        if isinstance(session_id, str):
            self.desk.logins.end_session(session_id)
        session.clear()

    def current(self) -> Officer | None:
        """The officer of the cookie's session, re-read from the store on every request: a session ended by
        sign-out, a password change, a TOTP reset or a disabled or changed officer is gone at once, whatever the
        cookie says."""
        session_id = session.get("sid")
        if not isinstance(session_id, str):
            return None
        try:
            return self.desk.logins.session_officer(session_id)
        except UnauthorizedError:
            session.clear()
            return None

    def signed_in(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """The route for a signed-in officer only, who is passed to ``view`` first; anyone else is sent to
        the sign-in page (the name stays the view's: its endpoint and url_for are unchanged)."""

        @functools.wraps(view)
        def route(*args: Any, **kwargs: Any) -> Any:
            officer = self.current()
            if officer is None:
                return redirect(url_for("officer_console.login_form"))
            return view(officer, *args, **kwargs)

        return route

    def with_record(self, officer: Officer, record_id: str, show: Callable[[Record], Page], *,
                    refusal: Exception | None = None) -> Page:
        """``show`` of the officer's record ``record_id``, or the failure page when it cannot be read (a record
        of another district answers exactly like a missing one: the desk's rule) — saying ``refusal``, when
        the page was to show that refusal beside the record, else why the record cannot be read."""
        try:
            found = self.desk.get_record(officer, record_id[:MAX_RECORD_ID])
        except (IssuerError, CredentialError) as exc:
            return self.failed(officer, refusal or exc)
        return show(found)

    def page(self, template: str, status: int = 200, **context: Any) -> tuple[str, int]:
        officer = context.get("officer")
        may = {a.value: officer.may(a) for a in Action} if isinstance(officer, Officer) else {}
        return render_template(f"officer/{template}", csrf=self.csrf_token(), reason_codes=REASON_CODES, may=may,
                               reasons=REASONS, states=STATES, types=TYPES, roles=ROLES, **context), status

    def failed(self, officer: Officer, exc: Exception, *, rename: dict[str, str] | None = None,
               **context: Any) -> tuple[str, int]:
        """The page again with the error: a refused form field is marked and explained beside the field (in
        words, see words.py); ``rename`` maps an error's field to the form's input of that name."""
        if isinstance(exc, StoreUnavailableError):  # the page says so; the operator's log must too
            log_store_unavailable(exc, api="officer", where="console")
        status = exc.http_status if isinstance(exc, IssuerError) else 400
        wrong = field_error(exc, fields=rename)
        errors = {wrong.field: wrong.reason} if wrong else {}
        return self.page(context.pop("template", "home.html"), status, officer=officer,
                         error=wrong.summary() if wrong else str(exc), errors=errors, **context)

    def sheet(self, officer: Officer, record: Record, made: Offer, **context: Any) -> tuple[str, int]:
        """The printable pickup sheet of a fresh offer: the QR of the https pickup page (a phone's camera opens
        it) and the PIN (shown this once); the offer URI too, for a wallet that scans it itself."""
        page = pickup_url(self.public_url, made.offer_id)
        expires = datetime.datetime.fromtimestamp(made.expires_at, CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
        return self.page("sheet.html", officer=officer, record=record, offer=made, pickup_url=page,
                         offer_uri=offer_uri(self.public_url, made.offer_id), offer_expires=expires,
                         qr=qr_data_uri(page), **context)
