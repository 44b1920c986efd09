"""The resident's online requests on the wallet API (issuer.requests; docs/resident-requests.md).

    POST /resident/nonce                      -> {nonce, audience}: what the next presentation binds to
    POST /resident/requests  {kind, ...}      a request, authenticated by a presentation (below) -> 201
    GET  /resident/requests                   my requests (presentation)
    POST /resident/lost {citizen_id, recovery_code}   from a new phone, no credential needed -> 201
    GET  /resident/requests/<id>              one request (its bearer token, from the 201 answer)
    POST /resident/requests/<id>/delivery     the pickup offers of an approved request (its bearer token)
    POST /resident/requests/<id>/code         a lost phone: a one-time code to the registered phone number
    POST /resident/requests/<id>/code/confirm {code}   the right code approves the re-delivery
    GET  /resident/notifications              my messages (presentation), newest first

The resident is authenticated by a session of the OpenID4VP login (wallet_api.login: ``Authorization: DPoP
<session token>`` with a DPoP proof by the device key; both the command-line wallet and the PWA log in), or
— for a service without a verifier identity, which offers no login — by a presentation per request: an SD-JWT
VC with a KB-JWT over the nonce and audience, sent as ``Authorization: Presentation <sd-jwt+kb>``
(issuer.requests.authn). Every answer about a request carries ``message``:
what became of it and the next step, in Chinese and English.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, jsonify, request

from issuer.errors import InvalidRequestError
from issuer.model import Offer, offer_uri, pickup_url
from issuer.requests.errors import PresentationRejectedError
from issuer.requests.model import ResidentRequest
from issuer.requests.words import answer as request_answer
from wallet_api.context import REQUESTS, resident_requests, wallet_context
from wallet_api.issuance import json_body, no_store
from wallet_api.ratelimit import client_key, enforce

AUTHENTICATOR = "epermit_resident_authenticator"
INVALID = "invalid_request"
LOST_PER_CLIENT = 30  # lost-phone reports per address and window, before the recovery code's own throttle

if TYPE_CHECKING:  # annotations only: importing the wallet API loads no issuer service
    from issuer.requests.authn import PresentationAuthenticator, ResidentIdentity
    from issuer.service import IssuerService

bp = Blueprint("resident", __name__, url_prefix="/resident")


def install(app: Any, service: IssuerService) -> None:
    """The residents' requests service and its authenticator on ``app`` (loaded here, not at import)."""
    from issuer.requests.authn import PresentationAuthenticator
    from issuer.requests.service import ResidentRequests

    app.extensions[REQUESTS] = ResidentRequests(service)
    app.extensions[AUTHENTICATOR] = PresentationAuthenticator(service)
    app.register_blueprint(bp)


def _authenticator() -> PresentationAuthenticator:
    return current_app.extensions[AUTHENTICATOR]  # type: ignore[no-any-return]


def _credential(scheme_wanted: str) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != scheme_wanted.lower() or not value.strip():
        if scheme_wanted == "Presentation":
            raise PresentationRejectedError("malformed", "send Authorization: Presentation <SD-JWT VC with KB-JWT>")
        raise InvalidRequestError("send Authorization: Bearer <request_token>")
    return value.strip()


def _who() -> ResidentIdentity:
    """The resident asking: a DPoP-bound login session, else a presentation per request."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "dpop" and value.strip():
        from wallet_api.login import session_identity

        return session_identity(value.strip(), request.method, request.path)
    return _authenticator().authenticate(_credential("Presentation"))


def request_json(found: ResidentRequest) -> dict[str, Any]:
    return {**found.public(), "message": request_answer(found)}


def offer_json(offer: Offer, public_url: str) -> dict[str, Any]:
    return {"record_id": offer.record_id, "offer_uri": offer_uri(public_url, offer.offer_id),
            "pickup_url": pickup_url(public_url, offer.offer_id), "tx_code": offer.tx_code,
            "expires_at": offer.expires_at}


@bp.post("/nonce")
def resident_nonce() -> Response:
    enforce("nonce_client", client_key(), wallet_context().settings.nonce_requests_per_client)
    return no_store(jsonify(_authenticator().challenge()))


@bp.post("/requests")
def submit_request() -> Response:
    who = _who()
    body = json_body(wallet_context(), INVALID)
    found, token = resident_requests().submit(who, str(body.get("kind", "")), address=body.get("address"),
                                      district=body.get("district"))
    return no_store(jsonify({"request": request_json(found), "request_token": token,
                             "message": request_answer(found)}), 201)


@bp.get("/requests")
def myresident_requests() -> Response:
    who = _who()
    return no_store(jsonify({"requests": [request_json(r) for r in resident_requests().mine(who)]}))


@bp.post("/lost")
def report_lost() -> Response:
    enforce("lost_client", client_key(), LOST_PER_CLIENT)
    body = json_body(wallet_context(), INVALID)
    citizen_id, code = body.get("citizen_id"), body.get("recovery_code")
    if not isinstance(citizen_id, str) or not isinstance(code, str):
        raise InvalidRequestError("citizen_id and recovery_code are required")
    found, token = resident_requests().lost(citizen_id, code, client=client_key())
    return no_store(jsonify({"request": request_json(found), "request_token": token,
                             "message": request_answer(found)}), 201)


@bp.get("/requests/<request_id>")
def one_request(request_id: str) -> Response:
    found = resident_requests().by_token(request_id, _credential("Bearer"))
    return no_store(jsonify({"request": request_json(found), "message": request_answer(found)}))


@bp.post("/requests/<request_id>/delivery")
def request_delivery(request_id: str) -> Response:
    requests = resident_requests()
    found = requests.by_token(request_id, _credential("Bearer"))
    offers = requests.deliver(found)
    public_url = wallet_context().settings.public_url
    return no_store(jsonify({"offers": [offer_json(o, public_url) for o in offers],
                             "message": request_answer(found)}))


@bp.post("/requests/<request_id>/code")
def send_code(request_id: str) -> Response:
    requests = resident_requests()
    found = requests.by_token(request_id, _credential("Bearer"))
    requests.send_code(found)
    return no_store(jsonify({"message": {
        "zh": "验证码已发送到您登记的手机号码，10分钟内有效。", "en": "A code was sent to your registered phone "
        "number; it is valid for 10 minutes."}}), 202)


@bp.post("/requests/<request_id>/code/confirm")
def confirm_code(request_id: str) -> Response:
    requests = resident_requests()
    found = requests.by_token(request_id, _credential("Bearer"))
    code = json_body(wallet_context(), INVALID).get("code")
    if not isinstance(code, str):
        raise InvalidRequestError("code is required")
    approved = requests.confirm_code(found, code)
    return no_store(jsonify({"request": request_json(approved), "message": request_answer(approved)}))


@bp.get("/notifications")
def my_notifications() -> Response:
    who = _who()
    messages = resident_requests().outbox.of_holder(who.record.permit.holder.citizen_id)
    return no_store(jsonify({"notifications": [m.public() for m in messages]}))
