"""create_app: the officer API and, when configured, the console on one Flask app."""

from __future__ import annotations

from flask import Flask, Response, jsonify

from issuer.desk import OfficerDesk
from issuer.http import officers, portraits, records
from issuer.http import requests as resident_requests
from issuer.http.console import ConsoleSettings
from issuer.http.console import install as install_console
from issuer.http.context import EXTENSION, OfficerApiSettings, OfficerContext
from issuer.http.errors import register_officer_error_handlers
from issuer.http.headers import install_security_headers
from issuer.http.logs import install_request_logging
from issuer.http.openapi import openapi_document
from issuer.http.ops import install_operations
from issuer.http.uploads import install_uploads
from issuer.requests import ResidentRequests
from issuer.service import IssuerService

__all__ = ["ConsoleSettings", "OfficerApiSettings", "create_app"]


def create_app(settings: OfficerApiSettings, service: IssuerService, *,
               console: ConsoleSettings | None = None) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # 汉字 as UTF-8, not \\u escapes
    desk = OfficerDesk(service, sign_in=settings.sign_in)
    app.extensions[EXTENSION] = OfficerContext(settings=settings, desk=desk)
    install_uploads(app)  # the portrait's photo: a larger body cap on its routes only
    for module in (records, officers, portraits):
        app.register_blueprint(module.bp)
    resident_requests.install(app, ResidentRequests(service))  # the officers' queue of residents' requests
    if console is not None:  # the server-rendered officer console at /officer/ (issuer.http.console)
        install_console(app, console, desk, service.settings.public_url)
    install_operations(app, service, api="officer", metrics_token=settings.metrics_token)
    register_officer_error_handlers(app)
    install_security_headers(app)
    install_request_logging(app, "officer")

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
