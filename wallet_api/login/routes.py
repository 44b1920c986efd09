"""The login's HTTP face: a thin blueprint over wallet_api.login.verifying and wallet_api.login.sessions.

    POST /resident/login                    -> {authorization_uri, request_uri, client_id, expires_in}
    GET  /resident/login/request/<id>       the signed request object (application/oauth-authz-req+jwt)
    POST /resident/login/response           the wallet's direct_post (OpenID4VP 1.0 §8.2)
                                            -> {redirect_uri: …/resident/login/done?response_code=…}
    GET  /resident/login/done               where a same-device wallet lands (zh-CN, en)
    POST /resident/session {response_code}  + DPoP proof by the device key -> {access_token, token_type DPoP}
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from issuer.http.errors import ZH_FIELD
from verifier.openid4vp import REQUEST_MEDIA_TYPE, OpenId4VpError, UnknownTransactionError
from verifier.openid4vp.response import MAX_BODY
from wallet_api.access import resident_proof, spend_proof
from wallet_api.authorization import codes
from wallet_api.context import wallet_context
from wallet_api.error_words import zh_message
from wallet_api.issuance import json_body, no_store
from wallet_api.login.sessions import ResidentSessions, SessionRefusedError, identity_value
from wallet_api.login.verifying import LoginVerifier
from wallet_api.metadata import LOGIN
from wallet_api.ratelimit import client_key, enforce

VERIFIER = LOGIN  # what the metadata looks for (wallet_api.metadata: the authorization code flow)
SESSIONS = "epermit_resident_sessions"
DONE = {"zh": "登录成功，请回到钱包继续办理。", "en": "You are logged in: go back to the wallet to continue."}

bp = Blueprint("login", __name__, url_prefix="/resident")


def login_verifier() -> LoginVerifier:
    found = current_app.extensions.get(VERIFIER)
    if found is None:
        raise LoginUnavailableError()
    assert isinstance(found, LoginVerifier)
    return found


def sessions() -> ResidentSessions:
    found = current_app.extensions[SESSIONS]
    assert isinstance(found, ResidentSessions)
    return found


class LoginUnavailableError(SessionRefusedError):
    def __init__(self) -> None:
        super().__init__("invalid_request", "this service has no verifier identity: log in by a presentation "
                         "per request (Authorization: Presentation)")
        self.http_status = 404


def _oid4vp_error(exc: OpenId4VpError) -> Response:
    return no_store(jsonify({"error": exc.error, "error_description": str(exc),
                             ZH_FIELD: zh_message(exc.error)}), 400)


@bp.post("/login")
def start_login() -> Response:
    enforce("nonce_client", client_key(), wallet_context().settings.nonce_requests_per_client)
    verifier = login_verifier()
    pending = verifier.start(now=wallet_context().clock())
    transaction = pending.transaction
    return no_store(jsonify({"authorization_uri": pending.authorization_uri, "request_uri": pending.request_uri,
                             "client_id": transaction.client_id,
                             "expires_in": transaction.expires_at - transaction.created_at}), 201)


@bp.get("/login/request/<request_id>")
def login_request_object(request_id: str) -> Response:
    try:
        transaction = login_verifier().transactions.by_request_id(request_id, now=wallet_context().clock())
    except UnknownTransactionError:
        return no_store(jsonify({"error": "invalid_request_uri", "error_description": "no such login request "
                                 "(expired or answered): start again", ZH_FIELD: zh_message("invalid_request_uri")}),
                        404)
    return no_store(Response(transaction.request_object, mimetype=REQUEST_MEDIA_TYPE))


@bp.post("/login/response")
def login_response() -> Response:
    if request.mimetype != "application/x-www-form-urlencoded":
        return _oid4vp_error(OpenId4VpError("direct_post is an application/x-www-form-urlencoded form"))
    body = request.get_data(cache=False)
    if len(body) > MAX_BODY:
        return _oid4vp_error(OpenId4VpError("the response is too large"))
    now = wallet_context().clock()
    try:
        done = login_verifier().finish(body, now=now)
    except OpenId4VpError as exc:
        return _oid4vp_error(exc)
    linked = codes.linked(wallet_context(), done.transaction.state)
    if linked is not None:  # the login of an authorization request (wallet_api.authorization): a renewal
        renewal = codes.renewable(wallet_context(), done.identity)
        held = None if renewal is None else identity_value(done.identity)
        return no_store(jsonify({"redirect_uri": codes.finish_authorization(wallet_context(), linked, held)}))
    code = sessions().logged_in(done.identity, now=now)
    query = urllib.parse.urlencode({"response_code": code})
    return no_store(jsonify({"redirect_uri": f"{wallet_context().settings.public_url}/resident/login/done?{query}"}))


@bp.get("/login/done")
def login_done() -> Response:
    return no_store(jsonify({"message": DONE}))


@bp.post("/session")
def open_session() -> Response:
    context = wallet_context()
    proof = resident_proof(context, "POST", "/resident/session", token=None)
    code: Any = json_body(context, "invalid_request").get("response_code")
    session = sessions().open(code if isinstance(code, str) else "", proof.jkt, now=context.clock())
    spend_proof(context, proof, resource=False)
    return no_store(jsonify({"access_token": session.token, "token_type": "DPoP", "expires_in": session.expires_in}))
