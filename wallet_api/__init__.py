"""The resident-facing OpenID4VCI 1.0 credential issuer and the public documents, over issuer.IssuerService.

Pre-authorized code flow: offer (by reference) -> token (code + PIN) -> nonce -> credential (key proofs),
then deferred credential (an application awaiting approval) and notification; /openapi.json describes it all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask

from issuer.errors import SettingsError
from issuer.http.headers import install_security_headers
from wallet_api import access, deferred, issuance, metadata, nonce, notification, offers, public, token, verify_page
from wallet_api import openapi as openapi_document
from wallet_api.context import EXTENSION, WalletContext
from wallet_api.errors import register_error_handlers
from wallet_api.lastcopies import LastCopies
from wallet_api.settings import WalletApiSettings

if TYPE_CHECKING:  # annotations only: importing the package needs no issuer back end
    from issuer.service import IssuerService

__all__ = ["WalletApiSettings", "create_app"]


def create_app(
    settings: WalletApiSettings, service: IssuerService, *, clock: Callable[[], int] | None = None
) -> Flask:
    """Build the wallet API; ``clock`` (unix seconds, default the service's) judges key proof freshness."""
    if settings.public_url != service.settings.public_url:
        # Wallets compare the Credential Issuer Identifier with the credentials' `iss` as exact strings.
        raise SettingsError("public_url", "WalletApiSettings.public_url must equal IssuerSettings.public_url")
    app = Flask(__name__)
    # Werkzeug refuses a larger Content-Length (413) before any view runs; one byte of slack lets
    # wallet_api.bodies tell a chunked body cut at the limit from one that fits (see there).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # 汉字 as UTF-8, not \\u escapes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = WalletContext(settings=settings, service=service, clock=clock or service.clock)
    app.extensions[public.LAST_COPIES] = LastCopies(settings.published_dir)
    for module in (metadata, offers, token, nonce, issuance, deferred, notification, public, openapi_document):
        app.register_blueprint(module.bp)
    verify_page.register(app, lambda: service.keyring.root.public_key)
    register_error_handlers(app)
    install_security_headers(app)
    app.after_request(access.send_dpop_nonce)
    return app
