"""Wallet side: the answer to a proved request (verifier.openid4vp.authorization), as a direct_post body.

``matching_query`` finds the query a held SD-JWT VC answers (its ``vct`` among the query's vct_values);
``vp_token_form`` discloses exactly the requested claims (credential.sdjwt.present, nothing else) with a
KB-JWT whose ``aud`` is the client_id, prefix included, and ``nonce`` the request's (OpenID4VP 1.0 §B.3.6),
and returns the form fields (``vp_token`` = {query id: [presentation]}, ``state``); ``declined_form`` is
the answer when the resident refuses (``error=access_denied``, §8.5).
"""

from __future__ import annotations

from collections.abc import Sequence

from credential.encoding import json_dumps
from credential.jose import Signer, parse_compact
from credential.sdjwt import MAX_SD_JWT, present, split_sd_jwt
from verifier.openid4vp.authorization import AuthorizationRequest
from verifier.openid4vp.dcql import CredentialQuery
from verifier.openid4vp.errors import NoMatchingCredentialError


def credential_vct(sd_jwt_vc: str) -> str | None:
    """The ``vct`` a held SD-JWT VC states (the wallet verified the credential at pickup)."""
    jwt, _, _ = split_sd_jwt(sd_jwt_vc)
    vct = parse_compact(jwt, max_size=MAX_SD_JWT).payload.get("vct")
    return vct if isinstance(vct, str) else None


def matching_query(request: AuthorizationRequest, sd_jwt_vcs: Sequence[str]) -> tuple[CredentialQuery, str]:
    """The request's single query and the first held credential that answers it."""
    if len(request.queries) != 1:
        raise NoMatchingCredentialError("this wallet answers requests for one credential")
    [query] = request.queries
    for held in sd_jwt_vcs:
        if credential_vct(held) in query.vct_values:
            return query, held
    raise NoMatchingCredentialError("no credential in this wallet is of a type the verifier asks for")


def vp_token_form(request: AuthorizationRequest, query: CredentialQuery, sd_jwt_vc: str, *,
                  holder_signer: Signer, now: int) -> dict[str, str]:
    presentation = present(sd_jwt_vc, disclose=query.claims, holder_signer=holder_signer,
                           aud=request.client_id, nonce=request.nonce, now=now)
    return {"vp_token": json_dumps({query.id: [presentation]}).decode("utf-8"), "state": request.state}


def declined_form(request: AuthorizationRequest) -> dict[str, str]:
    return {"error": "access_denied", "error_description": "the holder declined", "state": request.state}


__all__ = ["credential_vct", "declined_form", "matching_query", "vp_token_form"]
