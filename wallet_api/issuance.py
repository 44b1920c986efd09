"""The credential endpoint (OpenID4VCI §8): an access token (Bearer or DPoP, wallet_api.access) and key proofs
buy bound credentials.

200 {"credentials", "notification_id"} when the record can be issued now; 202 {"transaction_id", "interval"}
when its application awaits an officer's approval (the wallet then polls wallet_api.deferred).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from credential.encoding import json_loads
from credential.errors import CredentialError
from credential.qrpass import pass_to_qr_text
from issuer.errors import IssuancePendingError, StateConflictError
from issuer.http import metrics
from issuer.model import DeliveredCredential
from wallet_api.access import authorize
from wallet_api.bodies import bounded_body
from wallet_api.configurations import is_qr_basic_configuration, is_qr_configuration
from wallet_api.context import WalletContext, resident_requests, wallet_context
from wallet_api.dpop import jwk_thumbprint
from wallet_api.errors import ProtocolError
from wallet_api.proofs import ProofPolicy, verify_key_proofs

RECOVERY_CODE = "epermit_recovery_code"  # an extension parameter of the credential response (shown once)
bp = Blueprint("credential", __name__)


def json_body(context: WalletContext, error: str = "invalid_credential_request") -> dict[str, Any]:
    """The capped, strictly parsed JSON object body; ``error`` names what a bad one is refused as."""
    if request.mimetype != "application/json":
        raise ProtocolError(error, "the body must be application/json")
    try:
        body = json_loads(bounded_body(context.settings.max_body_bytes), max_size=context.settings.max_body_bytes)
    except CredentialError as exc:
        raise ProtocolError(error, "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ProtocolError(error, "the body must be a JSON object")
    return body


def no_encryption(body: dict[str, Any]) -> None:
    if "credential_response_encryption" in body:
        raise ProtocolError("invalid_encryption_parameters", "credential response encryption is not supported")


def _configuration_id(body: dict[str, Any], allowed: list[str]) -> str:
    if "credential_identifier" in body:
        # Only a renewal asked by authorization_details gets identifiers (wallet_api.token): each is the
        # configuration id it stands for, so the same check applies; the two parameters never together.
        if "credential_configuration_id" in body or body["credential_identifier"] not in allowed:
            raise ProtocolError("invalid_credential_request", "credential_identifier is not one this access "
                                "token's authorization_details gave, or comes with credential_configuration_id")
        body = {**body, "credential_configuration_id": body["credential_identifier"]}
    configuration_id = body.get("credential_configuration_id")
    if not isinstance(configuration_id, str):
        raise ProtocolError("invalid_credential_request", "credential_configuration_id is missing")
    if configuration_id not in allowed:
        raise ProtocolError("unknown_credential_configuration", "this access token does not cover that configuration")
    return configuration_id


def _jwt_proofs(body: dict[str, Any], batch_size: int) -> list[object]:
    if "proof" in body:  # the singular form of pre-1.0 drafts
        raise ProtocolError("invalid_credential_request", "send proofs, not proof")
    no_encryption(body)
    proofs = body.get("proofs")
    if proofs is None:
        raise ProtocolError("invalid_proof", "proofs are required")
    if not isinstance(proofs, dict) or list(proofs) != ["jwt"]:
        raise ProtocolError("invalid_proof", "proofs must hold exactly one proof type, jwt")
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or not jwts:
        raise ProtocolError("invalid_proof", "proofs.jwt must be a non-empty array")
    if len(jwts) > batch_size:
        raise ProtocolError("invalid_credential_request", f"at most {batch_size} proofs per request")
    return list(jwts)


def _encode(configuration_id: str, delivered: DeliveredCredential) -> dict[str, str]:
    if is_qr_configuration(configuration_id):
        return {"credential": pass_to_qr_text(delivered.qr_pass)}
    if is_qr_basic_configuration(configuration_id):
        return {"credential": pass_to_qr_text(delivered.qr_pass_basic)}
    return {"credential": delivered.sd_jwt_vc}


def no_store(response: Response, status: int = 200) -> Response:
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def issued(context: WalletContext, token: str, configuration_id: str, delivered: list[DeliveredCredential],
           *, recovery_code: str | None = None, notification_id: str | None = None) -> Response:
    """200 with the credentials and a fresh notification_id (OpenID4VCI §8.3, §9.2; opened here unless the
    delivery opened it); at a holder's first pickup also the recovery code, once (issuer.requests.recovery: a
    lost phone is reported with it)."""
    if notification_id is None:
        notification_id = context.service.open_notification(token, configuration_id)
    metrics.PICKUPS.inc(len(delivered))
    answer: dict[str, object] = {"credentials": [_encode(configuration_id, item) for item in delivered],
                                 "notification_id": notification_id}
    if recovery_code is not None:
        answer[RECOVERY_CODE] = recovery_code
    return no_store(jsonify(answer))


def deferred(context: WalletContext, transaction_id: str) -> Response:
    """202: not yet; poll the deferred credential endpoint with this transaction_id, at most every interval s."""
    return no_store(jsonify({"transaction_id": transaction_id, "interval": context.settings.deferred_interval}), 202)


@bp.post("/credential")
def credential() -> Response:
    context = wallet_context()
    settings, service = context.settings, context.service
    access = authorize(context, "/credential")  # 401 for an unknown, expired or wrongly presented token
    token, allowed = access.token, list(access.grant.configuration_ids)
    body = json_body(context)
    configuration_id = _configuration_id(body, allowed)
    policy = ProofPolicy(
        audience=settings.public_url,
        algorithms=settings.proof_algorithms,
        max_age=settings.proof_max_age,
        future_skew=settings.proof_future_skew,
        max_size=settings.max_proof_bytes,
    )
    proofs = verify_key_proofs(_jwt_proofs(body, settings.batch_size), policy, now=context.clock())
    from wallet_api.authorization.codes import renewal_slot  # the back end's, loaded on first use

    def renewal(values: tuple[str | None, ...]) -> None:
        """A renewal: only to the device key of the presented credential (read with the record, checked first)."""
        bound = values[0]
        if bound is not None and any(jwk_thumbprint(proof.key) != bound for proof in proofs):
            raise ProtocolError("invalid_proof", "a renewal is issued only to the device key of the presented "
                                "credential")

    # A wallet signs a batch with the one c_nonce it fetched: each distinct nonce is spent once, with the
    # delivery (InvalidNonceError: unknown, expired or already used).
    nonces = [proof.nonce for proof in proofs]
    keys = [proof.key for proof in proofs]
    try:  # once per token and configuration
        picked = service.deliver_pickup(token, keys, configuration_id, nonces=nonces, grant=access.grant,
                                        reads=[renewal_slot(context, token)], vet=renewal)
    except IssuancePendingError:  # offered before approval: keep the proven keys until an officer decides
        return deferred(context, service.defer(token, keys, configuration_id, nonces=nonces,
                                               grant=access.grant).transaction_id)
    except StateConflictError as exc:  # suspended, revoked or expired since the offer: it will not be issued
        raise ProtocolError("credential_request_denied", str(exc)) from exc
    citizen_id = picked.record.permit.holder.citizen_id
    return issued(context, token, configuration_id, picked.credentials, notification_id=picked.notification_id,
                  recovery_code=resident_requests().recovery.issue_if_absent(citizen_id))
