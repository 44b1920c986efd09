"""Structured logs of both HTTP APIs: one JSON line per request and per error, with ids only.

A request line names the API, the method, the Flask url rule (``/api/v1/records/<record_id>``, never the raw
path, so no record id, code or citizen ID is written), the status, the duration in ms and a request id (the
client's ``X-Request-ID`` when it is a short token, else a fresh one; echoed on the response). Query
strings, bodies, headers, tokens and PINs are never read here. An error line carries the error's class and,
for a store failure, the class of its cause (a redis ``ConnectionError``): never its message, which may
quote a path or a value. ``configure_json_logging()`` sends the ``epermit`` loggers to stderr as JSON
(`epermit serve`, the gunicorn workers).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
import traceback
from typing import Any, TextIO

from flask import Flask, Response, g, request

from issuer.errors import StoreUnavailableError
from issuer.http import metrics

REQUEST_LOGGER = "epermit.http.request"
ERROR_LOGGER = "epermit.http.error"
FIELDS = "epermit_fields"  # the LogRecord attribute carrying a line's structured fields
REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
OWN_LOGGERS = ("epermit", "issuer", "wallet_api", "keys", "credential", "verifier")
UNMATCHED = "<unmatched>"  # the route of a request no rule matched (a 404): the path itself is not logged

_request_log = logging.getLogger(REQUEST_LOGGER)
_error_log = logging.getLogger(ERROR_LOGGER)


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message and the record's structured fields.

    An exception is written as its class and its frames (file, line, function), not its message."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, FIELDS, {}))
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            line.setdefault("error_class", type(exc).__name__)
            line["frames"] = [f"{frame.filename}:{frame.lineno}:{frame.name}"
                              for frame in traceback.extract_tb(exc.__traceback__)]
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def configure_json_logging(stream: TextIO | None = None, level: int = logging.INFO) -> logging.Handler:
    """Write every log record to ``stream`` (stderr) as one JSON line: the process's only root handler of
    this kind (calling again replaces it), with epermit's own loggers at ``level`` (others stay at WARNING)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
        root.removeHandler(old)
    root.addHandler(handler)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    return handler


def request_id() -> str:
    """The id of the current request (set when it began)."""
    value = g.get("epermit_request_id")
    return value if isinstance(value, str) else "-"


def route_rule() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def log_store_unavailable(exc: StoreUnavailableError, *, api: str, where: str) -> None:
    """A store failure is an operator's problem even when the request is still answered (a last copy)."""
    metrics.STORE_ERRORS.labels(api=api).inc()
    cause = exc.__cause__
    _error_log.error("store unavailable", extra={FIELDS: {
        "event": "store_error", "api": api, "where": where, "error_class": type(exc).__name__,
        "cause_class": type(cause).__name__ if cause is not None else None,
        "request_id": request_id(), "route": route_rule()}})


def log_unexpected(exc: Exception, *, api: str) -> None:
    _error_log.error("unhandled error", exc_info=exc, extra={FIELDS: {
        "event": "error", "api": api, "error_class": type(exc).__name__, "request_id": request_id(),
        "route": route_rule()}})


def install_request_logging(app: Flask, api: str) -> None:
    """One JSON line per request of ``app`` (``api``: "officer" or "wallet"), and its metrics."""
    @app.before_request
    def start() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.epermit_request_id = given if _CLIENT_REQUEST_ID.fullmatch(given) else secrets.token_hex(8)
        g.epermit_started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        started = g.get("epermit_started")
        seconds = time.perf_counter() - started if isinstance(started, float) else 0.0
        route = route_rule()
        metrics.observe_request(api=api, route=route, method=request.method, status=response.status_code,
                                seconds=seconds)
        response.headers[REQUEST_ID_HEADER] = request_id()
        _request_log.info("request", extra={FIELDS: {
            "event": "request", "api": api, "method": request.method, "route": route,
            "status": response.status_code, "duration_ms": round(seconds * 1000, 2), "request_id": request_id()}})
        return response
