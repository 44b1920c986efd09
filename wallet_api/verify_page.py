"""The landlord's offline verifier page (a PWA built from web/ into wallet_api/static/verify) at /verify/.

The page pins the root key it is first served from /verify/root.json (its service worker keeps that copy
for good: trust on first use, see docs/web.md); the key comes from the issuer's key ring. Nothing here
sees a scan: verification happens in the browser, against the signed public documents.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, Response, jsonify, redirect, send_from_directory

from credential.jwk import PublicKey, key_id, public_jwk

DEFAULT_BUILD = Path(__file__).with_name("static") / "verify"
_MEDIA_TYPES = {
    "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8", "styles.css": "text/css; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json", "icon.svg": "image/svg+xml",
    "zxing_reader.wasm": "application/wasm",
}
# Tight enough for a page that only talks to its own origin; wasm compilation needs 'wasm-unsafe-eval'.
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' blob: data:; "
       "media-src 'self' blob: mediastream:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'")


def create_blueprint(root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD) -> Blueprint:
    """The /verify/ pages; ``root_key`` gives the trust list root the page should pin."""
    bp = Blueprint("verify_page", __name__)

    def _file(name: str) -> Response:
        if not (build_dir / "index.html").is_file():
            response = jsonify({"error": "not_found", "error_description": "verifier page not built (make web)"})
            response.status_code = 404
            return response
        response = send_from_directory(build_dir, name, mimetype=_MEDIA_TYPES[name], max_age=0)
        response.headers["Cache-Control"] = "no-cache"  # the service worker does the offline caching
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if name in ("index.html", "sw.js"):
            response.headers["Permissions-Policy"] = "camera=(self)"
        return response

    @bp.get("/verify")
    def bare() -> Response:
        return redirect("/verify/", code=308)  # type: ignore[return-value]

    @bp.get("/verify/")
    def index() -> Response:
        return _file("index.html")

    @bp.get("/verify/<name>")
    def asset(name: str) -> Response:
        if name not in _MEDIA_TYPES:
            response = jsonify({"error": "not_found", "error_description": "no such file"})
            response.status_code = 404
            return response
        return _file(name)

    @bp.get("/verify/root.json")
    def root() -> Response:
        key = root_key()
        response = jsonify({"kid": key_id(key), "jwk": public_jwk(key)})
        response.headers["Cache-Control"] = "no-cache"
        return response

    return bp


def register(app: Flask, root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD) -> None:
    app.register_blueprint(create_blueprint(root_key, build_dir=build_dir))
