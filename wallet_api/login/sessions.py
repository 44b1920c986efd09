"""Resident sessions: what a verified OpenID4VP login opens, bound to the presenting device key (RFC 9449).

    after the direct_post: a ``response_code`` (random, single use, LOGIN_TTL) stands for the login
    POST /resident/session {response_code} + DPoP proof by the presented credential's holder key
        -> a session access token (token_type DPoP, SESSION_TTL), kept only as a keyed hash
    every /resident/ call: Authorization: DPoP <token> + a fresh proof by that same key (ath, htm, htu)

The session is bound to the key the KB-JWT was signed with (``jkt`` = its RFC 7638 thumbprint), so the
response code is worth nothing to anyone who does not hold the device key, and a stolen session token
even less. Each use reads the credential's status from the store again (current_identity): a session
ends the moment its credential is suspended or revoked.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from credential.encoding import json_dumps, json_loads
from credential.jwk import load_public_jwk, public_jwk
from issuer.requests.authn import ResidentIdentity, current_identity
from issuer.service import IssuerService
from wallet_api.dpop import jwk_thumbprint
from wallet_api.errors import DpopError

PENDING = "resident_login_code"
SESSION = "resident_session"
SESSION_TTL = 900  # seconds: a sitting, not a day
MAX_SESSION_VALUE = 4096


class SessionRefusedError(DpopError):
    """``error``: an RFC 6749/6750/9449 code (invalid_request, invalid_grant, invalid_token,
    invalid_dpop_proof); 401 with the DPoP challenge for the session token itself, else 400."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(error, description, resource=error == "invalid_token")


@dataclass(frozen=True)
class Session:
    token: str
    expires_in: int
    jkt: str


def identity_value(identity: ResidentIdentity) -> str:
    """What is kept of a logged-in resident: whose credential (its status entry) and its device key."""
    return json_dumps({"citizen_id": identity.record.permit.holder.citizen_id, "list": identity.status[0],
                       "idx": identity.status[1], "jwk": public_jwk(identity.holder_key)}).decode()


class ResidentSessions:
    def __init__(self, service: IssuerService, *, code_ttl: int) -> None:
        self.service = service
        self.code_ttl = code_ttl

    def _digest(self, kind: str, value: str) -> str:
        return self.service.keyed.digest(kind, value)

    def logged_in(self, identity: ResidentIdentity, *, now: int) -> str:
        """A response code for a verified login (the wallet trades it for a session, with its device key)."""
        code = secrets.token_urlsafe(24)
        self.service.store.put_ephemeral(PENDING, self._digest(PENDING, code), identity_value(identity), self.code_ttl, now)
        return code

    def open(self, response_code: str, jkt: str, *, now: int) -> Session:
        """Trade a response code for a session; the DPoP proof's key (``jkt``) must be the credential's."""
        if not response_code or len(response_code) > 128:
            raise SessionRefusedError("invalid_request", "response_code is required")
        key = self._digest(PENDING, response_code)
        held = self.service.store.get_ephemeral(PENDING, key, now)
        if held is None:
            raise SessionRefusedError("invalid_grant", "the response code is unknown, used or expired: log in again")
        data = json_loads(held.encode(), max_size=MAX_SESSION_VALUE)
        if not hmac.compare_digest(jwk_thumbprint(load_public_jwk(data["jwk"])), jkt):
            # Not consumed: the rightful wallet may still trade it (nothing changes for a wrong key).
            raise SessionRefusedError("invalid_dpop_proof", "the DPoP key is not the presented credential's key")
        if self.service.store.take_ephemeral(PENDING, key, now) is None:  # a concurrent trade won
            raise SessionRefusedError("invalid_grant", "the response code is unknown, used or expired: log in again")
        self.identity_of(held, now=now)  # still current
        token = secrets.token_urlsafe(32)
        self.service.store.put_ephemeral(SESSION, self._digest(SESSION, token), held, SESSION_TTL, now)
        return Session(token, SESSION_TTL, jkt)

    def bound_key(self, token: str, *, now: int) -> tuple[str, str]:
        """(jkt, the kept value) of a live session token; SessionRefusedError("invalid_token") otherwise."""
        held = self.service.store.get_ephemeral(SESSION, self._digest(SESSION, token), now) if token else None
        if held is None:
            raise SessionRefusedError("invalid_token", "the session is unknown or expired: log in again")
        data = json_loads(held.encode(), max_size=MAX_SESSION_VALUE)
        return jwk_thumbprint(load_public_jwk(data["jwk"])), held

    def identity_of(self, held: str, *, now: int) -> ResidentIdentity:
        data = json_loads(held.encode(), max_size=MAX_SESSION_VALUE)
        uri = self.service.settings.status_list_uri(int(data["list"]))
        return current_identity(self.service, str(data["citizen_id"]), uri, int(data["idx"]),
                                load_public_jwk(data["jwk"]), now)
