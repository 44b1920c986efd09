"""The resident's wallet (a PWA built from web/wallet into wallet_api/static/wallet) at /wallet/.

It picks credentials up from this same origin over OpenID4VCI (``/wallet/?credential_offer_uri=<offer URL>``,
the pickup page's button), keeps them with a non-extractable device key in the browser, and shows the live
QR with no network. Like the verifier page it pins the root key it is first served (/wallet/root.json) to
check the trust list and its own status list. Nothing the wallet holds is ever sent here but key proofs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask

from credential.jwk import PublicKey
from wallet_api.pwa import WebApp, web_app_blueprint

DEFAULT_BUILD = Path(__file__).with_name("static") / "wallet"
# The wallet talks to its own origin only, runs no wasm and needs no camera.
CSP = ("default-src 'self'; script-src 'self'; img-src 'self' blob: data:; style-src 'self'; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def create_blueprint(root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD) -> Blueprint:
    """The /wallet/ pages; ``root_key`` gives the trust list root the wallet should pin."""
    return web_app_blueprint(WebApp("wallet_page", "/wallet", "wallet page", CSP, build_dir,
                                    permissions=lambda name: "camera=(), microphone=(), geolocation=()"), root_key)


def register(app: Flask, root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD) -> None:
    app.register_blueprint(create_blueprint(root_key, build_dir=build_dir))
