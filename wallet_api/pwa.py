"""Serving a built web app (a PWA from web/) under one path: its files, its pinned root key, its headers.

The verifier page (/verify/) and the resident's wallet (/wallet/) are served alike: only the files the
build makes (by name, with their media types), ``Cache-Control: no-cache`` (the service worker does the
offline caching), the app's own CSP, nosniff, no Referer, and ``root.json`` — the trust list root the app
pins on first use. A missing build answers a JSON 404 that says how to build it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, jsonify, redirect, send_from_directory

from credential.jwk import PublicKey, key_id, public_jwk

MEDIA_TYPES = {
    "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8", "styles.css": "text/css; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json", "icon.svg": "image/svg+xml",
}


@dataclass(frozen=True)
class WebApp:
    name: str  # the blueprint's name
    path: str  # "/verify", "/wallet"
    what: str  # for the not-built message: "verifier page"
    csp: str
    build_dir: Path
    media_types: Mapping[str, str] = field(default_factory=lambda: dict(MEDIA_TYPES))
    permissions: Callable[[str], str | None] = lambda name: None  # Permissions-Policy per file, or none


def _not_found(description: str) -> Response:
    response = jsonify({"error": "not_found", "error_description": description})
    response.status_code = 404
    return response


def web_app_blueprint(app: WebApp, root_key: Callable[[], PublicKey]) -> Blueprint:
    bp = Blueprint(app.name, __name__)

    def file(name: str) -> Response:
        if not (app.build_dir / "index.html").is_file():
            return _not_found(f"{app.what} not built (make web)")
        response = send_from_directory(app.build_dir, name, mimetype=app.media_types[name], max_age=0)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Content-Security-Policy"] = app.csp
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"  # a page's URL can carry an offer
        policy = app.permissions(name)
        if policy is not None:
            response.headers["Permissions-Policy"] = policy
        return response

    def bare() -> Response:
        return redirect(f"{app.path}/", code=308)  # type: ignore[return-value]

    def index() -> Response:
        return file("index.html")

    def asset(name: str) -> Response:
        return file(name) if name in app.media_types else _not_found("no such file")

    def root() -> Response:
        key = root_key()
        response = jsonify({"kid": key_id(key), "jwk": public_jwk(key)})
        response.headers["Cache-Control"] = "no-cache"
        return response

    bp.add_url_rule(app.path, "bare", bare)
    bp.add_url_rule(f"{app.path}/", "index", index)
    bp.add_url_rule(f"{app.path}/root.json", "root", root)
    bp.add_url_rule(f"{app.path}/<name>", "asset", asset)
    return bp
