"""What an officer API view needs, kept on the app by create_app (no module globals), and how it reads a request.

``officer_context()`` gives the desk and settings; ``current_officer()`` authenticates the bearer token on
every request (a disabled officer or a revoked token is refused at once; failures are audited and throttled); ``json_body()`` reads a body that
Flask has already capped (MAX_CONTENT_LENGTH) with the strict credential.encoding.json_loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request

from credential.encoding import json_loads
from issuer.desk import OfficerDesk
from issuer.errors import InvalidRequestError, SettingsError, UnauthorizedError
from issuer.model import Officer, Reason, parse_reason
from issuer.signin import DEFAULT_LIMITS, SignInLimits

EXTENSION = "epermit_officer_api"
MIN_METRICS_TOKEN = 32  # characters: a scraper's secret, as long as an officer token


@dataclass(frozen=True)
class OfficerApiSettings:
    max_body_bytes: int = 64 * 1024
    sign_in: SignInLimits = DEFAULT_LIMITS  # failed token or console sign-in attempts (issuer.signin)
    # The bearer token of /metrics (issuer.http.ops); None: no /metrics at all. EPERMIT_METRICS_TOKEN.
    metrics_token: str | None = None

    def __post_init__(self) -> None:
        token = self.metrics_token
        if token is not None and (len(token) < MIN_METRICS_TOKEN or not token.isascii() or not token.isprintable()
                                  or token != token.strip()):
            raise SettingsError("metrics_token", f"must be {MIN_METRICS_TOKEN}+ printable ASCII characters")


@dataclass(frozen=True)
class OfficerContext:
    settings: OfficerApiSettings
    desk: OfficerDesk

    @property
    def public_url(self) -> str:
        return self.desk.service.settings.public_url


def officer_context() -> OfficerContext:
    context = current_app.extensions[EXTENSION]
    assert isinstance(context, OfficerContext)
    return context


def bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("a bearer token is required")
    return token.strip()


def client_address() -> str:
    """The client as the WSGI server sees it: behind a reverse proxy, apply werkzeug's ProxyFix (trusting
    exactly the proxy's hops) so that this is the officer's address, not the proxy's."""
    return request.remote_addr or "unknown"


def current_officer() -> Officer:
    """The officer of the request's bearer token; a bad token is audited and counted (issuer.signin)."""
    return officer_context().desk.authenticate(bearer_token(), client=client_address())


def json_body(*, optional: bool = False) -> dict[str, Any]:
    data = request.get_data(cache=False)  # 413 past MAX_CONTENT_LENGTH, also for chunked bodies
    if optional and not data:
        return {}
    parsed = json_loads(data, max_size=officer_context().settings.max_body_bytes)
    if not isinstance(parsed, dict):
        raise InvalidRequestError("the body must be a JSON object")
    return parsed


def body_reason() -> Reason:
    given = json_body()
    return parse_reason(given.get("reason_code"), given.get("reason", ""))


def body_free_text_reason() -> str:
    value = json_body().get("reason")
    if not isinstance(value, str):
        raise InvalidRequestError("reason is required")
    return value


def query_int(name: str, default: int, *, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or not low <= int(text) <= high:
        raise InvalidRequestError(f"{name} must be an integer in [{low}, {high}]")
    return int(text)
