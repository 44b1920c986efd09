"""Pushed authorization requests (RFC 9126) for the authorization code flow (OpenID4VCI 1.0 §5), checked and kept.

The one way into /authorize (``require_pushed_authorization_requests``): the wallet POSTs its request here,
form-encoded, and gets a ``request_uri`` (``urn:ietf:params:oauth:request_uri:<random>``, PAR_TTL seconds,
single use). What is checked before anything is kept (RFC 6749 §4.1.1, RFC 7636, RFC 9449 §10):
- ``response_type`` = code; ``client_id`` (a public client: no registration, no client authentication —
  the resident's presentation, PKCE and DPoP are what the flow rests on); ``redirect_uri`` an absolute
  https URL (or a private-use scheme, RFC 8252 §7.1) without a fragment;
- ``code_challenge`` with ``code_challenge_method`` = S256 only (plain is refused: RFC 7636 §4.2, HAIP);
- what is asked: ``authorization_details`` (RFC 9396) of type ``openid_credential`` with a
  ``credential_configuration_id`` of ours, or ``scope`` naming our configurations' scopes;
- the DPoP key: a DPoP proof on this request (RFC 9449 §10.1) or ``dpop_jkt``, the same when both are given;
  the code is later only redeemed by a proof of that key.
``state`` is RECOMMENDED, not required (RFC 6749 §4.1.1): our wallet always sends one; PKCE and ``iss``
protect a client that does not.
Each parameter at most once; a refusal keeps nothing.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
from dataclasses import asdict, dataclass
from typing import Any

from credential.encoding import json_dumps, json_loads
from credential.errors import CredentialError
from wallet_api.context import WalletContext
from wallet_api.errors import ProtocolError

PUSHED = "par_request"  # ephemeral kind: request_uri digest -> the pushed request (JSON)
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
PAR_TTL = 90  # seconds: from the push to the wallet's call of /authorize (RFC 9126 §2.2 suggests 5 to 600)
CREDENTIAL_DETAIL = "openid_credential"
MAX_PARAMETER = 2048
MAX_DETAILS = 4096
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url SHA-256, no padding (RFC 7636 §4.2)
_JKT = re.compile(r"[A-Za-z0-9_-]{43}")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+")  # a private-use scheme: reverse domain name (RFC 8252)


@dataclass(frozen=True)
class PushedRequest:
    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str
    configuration_ids: tuple[str, ...]
    jkt: str
    details: bool  # asked by authorization_details (the token answers with credential_identifiers)

    def to_json(self) -> str:
        return json_dumps(asdict(self)).decode()

    @classmethod
    def from_json(cls, text: str) -> PushedRequest:
        data: Any = json_loads(text, max_size=16 * 1024)
        return cls(**{**data, "configuration_ids": tuple(data["configuration_ids"])})


def _one(fields: dict[str, list[str]], name: str, *, required: bool = True) -> str | None:
    values = fields.get(name, [])
    if len(values) > 1:
        raise ProtocolError("invalid_request", f"parameter {name} is repeated")
    if not values or not values[0]:
        if required:
            raise ProtocolError("invalid_request", f"{name} is required")
        return None
    if len(values[0]) > (MAX_DETAILS if name == "authorization_details" else MAX_PARAMETER):
        raise ProtocolError("invalid_request", f"parameter {name} is too long")
    return values[0]


def _redirect_uri(value: str) -> str:
    parts = urllib.parse.urlsplit(value)
    if parts.fragment or "#" in value:
        raise ProtocolError("invalid_request", "redirect_uri must not have a fragment")
    if parts.scheme == "https" and parts.hostname:
        return value
    if _SCHEME.fullmatch(parts.scheme or ""):
        return value
    raise ProtocolError("invalid_request", "redirect_uri must be an https URL or a private-use URI scheme")


def _asked(fields: dict[str, list[str]], scopes: dict[str, str]) -> tuple[tuple[str, ...], bool]:
    details, scope = _one(fields, "authorization_details", required=False), _one(fields, "scope", required=False)
    if details is None and scope is None:
        raise ProtocolError("invalid_request", "ask for a credential by authorization_details or scope")
    asked: list[str] = []
    if details is not None:
        try:
            parsed: Any = json_loads(details, max_size=MAX_DETAILS)
        except CredentialError as exc:
            raise ProtocolError("invalid_authorization_details", "authorization_details is not JSON") from exc
        if not isinstance(parsed, list) or not parsed:
            raise ProtocolError("invalid_authorization_details", "authorization_details must be a non-empty array")
        for entry in parsed:
            if not isinstance(entry, dict) or entry.get("type") != CREDENTIAL_DETAIL:
                raise ProtocolError("invalid_authorization_details", f"each entry must be of type {CREDENTIAL_DETAIL}")
            configuration_id = entry.get("credential_configuration_id")
            if configuration_id not in scopes.values():
                raise ProtocolError("invalid_authorization_details", "unknown credential_configuration_id")
            asked.append(str(configuration_id))
    for name in (scope or "").split():
        if name not in scopes:
            raise ProtocolError("invalid_scope", f"unknown scope {name[:64]!r}")
        asked.append(scopes[name])
    return tuple(dict.fromkeys(asked)), details is not None


def push(context: WalletContext, fields: dict[str, list[str]], *, proof_jkt: str | None,
         scopes: dict[str, str]) -> tuple[str, int]:
    """Check and keep one pushed request: its request_uri and lifetime (RFC 9126 §2.2)."""
    if "request_uri" in fields or "request" in fields:  # RFC 9126 §2.1: no request_uri in a pushed request
        raise ProtocolError("invalid_request", "a pushed request carries its parameters, not request or request_uri")
    if _one(fields, "response_type") != "code":
        raise ProtocolError("unsupported_response_type", "only response_type=code is supported")
    client_id = _one(fields, "client_id") or ""
    redirect_uri = _redirect_uri(_one(fields, "redirect_uri") or "")
    state = _one(fields, "state", required=False) or ""  # RECOMMENDED (RFC 6749 §4.1.1); echoed when given
    challenge = _one(fields, "code_challenge") or ""
    method = _one(fields, "code_challenge_method", required=False)
    if method != "S256":  # RFC 7636 §4.3: absent means plain, which is refused
        raise ProtocolError("invalid_request", "code_challenge_method must be S256 (plain PKCE is not accepted)")
    if not _CHALLENGE.fullmatch(challenge):
        raise ProtocolError("invalid_request", "code_challenge must be base64url of a SHA-256 hash")
    dpop_jkt = _one(fields, "dpop_jkt", required=False)
    if dpop_jkt is not None and not _JKT.fullmatch(dpop_jkt):
        raise ProtocolError("invalid_request", "dpop_jkt must be a base64url SHA-256 JWK thumbprint")
    if dpop_jkt is not None and proof_jkt is not None and dpop_jkt != proof_jkt:
        raise ProtocolError("invalid_dpop_proof", "dpop_jkt and the DPoP proof's key differ")  # RFC 9449 §10.1
    jkt = proof_jkt or dpop_jkt
    if jkt is None:
        raise ProtocolError("invalid_request", "bind the code to a DPoP key: a DPoP proof or dpop_jkt")
    configuration_ids, details = _asked(fields, scopes)
    pushed = PushedRequest(client_id, redirect_uri, state, challenge, configuration_ids, jkt, details)
    handle = secrets.token_urlsafe(32)
    service = context.service
    service.store.put_ephemeral(PUSHED, service.keyed.digest(PUSHED, handle), pushed.to_json(), PAR_TTL,
                                context.clock())
    return REQUEST_URI_PREFIX + handle, PAR_TTL


def take(context: WalletContext, request_uri: str, client_id: str) -> PushedRequest:
    """The pushed request of ``request_uri``, consumed (single use, RFC 9126 §4); its client_id must match."""
    if not request_uri.startswith(REQUEST_URI_PREFIX) or len(request_uri) > MAX_PARAMETER:
        raise ProtocolError("invalid_request_uri", "request_uri must be one this server's PAR endpoint gave out")
    service = context.service
    key = service.keyed.digest(PUSHED, request_uri[len(REQUEST_URI_PREFIX):])
    held = service.store.get_ephemeral(PUSHED, key, context.clock())
    if held is None:
        raise ProtocolError("invalid_request_uri", "the request_uri is unknown, used or expired: push the request again")
    pushed = PushedRequest.from_json(held)
    if pushed.client_id != client_id:
        raise ProtocolError("invalid_request", "client_id is not the one of the pushed request")
    if service.store.take_ephemeral(PUSHED, key, context.clock()) is None:
        raise ProtocolError("invalid_request_uri", "the request_uri is unknown, used or expired: push the request again")
    return pushed
