"""The resident's wallet (a PWA built from web/wallet into wallet_api/static/wallet) at /wallet/.

It picks credentials up from this same origin over OpenID4VCI (``/wallet/?credential_offer_uri=<offer URL>``,
the pickup page's button), keeps them with a non-extractable device key in the browser, and shows the live
QR with no network. Like the verifier page it pins the root key it is first served (/wallet/root.json) to
check the trust list and its own status list. Nothing the wallet holds is ever sent here but key proofs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, Response, jsonify, redirect, send_from_directory

from credential.jwk import PublicKey, key_id, public_jwk

DEFAULT_BUILD = Path(__file__).with_name("static") / "wallet"
_MEDIA_TYPES = {
    "index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8", "styles.css": "text/css; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json", "icon.svg": "image/svg+xml",
}
# The wallet talks to its own origin only, runs no wasm and needs no camera.
CSP = ("default-src 'self'; script-src 'self'; img-src 'self' blob: data:; style-src 'self'; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def _not_found(description: str) -> Response:
    response = jsonify({"error": "not_found", "error_description": description})
    response.status_code = 404
    return response


def create_blueprint(root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD) -> Blueprint:
    """The /wallet/ pages; ``root_key`` gives the trust list root the wallet should pin."""
    bp = Blueprint("wallet_page", __name__)

    def _file(name: str) -> Response:
        if not (build_dir / "index.html").is_file():
            return _not_found("wallet page not built (make web)")
        response = send_from_directory(build_dir, name, mimetype=_MEDIA_TYPES[name], max_age=0)
        response.headers["Cache-Control"] = "no-cache"  # the service worker does the offline caching
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        # The page's URL can carry an offer URI: no Referer may repeat it to anyone.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        return response

    @bp.get("/wallet")
    def bare() -> Response:
        return redirect("/wallet/", code=308)  # type: ignore[return-value]

    @bp.get("/wallet/")
    def index() -> Response:
        return _file("index.html")

    @bp.get("/wallet/<name>")
    def asset(name: str) -> Response:
        if name not in _MEDIA_TYPES:
            return _not_found("no such file")
        return _file(name)

    @bp.get("/wallet/root.json")
    def root() -> Response:
        key = root_key()
        response = jsonify({"kid": key_id(key), "jwk": public_jwk(key)})
        response.headers["Cache-Control"] = "no-cache"
        return response

    return bp


def register(app: Flask, root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD) -> None:
    app.register_blueprint(create_blueprint(root_key, build_dir=build_dir))
