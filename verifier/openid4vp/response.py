"""Verifier side: the ``direct_post`` authorization response (OpenID4VP 1.0 §8.2) verified end to end.

    outcome = verify_response(body, store=store, cache=cache, now=now, refresh=lambda: sync(url, cache, now=now))

1. The body (application/x-www-form-urlencoded, as received) is capped at MAX_BODY before it is parsed;
   each parameter at most once; ``state`` names the transaction, which is consumed at once (single use:
   a second response for it is UnknownTransactionError("used"), whatever it holds).
2. ``error`` instead of ``vp_token`` (the resident refused: ``access_denied``) is WalletDeclinedError.
3. ``vp_token`` is the JSON object DCQL keys by credential query id (§8.1): exactly the query ids of the
   request, each an array of one presentation (``multiple`` is false).
4. Each presentation is judged by ``verifier.verify`` — the same code as `epermit verify`, over the
   verifier cache's trust list and status lists — with key binding required, the KB-JWT's ``aud`` the
   transaction's client_id (prefix included) and ``nonce`` the transaction's nonce, ``sd_hash`` over what
   was presented, and the KB-JWT no older than the policy's kb_max_age. ``refresh`` (e.g. a sync of the
   issuer's trust and status lists) is called first; if it fails, the policy's status_max_age (ONLINE_POLICY:
   ten minutes) decides whether the cache is still fresh enough, else STATUS_UNKNOWN. Any verdict but VALID
   is PresentationRejectedError with that result.
5. The credential must be of a type the query asked for (its ``vct`` among ``vct_values``), and every
   requested claim must have been disclosed (MissingClaimsError otherwise). Only the requested claims are
   returned, with the credential's type and validity (always visible in it).
"""

from __future__ import annotations

import dataclasses
import datetime
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credential.disclosures import decode_disclosure
from credential.encoding import json_loads
from credential.errors import CredentialError
from credential.jose import parse_compact
from credential.passclaims import CHINA_STANDARD_TIME
from credential.qrpass import QR_PREFIX
from credential.sdjwt import MAX_SD_JWT, split_sd_jwt
from verifier.cache import VerifierCache
from verifier.errors import VerifierError
from verifier.openid4vp.dcql import CredentialQuery, parse_dcql
from verifier.openid4vp.errors import (
    MalformedResponseError,
    MissingClaimsError,
    OpenId4VpError,
    PresentationRejectedError,
    UnknownTransactionError,
    WalletDeclinedError,
)
from verifier.openid4vp.transactions import Transaction, TransactionStore
from verifier.policy import Policy
from verifier.result import Result, VerificationResult
from verifier.verify import verify

MAX_BODY = 128 * 1024  # a few SD-JWT+KB presentations are a few kB each
MAX_PARAMETERS = 8
MAX_ERROR_TEXT = 300
# Online: the status is synced just before (refresh), so data older than ten minutes means the sync failed.
ONLINE_POLICY = Policy(require_live=True, status_warn_age=300, status_max_age=600, kb_max_age=300)
# The verifier's claim names that differ from the SD-JWT VC's (verifier.verify names them as Permit.to_dict).
_RESULT_NAMES = {"birthdate": "birth_date"}


@dataclass(frozen=True)
class VerifiedPresentation:
    query_id: str
    credential_type: str  # "residence_permit" | "residence_registration"
    vct: str
    claims: dict[str, Any]  # the requested claims only (Permit.to_dict names), as the verifier read them
    valid_from: str  # ISO dates, Beijing
    valid_until: str
    verification: VerificationResult  # the full verdict (VALID), with the age of the status data used


@dataclass(frozen=True)
class VerifiedResponse:
    transaction: Transaction
    presentations: dict[str, VerifiedPresentation]  # by credential query id


def _parameters(body: bytes) -> dict[str, str]:
    if not isinstance(body, bytes):
        raise MalformedResponseError("the body must be bytes as received")
    if len(body) > MAX_BODY:
        raise MalformedResponseError(f"larger than {MAX_BODY} bytes")
    try:
        pairs = urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True,
                                       max_num_fields=MAX_PARAMETERS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedResponseError("not an application/x-www-form-urlencoded body") from exc
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in found:
            raise MalformedResponseError(f"{name} is repeated", parameter=name)
        found[name] = value
    return found


def _vp_token(text: str | None, queries: tuple[CredentialQuery, ...]) -> dict[str, str]:
    if text is None:
        raise MalformedResponseError("neither vp_token nor error", parameter="vp_token")
    try:
        token = json_loads(text, max_size=MAX_BODY)
    except CredentialError as exc:
        raise MalformedResponseError(f"vp_token is not JSON ({exc})", parameter="vp_token") from exc
    if not isinstance(token, dict):
        raise MalformedResponseError("vp_token must be a JSON object keyed by credential query id",
                                     parameter="vp_token")
    wanted = {q.id for q in queries}
    if set(token) != wanted:
        raise MalformedResponseError(f"vp_token must answer exactly the queries {sorted(wanted)}",
                                     parameter="vp_token")
    presentations: dict[str, str] = {}
    for query_id, value in token.items():
        if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], str):
            raise MalformedResponseError(f"vp_token[{query_id}] must be an array of one presentation",
                                         parameter="vp_token")
        presentations[query_id] = value[0]
    return presentations


def _day(timestamp: object, *, end: bool) -> str:
    if type(timestamp) is not int:
        return ""
    moment = datetime.datetime.fromtimestamp(timestamp - (1 if end else 0), CHINA_STANDARD_TIME)
    return moment.date().isoformat()


def _judge(query: CredentialQuery, text: str, transaction: Transaction, cache: VerifierCache, policy: Policy,
           now: int) -> VerifiedPresentation:
    if text.strip().startswith(QR_PREFIX):
        raise MalformedResponseError(f"vp_token[{query.id}] is a QR pass, not a dc+sd-jwt presentation",
                                     parameter="vp_token")
    bound = dataclasses.replace(policy, require_live=True, expected_aud=transaction.client_id,
                                expected_nonce=transaction.nonce)
    verdict = verify(text, cache, policy=bound, now=now)
    if verdict.result is not Result.VALID:
        raise PresentationRejectedError(query.id, verdict.result, verdict.reason, verdict)
    # VALID: the issuer's signature, the disclosures and the KB-JWT are verified; read what they hold.
    jwt, disclosures, _ = split_sd_jwt(text.strip())
    payload = parse_compact(jwt, max_size=MAX_SD_JWT).payload
    vct = payload.get("vct")
    if vct not in query.vct_values:
        raise PresentationRejectedError(query.id, Result.MALFORMED, f"a credential of type {vct!r} was not asked for")
    disclosed = {decode_disclosure(d, max_size=MAX_SD_JWT).name for d in disclosures}
    missing = tuple(name for name in query.claims if name not in disclosed)
    if missing:
        raise MissingClaimsError(query.id, missing)
    claims = {name: verdict.claims[_RESULT_NAMES.get(name, name)] for name in query.claims
              if _RESULT_NAMES.get(name, name) in verdict.claims}
    return VerifiedPresentation(
        query_id=query.id, credential_type=verdict.credential_type or "", vct=str(vct), claims=claims,
        valid_from=_day(payload.get("nbf"), end=False), valid_until=_day(payload.get("exp"), end=True),
        verification=verdict,
    )


def verify_response(body: bytes, *, store: TransactionStore, cache: VerifierCache, now: int,
                    policy: Policy = ONLINE_POLICY, refresh: Callable[[], object] | None = None) -> VerifiedResponse:
    """Verify one direct_post body (module docstring); raises an OpenId4VpError subclass on any fault."""
    parameters = _parameters(body)
    state = parameters.get("state")
    if not state:
        raise UnknownTransactionError("unknown")  # a response without state answers no request of ours
    transaction = store.take(state, now=now)
    try:
        return _verify_answer(parameters, transaction, cache=cache, now=now, policy=policy, refresh=refresh)
    except OpenId4VpError as exc:
        exc.state = transaction.state
        raise


def _verify_answer(parameters: dict[str, str], transaction: Transaction, *, cache: VerifierCache, now: int,
                   policy: Policy, refresh: Callable[[], object] | None) -> VerifiedResponse:
    if "error" in parameters:
        raise WalletDeclinedError(parameters["error"][:MAX_ERROR_TEXT],
                                  parameters.get("error_description", "")[:MAX_ERROR_TEXT])
    queries = parse_dcql(transaction.dcql_query)
    presentations = _vp_token(parameters.get("vp_token"), queries)
    if refresh is not None:
        try:
            refresh()
        except (VerifierError, CredentialError, OSError):
            pass  # judged below on what the cache holds: ONLINE_POLICY's status_max_age says if that is enough
    by_id = {q.id: q for q in queries}
    verified = {query_id: _judge(by_id[query_id], text, transaction, cache, policy, now)
                for query_id, text in presentations.items()}
    return VerifiedResponse(transaction, verified)


__all__ = ["MAX_BODY", "ONLINE_POLICY", "VerifiedPresentation", "VerifiedResponse", "verify_response"]
