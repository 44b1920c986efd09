"""What every console page shares: its settings, the signed-in officer, the CSRF token, rendering a page."""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from flask import render_template, session

from credential.passclaims import CHINA_STANDARD_TIME
from issuer.desk import OfficerDesk
from issuer.errors import IssuerError, SettingsError, UnauthorizedError
from issuer.model import REASON_CODES, Action, Offer, Officer, Record, offer_uri, pickup_url
from issuer.qr import qr_data_uri


@dataclass(frozen=True)
class ConsoleSettings:
    secret_key: bytes  # no default: signs and encrypts the session cookie
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
        """The printable pickup sheet of a fresh offer: the QR of the https pickup page (a phone's camera opens
        it) and the PIN (shown this once); the offer URI too, for a wallet that scans it itself."""
        page = pickup_url(self.public_url, made.offer_id)
        expires = datetime.datetime.fromtimestamp(made.expires_at, CHINA_STANDARD_TIME).strftime("%Y-%m-%d %H:%M")
        return self.page("sheet.html", officer=officer, record=record, offer=made, pickup_url=page,
                         offer_uri=offer_uri(self.public_url, made.offer_id), offer_expires=expires,
                         qr=qr_data_uri(page), **context)
