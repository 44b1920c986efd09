"""The resident's wallet (a PWA built from web/wallet into wallet_api/static/wallet) at /wallet/.

It picks credentials up from this same origin over OpenID4VCI (``/wallet/?credential_offer_uri=<offer URL>``,
the pickup page's button), keeps them with a non-extractable device key in the browser, and shows the live
QR with no network. Like the verifier page it pins the root key it is first served (/wallet/root.json) to
check the trust list and its own status list. Nothing the wallet holds is ever sent here but key proofs.

It also answers online verifiers (OpenID4VP 1.0, ``/wallet/?openid4vp=<request link>`` same-device, or the
request's QR scanned): the CAs it trusts for them are served here, /wallet/verifiers.json
(wallet_api.verifier_cas), and the presentation goes straight from the browser to the verifier.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Flask, Response, jsonify

from credential.codes import DISTRICT_LABELS
from credential.jwk import PublicKey
from issuer.errors import SettingsError
from wallet_api.pwa import MEDIA_TYPES, WebApp, web_app_blueprint
from wallet_api.verifier_cas import read_verifier_cas

DEFAULT_BUILD = Path(__file__).with_name("static") / "wallet"
# connect-src: its own origin (the issuer) and any https origin, because an online verifier (an employer)
# can be any host: which ones are believed is decided by the x5c chain to a CA from verifiers.json and the
# leaf naming the request's host, checked in the page before anything is sent — a CSP list of hosts could
# not say it better and would have to change with every employer. Plain http is never allowed out.
# 'wasm-unsafe-eval' and media-src: the zxing-wasm reader and the camera, for scanning a request's QR.
CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' blob: data:; "
       "media-src 'self' blob: mediastream:; style-src 'self'; connect-src 'self' https:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
PERMISSIONS = "camera=(self), microphone=(), geolocation=()"


def _verifier_cas(path: Path | None, issuer_login: dict[str, object] | None) -> Response:
    login = {} if issuer_login is None else {"issuer_login": issuer_login}
    if path is None and issuer_login is None:
        response = jsonify({"error": "not_found",
                            "error_description": "no CA for online verifiers is configured (EPERMIT_VERIFIER_CA_FILE)"})
        response.status_code = 404
    else:
        try:
            response = jsonify({"certificates": [] if path is None else read_verifier_cas(path), **login})
        except SettingsError as exc:
            response = jsonify({"error": "unavailable", "error_description": f"{exc.setting} {exc.reason}"})
            response.status_code = 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _districts() -> Response:
    """The city's districts (GB/T 2260) an address change may name: credential.codes, the one list."""
    response = jsonify({"districts": [{"code": code, "zh": zh, "en": en} for code, (zh, en) in DISTRICT_LABELS.items()]})
    response.headers["Cache-Control"] = "no-cache"
    return response


def create_blueprint(root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD,
                     verifier_ca_file: Path | None = None, issuer_login: dict[str, object] | None = None) -> Blueprint:
    """The /wallet/ pages; ``root_key`` gives the trust list root the wallet should pin, ``verifier_ca_file``
    the PEM bundle of CAs whose online verifiers it may answer (none: it answers none), ``issuer_login`` the
    anchor of this issuer's own login (wallet_api.verifier_cas.issuer_login_anchor)."""
    page = WebApp("wallet_page", "/wallet", "wallet page", CSP, build_dir,
                  media_types={**MEDIA_TYPES, "zxing_reader.wasm": "application/wasm"},
                  permissions=lambda name: PERMISSIONS if name in ("index.html", "sw.js") else None)
    bp = web_app_blueprint(page, root_key)
    bp.add_url_rule("/wallet/verifiers.json", "verifier_cas", lambda: _verifier_cas(verifier_ca_file, issuer_login))
    bp.add_url_rule("/wallet/districts.json", "districts", _districts)
    return bp


def register(app: Flask, root_key: Callable[[], PublicKey], *, build_dir: Path = DEFAULT_BUILD,
             verifier_ca_file: Path | None = None, issuer_login: dict[str, object] | None = None) -> None:
    app.register_blueprint(create_blueprint(root_key, build_dir=build_dir, verifier_ca_file=verifier_ca_file,
                                            issuer_login=issuer_login))
