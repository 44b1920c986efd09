"""The officer HTTP API (Flask): JSON in, JSON out, bearer tokens, never a 500 for any input.

``create_app`` builds everything; nothing happens at import time. Bodies are capped by Flask's
MAX_CONTENT_LENGTH before they are read and parsed with the strict credential.encoding.json_loads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from credential.encoding import json_loads
from credential.errors import CredentialError, InvalidApplicationError
from credential.model import Permit
from issuer.api_officers import register_officer_routes
from issuer.console import ConsoleSettings
from issuer.console import install as install_console
from issuer.desk import OfficerDesk
from issuer.errors import InvalidRequestError, IssuerError, RateLimitedError, UnauthorizedError
from issuer.model import AuditEntry, Offer, Officer, Reason, Record, parse_reason
from issuer.openapi import openapi_document
from issuer.service import IssuerService

log = logging.getLogger(__name__)

_HTTP_ERRORS = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "request_too_large",
                415: "unsupported_media_type", 406: "not_acceptable"}


@dataclass(frozen=True)
class OfficerApiSettings:
    max_body_bytes: int = 64 * 1024


def record_json(record: Record) -> dict[str, Any]:
    permit = record.permit
    return {
        "id": record.id, "state": record.state.value, "type": permit.type.slug, "district": permit.district,
        "document_number": permit.document_number, "created_at": record.created_at,
        "updated_at": record.updated_at, "permit": permit.to_dict(),
    }


def offer_json(offer: Offer, public_url: str) -> dict[str, Any]:
    credential_offer_uri = f"{public_url}/offers/{offer.offer_id}"
    return {
        "offer_id": offer.offer_id, "pre_authorized_code": offer.pre_authorized_code, "tx_code": offer.tx_code,
        "expires_at": offer.expires_at, "configuration_ids": list(offer.configuration_ids),
        "credential_offer_uri": credential_offer_uri,
        "offer_uri": "openid-credential-offer://?credential_offer_uri=" + quote(credential_offer_uri, safe=""),
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {"seq": entry.seq, "time": entry.time, "officer": entry.officer, "action": entry.action,
            "record_id": entry.record_id, "reason": entry.reason, "outcome": entry.outcome,
            "prev_hash": entry.prev_hash, "hash": entry.hash}


def _error(status: int, error: str, description: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": error, "error_description": description, **extra}), status


def _query_int(name: str, default: int, *, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or not low <= int(text) <= high:
        raise InvalidRequestError(f"{name} must be an integer in [{low}, {high}]")
    return int(text)


def create_app(settings: OfficerApiSettings, service: IssuerService, *,
               console: ConsoleSettings | None = None) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # 汉字 as UTF-8, not \\u escapes
    desk = OfficerDesk(service)
    public_url = service.settings.public_url
    api = Blueprint("officer_api", __name__, url_prefix="/api/v1")

    def officer() -> Officer:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedError("a bearer token is required")
        return desk.authenticate(token.strip())

    def body(*, optional: bool = False) -> dict[str, Any]:
        data = request.get_data(cache=False)  # 413 past MAX_CONTENT_LENGTH, also for chunked bodies
        if optional and not data:
            return {}
        parsed = json_loads(data, max_size=settings.max_body_bytes)
        if not isinstance(parsed, dict):
            raise InvalidRequestError("the body must be a JSON object")
        return parsed

    def reason() -> Reason:
        given = body()
        return parse_reason(given.get("reason_code"), given.get("reason", ""))

    def free_text_reason() -> str:
        value = body().get("reason")
        if not isinstance(value, str):
            raise InvalidRequestError("reason is required")
        return value

    @api.post("/records")
    def register() -> tuple[Response, int]:
        who = officer()
        given = body()
        override = given.pop("override_reason", None)
        if override is not None and not isinstance(override, str):
            raise InvalidRequestError("override_reason must be text")
        permit = Permit.from_dict(given)
        return jsonify(record_json(desk.register(who, permit, override_reason=override))), 201

    @api.get("/records/<record_id>")
    def get_record(record_id: str) -> Response:
        return jsonify(record_json(desk.get_record(officer(), record_id)))

    @api.post("/records/<record_id>/offers")
    def create_offer(record_id: str) -> tuple[Response, int]:
        who = officer()
        # Optional body {"pending": true}: the application awaits approval; the wallet is deferred until then.
        pending = body(optional=True).get("pending", False)
        if not isinstance(pending, bool):
            raise InvalidRequestError("pending must be a boolean")
        return jsonify(offer_json(desk.create_offer(who, record_id, pending=pending), public_url)), 201

    @api.post("/records/<record_id>/approve")
    def approve(record_id: str) -> Response:
        return jsonify(record_json(desk.approve(officer(), record_id)))

    @api.post("/records/<record_id>/deny")
    def deny(record_id: str) -> Response:
        who = officer()
        return jsonify(record_json(desk.deny(who, record_id, free_text_reason())))

    @api.post("/records/<record_id>/endorse")
    def endorse(record_id: str) -> tuple[Response, int]:
        record, offer = desk.endorse(officer(), record_id)
        return jsonify({"record": record_json(record), "offer": offer_json(offer, public_url)}), 201

    @api.post("/records/<record_id>/redeliver")
    def redeliver(record_id: str) -> tuple[Response, int]:
        who = officer()
        retired, offer = desk.redeliver(who, record_id, reason())
        return jsonify({"retired": [{"list": n, "idx": i} for n, i in retired],
                        "offer": offer_json(offer, public_url)}), 201

    @api.post("/records/<record_id>/suspend")
    def suspend(record_id: str) -> Response:
        who = officer()
        return jsonify(record_json(desk.suspend(who, record_id, reason())))

    @api.post("/records/<record_id>/lift")
    def lift(record_id: str) -> Response:
        who = officer()
        return jsonify(record_json(desk.lift(who, record_id, reason())))

    @api.post("/records/<record_id>/revoke")
    def revoke(record_id: str) -> Response:
        who = officer()
        return jsonify(record_json(desk.revoke(who, record_id, reason())))

    @api.get("/audit")
    def audit() -> Response:
        who = officer()
        after = _query_int("after", 0, low=0, high=1 << 62)
        limit = _query_int("limit", 100, low=1, high=1000)
        entries = desk.audit_entries(who, after=after, limit=limit)
        return jsonify({"entries": [audit_json(e) for e in entries], "next": entries[-1].seq if entries else after})

    register_officer_routes(api, desk, officer, body)
    app.register_blueprint(api)
    if console is not None:  # the server-rendered officer console at /officer/ (issuer.console)
        install_console(app, console, desk, public_url)
    _register_error_handlers(app)

    @app.get("/openapi.json")
    def openapi() -> Response:
        response = jsonify(openapi_document())
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    @app.after_request
    def no_store(response: Response) -> Response:
        response.headers.setdefault("Cache-Control", "no-store")  # offers carry a code and a PIN
        return response

    return app


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(IssuerError)
    def issuer_error(exc: IssuerError) -> tuple[Response, int]:
        response, status = _error(exc.http_status, exc.error, exc.description)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc, UnauthorizedError):
            response.headers["WWW-Authenticate"] = 'Bearer realm="epermit-officers"'
        return response, status

    @app.errorhandler(InvalidApplicationError)
    def invalid_application(exc: InvalidApplicationError) -> tuple[Response, int]:
        return _error(400, "invalid_application", str(exc), field=exc.field)

    @app.errorhandler(CredentialError)
    def credential_error(exc: CredentialError) -> tuple[Response, int]:
        return _error(400, "invalid_request", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        return _error(status, _HTTP_ERRORS.get(status, "http_error"), exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:  # last resort: tests show no input reaches it
        log.exception("unhandled error in the officer API")
        return _error(500, "server_error", "internal error")
