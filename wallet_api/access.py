"""Who may call the token endpoint with DPoP, and what authorizes a resource request (RFC 6750, RFC 9449 §7).

A token bought with a DPoP proof at /token is bound to that proof's key (its ``jkt`` kept with the grant) and
is only accepted as ``Authorization: DPoP <token>`` with a fresh proof by the same key, over this method and
URL, carrying the token's hash (`ath`). A bound token presented as Bearer is refused (a downgrade), and so is
an unbound one presented as DPoP. With ``dpop_required`` no token is issued or accepted without DPoP.

Checks run before anything is consumed: a proof's ``jti`` is spent only once the proof, the token and the
binding all passed, so a refused request leaves no trace but a rate-limit step.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from flask import Response, g, request

from issuer.errors import InvalidTokenError
from issuer.pickup import AccessGrant
from wallet_api.context import WalletContext
from wallet_api.dpop import DpopPolicy, DpopProof, verify_dpop_proof
from wallet_api.dpop_state import current_nonce, nonce_accepted, spend_jti
from wallet_api.errors import DpopError, ProtocolError

MAX_ACCESS_TOKEN_LENGTH = 512
_NONCE_TO_SEND = "epermit_dpop_nonce"  # flask.g: the DPoP-Nonce a successful response hands back


@dataclass(frozen=True)
class Authorized:
    """A resource request's live access token and what it grants."""

    token: str
    grant: AccessGrant


def _policy(context: WalletContext) -> DpopPolicy:
    return DpopPolicy(iat_window=context.settings.dpop_iat_window, max_size=context.settings.max_proof_bytes)


def _proof_header(resource: bool) -> str | None:
    values = request.headers.getlist("DPoP")
    if not values:
        return None
    if len(values) > 1:  # RFC 9449 §4.3 step 1
        raise DpopError("invalid_dpop_proof", "send exactly one DPoP header", resource=resource)
    return values[0]


def _checked_proof(context: WalletContext, value: str, path: str, *, token: str | None) -> DpopProof:
    """The proof for a POST to our ``path``, checked in full except for its jti (spent by the caller)."""
    return verify_dpop_proof(value, _policy(context), method="POST", url=f"{context.settings.public_url}{path}",
                             now=context.clock(), access_token=token, resource=token is not None)


def _check_nonce(context: WalletContext, proof: DpopProof, *, resource: bool) -> None:
    if not context.settings.dpop_nonce_required:
        return
    store, keyed, now = context.service.store, context.service.keyed, context.clock()
    if proof.nonce is None or not nonce_accepted(store, keyed, proof.nonce, now=now):
        fresh = current_nonce(store, keyed, ttl=context.settings.dpop_nonce_ttl, now=now)
        # RFC 9449 §8 (token endpoint: 400) and §9 (resource: 401 with the DPoP challenge).
        raise DpopError("use_dpop_nonce", "a DPoP proof with the nonce in the DPoP-Nonce header is required",
                        resource=resource, nonce=fresh)
    g.setdefault(_NONCE_TO_SEND, current_nonce(store, keyed, ttl=context.settings.dpop_nonce_ttl,
                                                          now=now))


def _spend(context: WalletContext, proof: DpopProof, *, resource: bool) -> None:
    service = context.service
    if not spend_jti(service.store, service.keyed, proof.jti, iat_window=context.settings.dpop_iat_window,
                                now=context.clock()):
        raise DpopError("invalid_dpop_proof", "this DPoP proof (its jti) was already used", resource=resource)


def token_request_binding(context: WalletContext) -> str | None:
    """At /token: the ``jkt`` to bind the new access token to, or None for a bearer token (DPoP not required)."""
    value = _proof_header(resource=False)
    if value is None:
        if context.settings.dpop_required:
            raise DpopError("invalid_dpop_proof", "a DPoP proof is required", resource=False)
        return None
    proof = _checked_proof(context, value, "/token", token=None)
    _check_nonce(context, proof, resource=False)
    _spend(context, proof, resource=False)
    return proof.jkt


def _authorization() -> tuple[str, str]:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if not token or len(token) > MAX_ACCESS_TOKEN_LENGTH or " " in token:
        return "", ""
    return scheme.lower(), token


def authorize(context: WalletContext, path: str) -> Authorized:
    """The access token of a POST to our ``path``: Bearer (RFC 6750 §2.1; the Authorization header only, never a
    query or form parameter) when unbound and DPoP is not required, else DPoP with a valid proof."""
    scheme, token = _authorization()
    if scheme == "bearer" and not context.settings.dpop_required:
        grant = context.service.access_grant(token)  # InvalidTokenError (401 with the Bearer challenge)
        if grant.jkt is not None:
            raise DpopError("invalid_token", "this access token is DPoP-bound: send it as DPoP with a proof",
                            resource=True)
        return Authorized(token, grant)
    if scheme != "dpop":
        if context.settings.dpop_required:
            raise DpopError("invalid_token", "a DPoP-bound access token is required", resource=True)
        raise ProtocolError("invalid_token", "a Bearer or DPoP access token is required", http_status=401)
    try:
        grant = context.service.access_grant(token)
    except InvalidTokenError as exc:
        raise DpopError("invalid_token", "invalid or expired access token", resource=True) from exc
    if grant.jkt is None:
        raise DpopError("invalid_token", "this access token is not DPoP-bound: send it as Bearer", resource=True)
    value = _proof_header(resource=True)
    if value is None:
        raise DpopError("invalid_dpop_proof", "a DPoP-bound access token needs a DPoP proof", resource=True)
    proof = _checked_proof(context, value, path, token=token)
    if not hmac.compare_digest(proof.jkt, grant.jkt):  # RFC 9449 §4.3 step 12
        raise DpopError("invalid_token", "the access token is bound to another key", resource=True)
    _check_nonce(context, proof, resource=True)
    _spend(context, proof, resource=True)
    return Authorized(token, grant)


def resident_proof(context: WalletContext, method: str, path: str, *, token: str | None) -> DpopProof:
    """The one DPoP proof of a resident-session request (wallet_api.login), checked in full and its jti
    spent: over ``method`` and our ``path``, with the session token's ``ath`` when ``token`` is given."""
    value = _proof_header(resource=token is not None)
    if value is None:
        raise DpopError("invalid_dpop_proof", "a DPoP proof by the device key is required", resource=token is not None)
    proof = verify_dpop_proof(value, _policy(context), method=method, url=f"{context.settings.public_url}{path}",
                              now=context.clock(), access_token=token, resource=token is not None)
    _check_nonce(context, proof, resource=token is not None)
    return proof


def spend_proof(context: WalletContext, proof: DpopProof, *, resource: bool) -> None:
    """Spend the proof's jti once every other check passed (a refused request leaves no trace)."""
    _spend(context, proof, resource=resource)


def send_dpop_nonce(response: Response) -> Response:
    """After a request whose DPoP proof carried an accepted nonce: hand back the current one (RFC 9449 §8.2)."""
    nonce = g.get(_NONCE_TO_SEND)
    if nonce is not None and "DPoP-Nonce" not in response.headers:
        response.headers["DPoP-Nonce"] = nonce
    return response
