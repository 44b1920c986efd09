"""The officers' queue of residents' requests on the officer API (issuer.requests):

    GET  /api/v1/requests[?state=queued|approved|denied|done|all]   listResidentRequests
    POST /api/v1/requests/<id>/approve                              approveResidentRequest
    POST /api/v1/requests/<id>/deny {reason}                        denyResidentRequest

The requests of the officer's districts, oldest first; approving needs the role of what the approval does
(issuer.requests.service.DECIDING_ACTION), and another district's request answers 404, audited.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from issuer.errors import InvalidRequestError
from issuer.http.context import body_free_text_reason, current_officer, query_int
from issuer.requests import RequestState, ResidentRequest, ResidentRequests, answer

EXTENSION = "epermit_officer_requests"

bp = Blueprint("officer_requests_api", __name__, url_prefix="/api/v1")


def install(app: Flask, requests: ResidentRequests) -> None:
    app.extensions[EXTENSION] = requests
    app.register_blueprint(bp)


def officer_requests() -> ResidentRequests:
    found = current_app.extensions[EXTENSION]
    assert isinstance(found, ResidentRequests)
    return found


def request_json(found: ResidentRequest) -> dict[str, Any]:
    return {**found.public(), "message": answer(found)}


def chosen_states() -> tuple[RequestState, ...]:
    text = request.args.get("state", RequestState.QUEUED.value)
    if text == "all":
        return tuple(RequestState)
    try:
        return (RequestState(text),)
    except ValueError:
        raise InvalidRequestError("state must be queued, approved, denied, done, submitted or all") from None


@bp.get("/requests")
def list_requests() -> Response:
    who = current_officer()
    found = officer_requests().queue(who, states=chosen_states(), limit=query_int("limit", 100, low=1, high=1000))
    return jsonify({"requests": [request_json(r) for r in found]})


@bp.post("/requests/<request_id>/approve")
def approve_request(request_id: str) -> Response:
    who = current_officer()
    return jsonify(request_json(officer_requests().approve(who, request_id)))


@bp.post("/requests/<request_id>/deny")
def deny_request(request_id: str) -> Response:
    who = current_officer()
    return jsonify(request_json(officer_requests().deny(who, request_id, body_free_text_reason())))
