"""The authorization code (RFC 6749 §4.1, RFC 7636, RFC 9207) of a renewal, and what it buys at /token.

    /authorize   a pushed request -> an OpenID4VP login request whose state is linked to it (LINKED)
    direct_post  verified -> the resident's renewable request is found -> a code (CODE_TTL, keyed hash)
                 -> the wallet is sent to redirect_uri?code&state&iss
    /token       grant_type=authorization_code: code, redirect_uri, client_id, code_verifier (S256 of it
                 must be the pushed code_challenge) and a DPoP proof by the pushed key; the code is spent
                 only when all of that holds. Then the approved request's delivery (issuer.requests) is
                 made and redeemed at once — the same offer, grant and notification path as a first pickup
                 — and the access token is marked as a renewal: the credential endpoint issues only to the
                 device key of the presented credential (RENEWAL_KEY).

What a renewal may be: an approved endorse or address request for the presented credential's record
(approved by the rules at once, or by an officer). Anything else is ``access_denied``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import urllib.parse
from dataclasses import dataclass

from credential.encoding import b64url_encode, json_dumps, json_loads
from issuer.model import Offer
from issuer.requests.authn import ResidentIdentity
from issuer.requests.model import RequestKind, RequestState, ResidentRequest
from wallet_api.authorization.pushed import PushedRequest
from wallet_api.context import WalletContext, resident_requests
from wallet_api.dpop import jwk_thumbprint
from wallet_api.errors import ProtocolError
from wallet_api.login.sessions import ResidentSessions

LINKED = "authz_login"  # ephemeral: OpenID4VP state digest -> the pushed request
CODE = "authz_code"  # ephemeral: code digest -> {pushed, holder}
RENEWAL_KEY = "authz_renewal_key"  # ephemeral: access token key -> the thumbprint new credentials must bind
CODE_TTL = 60
RENEWABLE = (RequestKind.ENDORSE, RequestKind.ADDRESS)
_VERIFIER_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


@dataclass(frozen=True)
class Renewal:
    access_token: str
    configuration_ids: tuple[str, ...]
    details: bool


def link_login(context: WalletContext, state: str, pushed: PushedRequest, ttl: int) -> None:
    service = context.service
    service.store.put_ephemeral(LINKED, service.keyed.digest(LINKED, state), pushed.to_json(), ttl, context.clock())


def linked(context: WalletContext, state: str) -> PushedRequest | None:
    """The pushed request a login answers, consumed (None: a plain login for a resident session)."""
    service = context.service
    held = service.store.take_ephemeral(LINKED, service.keyed.digest(LINKED, state), context.clock())
    return None if held is None else PushedRequest.from_json(held)


def renewable(context: WalletContext, who: ResidentIdentity) -> ResidentRequest | None:
    """The resident's approved endorse or address request for the presented credential's record."""
    for found in resident_requests().mine(who):
        if found.kind in RENEWABLE and found.state is RequestState.APPROVED and found.record_id == who.record.id:
            return found
    return None


def issue_code(context: WalletContext, pushed: PushedRequest, held_identity: str) -> str:
    code = secrets.token_urlsafe(32)
    service = context.service
    value = json_dumps({"pushed": pushed.to_json(), "holder": held_identity}).decode()
    service.store.put_ephemeral(CODE, service.keyed.digest(CODE, code), value, CODE_TTL, context.clock())
    return code


def _s256(verifier: str) -> str:
    return b64url_encode(hashlib.sha256(verifier.encode("ascii")).digest())


def redeem_code(context: WalletContext, *, code: str, redirect_uri: str | None, client_id: str | None,
                code_verifier: str | None, jkt: str, identity_of: ResidentSessions) -> Renewal:
    """Check everything, then spend the code and deliver the renewal (module docstring)."""
    service, now = context.service, context.clock()
    key = service.keyed.digest(CODE, code)
    held = service.store.get_ephemeral(CODE, key, now) if 0 < len(code) <= 128 else None
    if held is None:
        raise ProtocolError("invalid_grant", "the authorization code is unknown, used or expired")
    data = json_loads(held, max_size=32 * 1024)
    pushed = PushedRequest.from_json(data["pushed"])
    if client_id != pushed.client_id:
        raise ProtocolError("invalid_grant", "the code was issued to another client_id")
    if redirect_uri != pushed.redirect_uri:  # RFC 6749 §4.1.3: the same redirect_uri as in the request
        raise ProtocolError("invalid_grant", "redirect_uri is not the one of the authorization request")
    if not code_verifier or not 43 <= len(code_verifier) <= 128 or not set(code_verifier) <= _VERIFIER_CHARACTERS:
        raise ProtocolError("invalid_request", "code_verifier must be 43 to 128 unreserved characters (RFC 7636)")
    if not hmac.compare_digest(_s256(code_verifier), pushed.code_challenge):
        raise ProtocolError("invalid_grant", "the code_verifier does not match the code_challenge")
    if not hmac.compare_digest(jkt, pushed.jkt):
        raise ProtocolError("invalid_dpop_proof", "the DPoP proof's key is not the one the code is bound to")
    who = identity_of.identity_of(data["holder"], now=now)  # still current: revoked since? no renewal
    found = renewable(context, who)
    if found is None:
        raise ProtocolError("invalid_grant", "no approved renewal for this credential")
    if service.store.take_ephemeral(CODE, key, now) is None:  # a concurrent redemption won
        raise ProtocolError("invalid_grant", "the authorization code is unknown, used or expired")
    offers = resident_requests().deliver(found)
    offer = _offer_for(offers, found.new_record_id or found.record_id, pushed.configuration_ids)
    token = service.redeem(offer.pre_authorized_code, offer.tx_code, dpop_jkt=jkt)
    service.store.put_ephemeral(RENEWAL_KEY, service.keyed.digest(RENEWAL_KEY, token),
                                jwk_thumbprint(who.holder_key), service.settings.access_token_ttl, now)
    return Renewal(token, pushed.configuration_ids, pushed.details)


def _offer_for(offers: list[Offer], record_id: str, asked: tuple[str, ...]) -> Offer:
    for offer in offers:
        if offer.record_id == record_id and set(asked) <= set(offer.configuration_ids):
            return offer
    raise ProtocolError("invalid_grant", "the renewal does not cover the credential configurations asked for")


def renewal_slot(context: WalletContext, access_token: str) -> tuple[str, str]:
    """Where the store keeps the thumbprint a renewal's token binds (kind, key): read with the delivery's record."""
    return RENEWAL_KEY, context.service.keyed.digest(RENEWAL_KEY, access_token)


def renewal_key(context: WalletContext, access_token: str) -> str | None:
    """The thumbprint every key proof must have for this token (a renewal), or None (a first pickup)."""
    service = context.service
    return service.store.get_ephemeral(RENEWAL_KEY, service.keyed.digest(RENEWAL_KEY, access_token), context.clock())


def finish_authorization(context: WalletContext, found: PushedRequest, held_identity: str | None) -> str:
    """Where the wallet goes after the login linked to ``found``: its redirect_uri with the code (or
    access_denied), the state and our issuer identifier (RFC 9207 §2)."""
    answer = {"state": found.state, "iss": context.settings.public_url} if found.state else \
        {"iss": context.settings.public_url}
    if held_identity is None:
        answer = {"error": "access_denied", "error_description": "nothing to renew: no approved endorsement or "
                  "address change for this credential", **answer}
    else:
        answer = {"code": issue_code(context, found, held_identity), **answer}
    separator = "&" if urllib.parse.urlsplit(found.redirect_uri).query else "?"
    return found.redirect_uri + separator + urllib.parse.urlencode(answer)
