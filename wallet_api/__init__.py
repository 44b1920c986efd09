"""The resident-facing OpenID4VCI 1.0 credential issuer and the public documents, over issuer.IssuerService.

Pre-authorized code flow: offer (by reference) -> token (code + PIN) -> nonce -> credential (key proofs),
then deferred credential (an application awaiting approval) and notification; /openapi.json describes it all.
The landlord's verifier page (/verify/) and the resident's wallet (/wallet/) are served beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask

from issuer.errors import SettingsError
from issuer.http.headers import install_security_headers
from issuer.http.logs import install_request_logging
from issuer.http.ops import install_operations
from wallet_api import (
    access,
    deferred,
    issuance,
    metadata,
    nonce,
    notification,
    offers,
    pickup_page,
    public,
    resident,
    token,
    verify_page,
    wallet_page,
)
from wallet_api import openapi as openapi_document
from wallet_api.context import EXTENSION, WalletContext
from wallet_api.errors import register_error_handlers
from wallet_api.lastcopies import LastCopies
from wallet_api.settings import WalletApiSettings
from wallet_api.verifier_cas import issuer_login_anchor

if TYPE_CHECKING:  # annotations only: importing the package needs no issuer back end
    from issuer.service import IssuerService
    from verifier.openid4vp import VerifierIdentity

__all__ = ["WalletApiSettings", "create_app"]


def create_app(
    settings: WalletApiSettings, service: IssuerService, *, clock: Callable[[], int] | None = None,
    login_verifier: VerifierIdentity | None = None,
) -> Flask:
    """Build the wallet API; ``clock`` (unix seconds, default the service's) judges key proof freshness.
    ``login_verifier``: the certificate and key the residents' OpenID4VP login is requested with
    (x509_san_dns on the public URL's host; wallet_api.login); None: residents present per request."""
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
    copies = app.extensions[public.LAST_COPIES] = LastCopies(settings.published_dir)
    for module in (metadata, offers, pickup_page, token, nonce, issuance, deferred, notification, public,
                   openapi_document):
        app.register_blueprint(module.bp)
    resident.install(app, service)  # the residents' online requests (issuer.requests)
    from wallet_api import login  # loaded here, not at import (they need the issuer back end)
    from wallet_api.authorization import routes as authorization_routes

    login.install(app, service, login_verifier, public_url=settings.public_url)  # ... and their login
    app.register_blueprint(authorization_routes.bp)  # renewals: PAR, /authorize (answer 404 without a login)
    verify_page.register(app, lambda: service.keyring.root.public_key)
    issuer_login = None if login_verifier is None else issuer_login_anchor(
        login_verifier.client_id, login_verifier.certificates[0], service.keyring.root_certificate)
    wallet_page.register(app, lambda: service.keyring.root.public_key, verifier_ca_file=settings.verifier_ca_file,
                         issuer_login=issuer_login)
    # Ready through a store outage while the trust list it would serve is kept (wallet_api.public).
    install_operations(app, service, api="wallet", last_copies=lambda: copies.recall("trustlist.jwt") is not None,
                       extra_checks={"login": login.readiness_check(login_verifier, service.clock)})
    register_error_handlers(app)
    install_security_headers(app)
    app.after_request(access.send_dpop_nonce)
    install_request_logging(app, "wallet")
    return app
