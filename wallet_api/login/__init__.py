"""The resident's login by an OpenID4VP 1.0 presentation of the credential they hold (issue 16 item 1).

The wallet API is its own verifier here (x509_san_dns: ``identity`` names the wallet API's host): the wallet
asks for a login, answers the signed request with its SD-JWT VC and a KB-JWT (the same code as towards an
employer, epermit.wallet.presenting), and trades the response code for a session bound to its device key
(DPoP, RFC 9449). Both wallets log in: the command-line one (epermit.wallet.login) and the PWA
(web/wallet/src/login.js). The /resident/ endpoints accept that session (``session_identity``) and, for a
service without a verifier identity (no login to offer), a presentation per request.

- transactions: the open OpenID4VP requests in the Store (both back ends);
- verifying: the request and the verdict (verifier.openid4vp + the store's status);
- sessions: response codes and DPoP-bound sessions, kept as keyed hashes;
- routes: the blueprint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wallet_api.access import resident_proof, spend_proof
from wallet_api.context import wallet_context
from wallet_api.login.sessions import SessionRefusedError
from wallet_api.login.verifying import LOGIN_TTL

if TYPE_CHECKING:
    from issuer.requests.authn import ResidentIdentity
    from issuer.service import IssuerService
    from verifier.openid4vp import VerifierIdentity

__all__ = ["LoginCertificateExpiredError", "install", "readiness_check", "session_identity"]


class LoginCertificateExpiredError(SessionRefusedError):
    """/readyz: the login's certificate is outside its validity, so every wallet would refuse the login."""

    def __init__(self) -> None:
        super().__init__("temporarily_unavailable", "the login certificate is not valid now")


def readiness_check(identity: VerifierIdentity | None, clock: Callable[[], int]) -> Callable[[], str]:
    """/readyz's ``login``: "ok" when the login is set up and its certificate valid now, "ok: off" without a
    login (residents present per request), LoginCertificateExpiredError (failing) past the certificate."""
    def check() -> str:
        if identity is None:
            return "ok: off"
        leaf, now = identity.certificates[0], clock()
        if not leaf.not_valid_before_utc.timestamp() <= now <= leaf.not_valid_after_utc.timestamp():
            raise LoginCertificateExpiredError()
        return "ok"
    return check


def install(app: Any, service: IssuerService, identity: VerifierIdentity | None, *, public_url: str) -> None:
    from wallet_api.login import routes
    from wallet_api.login.sessions import ResidentSessions
    from wallet_api.login.transactions import StoreTransactions
    from wallet_api.login.verifying import LoginVerifier

    if identity is not None:
        app.extensions[routes.VERIFIER] = LoginVerifier(service, identity, public_url=public_url,
                                                        transactions=StoreTransactions(service.store, service.keyed))
    app.extensions[routes.SESSIONS] = ResidentSessions(service, code_ttl=LOGIN_TTL)
    app.register_blueprint(routes.bp)


def session_identity(token: str, method: str, path: str) -> ResidentIdentity:
    """The resident of a DPoP-bound session token: a fresh proof by the session's key over ``method`` and
    ``path``, and the credential still current in the store."""
    from wallet_api.login.routes import sessions

    context = wallet_context()
    found = sessions()
    jkt, held = found.bound_key(token, now=context.clock())
    proof = resident_proof(context, method, path, token=token)
    if proof.jkt != jkt:
        raise SessionRefusedError("invalid_token", "the session is bound to another key")
    identity = found.identity_of(held, now=context.clock())
    spend_proof(context, proof, resource=True)
    return identity
