"""The landlord's offline verifier page (a PWA built from web/ into wallet_api/static/verify) at /verify/.

The page pins the root key it is first served from /verify/root.json (its service worker keeps that copy
for good: trust on first use, see docs/web.md); the key comes from the issuer's key ring. Nothing here
sees a scan: verification happens in the browser, against the signed public documents.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask

from credential.jwk import PublicKey
from wallet_api.pwa import MEDIA_TYPES, WebApp, web_app_blueprint

DEFAULT_BUILD = Path(__file__).with_name("static") / "verify"
# Tight enough for a page that only talks to its own origin; wasm compilation needs 'wasm-unsafe-eval'.
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' blob: data:; "
       "media-src 'self' blob: mediastream:; style-src 'self'; connect-src 'self'; frame-ancestors 'none'")


def create_blueprint(root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD) -> Blueprint:
    """The /verify/ pages; ``root_key`` gives the trust list root the page should pin."""
    page = WebApp("verify_page", "/verify", "verifier page", CSP, build_dir,
                  media_types={**MEDIA_TYPES, "zxing_reader.wasm": "application/wasm"},
                  permissions=lambda name: "camera=(self)" if name in ("index.html", "sw.js") else None)
    return web_app_blueprint(page, root_key)


def register(app: Flask, root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD) -> None:
    app.register_blueprint(create_blueprint(root_key, build_dir=build_dir))
