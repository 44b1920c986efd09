"""GET /openapi.json: an OpenAPI 3.1 description of every wallet API endpoint, its bodies and its errors.

Written by hand next to the views it describes; tests/wallet_api/test_openapi.py runs schemathesis against
it (every documented status, media type and body schema must match what the app answers).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from credential.model import CredentialType
from issuer.deferred import EVENTS
from wallet_api.context import wallet_context
from wallet_api.metadata import PRE_AUTHORIZED_GRANT, public_json

bp = Blueprint("openapi", __name__)

JSON = "application/json"
_REF = "#/components/schemas/"


def _json(schema: str | dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"$ref": _REF + schema} if isinstance(schema, str) else schema
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": body}}}
    if headers:
        response["headers"] = headers
    return response


def _error(description: str, codes: tuple[str, ...], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = {"allOf": [{"$ref": _REF + "Error"}, {"properties": {"error": {"enum": list(codes)}}}]}
    return _json(schema, description + ": " + ", ".join(codes), headers)


_NO_STORE = {"Cache-Control": {"required": True, "schema": {"type": "string", "const": "no-store"}}}
_RETRY = {"Retry-After": {"required": True, "description": "seconds", "schema": {"type": "string",
                                                                               "pattern": "^[0-9]+$"}}}
_DPOP_NONCE = {"DPoP-Nonce": {"required": False, "schema": {"type": "string"}, "description":
                "The server nonce the next DPoP proof must carry (RFC 9449 §8), when the issuer demands one"}}
_CHALLENGE = {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}, "description":
                                   'Bearer error="..." (RFC 6750) or DPoP error="...", algs="ES256" (RFC 9449 §7.1)'},
              **_DPOP_NONCE}
_TOO_LARGE = _error("Body over the size limit", ("invalid_request",))
_UNAVAILABLE = _error("The store cannot be reached", ("temporarily_unavailable",))
_BEARER_ERRORS = {
    "401": _error("Missing, unknown or expired access token (RFC 6750); a DPoP-bound token presented as Bearer, "
                  "without a proof, with a bad or replayed proof, or with another key's proof (RFC 9449 §7); a "
                  "proof without the server nonce (use_dpop_nonce, §9)",
                  ("invalid_token", "invalid_dpop_proof", "use_dpop_nonce"), _CHALLENGE),
    "413": _TOO_LARGE, "503": _UNAVAILABLE,
}
_DPOP_HEADER = {
    "name": "DPoP", "in": "header", "required": False, "schema": {"type": "string"},
    "description": "A DPoP proof (RFC 9449 §4): a JWT with typ dpop+jwt, alg ES256 and the wallet's public key as "
                   "jwk, over jti, htm (POST), htu (this endpoint's URL), iat, and nonce when the issuer demands "
                   "one; on a resource request also ath, the base64url SHA-256 of the access token. At /token it "
                   "binds the access token to that key (token_type DPoP); a DPoP-bound token must then be sent "
                   "as 'Authorization: DPoP <token>' with a fresh proof by the same key. Single use (jti).",
}
_CREDENTIAL_ERRORS = ("invalid_credential_request", "unknown_credential_configuration", "invalid_proof",
                      "invalid_nonce", "invalid_encryption_parameters", "credential_request_denied")


def _get(summary: str, responses: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    return {"get": operation}


def _with_nonce(response: dict[str, Any]) -> dict[str, Any]:
    return {**response, "headers": {**response.get("headers", {}), **_DPOP_NONCE}}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}


def _signed(media_type: str | tuple[str, ...], summary: str, params: list[dict[str, Any]] | None = None,
            ) -> dict[str, Any]:
    """A signed document; several media types are forms chosen by Accept (the first is the default)."""
    media_types = (media_type,) if isinstance(media_type, str) else media_type
    responses: dict[str, Any] = {
        # No schema: the body is a compact JWS (text) or a COSE_Sign1 (bytes), not JSON.
        "200": {"description": "Compact JWS" if len(media_types) == 1 else "Compact JWS, or COSE_Sign1 when Accept"
                " prefers it", "content": {name: {} for name in media_types},
                "headers": {"ETag": {"required": True, "schema": {"type": "string"}}}},
        "304": {"description": "Not modified (If-None-Match)"},
    }
    if params:
        responses["404"] = _error("No such document", ("not_found",))
    if len(media_types) > 1:
        responses["406"] = _error("Accept admits none of the forms", ("not_acceptable",))
    return _get(summary, responses, params)


def _paths() -> dict[str, Any]:
    bearer: list[dict[str, list[str]]] = [{"bearer": []}, {"dpop": []}]
    paths: dict[str, Any] = {
        "/.well-known/openid-credential-issuer": _get(
            "Credential Issuer Metadata (OpenID4VCI §12.2)", {"200": _json("IssuerMetadata", "Metadata")}),
        "/.well-known/oauth-authorization-server": _get(
            "Authorization Server Metadata (RFC 8414)", {"200": _json("AuthorizationServerMetadata", "Metadata")}),
        "/.well-known/jwt-vc-issuer": _get(
            "SD-JWT VC issuer keys", {"200": _json("JwtVcIssuerMetadata", "The credential and status list signing keys")}),
        "/offers/{offer_id}": _get(
            "A Credential Offer by reference (OpenID4VCI §4.1.3)",
            {"200": _json("CredentialOffer", "The offer", _NO_STORE),
             "404": _error("Unknown, redeemed or expired offer", ("not_found",))},
            [_path_param("offer_id")]),
        "/offers/{offer_id}/qr.png": _get(
            "The offer's openid-credential-offer:// URI as a QR image for the officer to print",
            {"200": {"description": "PNG", "content": {"image/png": {"schema": {"type": "string",
                                                                                "format": "binary"}}}},
             "404": _error("Unknown, redeemed or expired offer", ("not_found",))},
            [_path_param("offer_id")]),
        "/token": {"post": {
            "summary": "Token endpoint: pre-authorized code + PIN (tx_code) -> access token (DPoP-bound with a proof)",
            "parameters": [_DPOP_HEADER],
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                "schema": {"$ref": _REF + "TokenRequest"}}}},
            "responses": {
                "200": _with_nonce(_json("TokenResponse", "The access token", _NO_STORE)),
                "400": _error("Refused (a bad or replayed DPoP proof: invalid_dpop_proof; a proof without the "
                              "server nonce: use_dpop_nonce with DPoP-Nonce, RFC 9449 §8)",
                              ("invalid_request", "invalid_grant", "unsupported_grant_type", "invalid_dpop_proof",
                               "use_dpop_nonce"), _DPOP_NONCE),
                "413": _TOO_LARGE,
                "429": _error("Rate limited (per client and per code)", ("rate_limited",), _RETRY),
                "503": _UNAVAILABLE}}},
        "/nonce": {"post": {
            "summary": "A fresh single-use c_nonce for key proofs",
            "responses": {"200": _json("NonceResponse", "The nonce", _NO_STORE),
                          "429": _error("Rate limited (per client)", ("rate_limited",), _RETRY),
                          "503": _UNAVAILABLE}}},
        "/credential": {"post": {
            "summary": "Credential endpoint: key proofs -> credentials bound to their keys, or a deferral",
            "security": bearer, "parameters": [_DPOP_HEADER],
            "requestBody": {"required": True, "content": {JSON: {"schema": {"$ref": _REF + "CredentialRequest"}}}},
            "responses": {
                "200": _with_nonce(_json("CredentialResponse", "The credentials", _NO_STORE)),
                "202": _with_nonce(_json("DeferredResponse", "The application awaits approval: poll "
                                         "/deferred_credential", _NO_STORE)),
                "400": _error("Refused", _CREDENTIAL_ERRORS), **_BEARER_ERRORS}}},
        "/deferred_credential": {"post": {
            "summary": "Deferred credential endpoint: poll a transaction",
            "security": bearer, "parameters": [_DPOP_HEADER],
            "requestBody": {"required": True, "content": {JSON: {"schema": {"$ref": _REF + "DeferredRequest"}}}},
            "responses": {
                "200": _with_nonce(_json("CredentialResponse", "Approved: the credentials (the transaction is "
                                         "used up)", _NO_STORE)),
                "202": _with_nonce(_json("DeferredResponse", "Still pending", _NO_STORE)),
                "400": _error("Refused", ("invalid_credential_request", "invalid_encryption_parameters",
                                          "invalid_transaction_id", "credential_request_denied")),
                **_BEARER_ERRORS}}},
        "/notification": {"post": {
            "summary": "Notification endpoint: the wallet reports what became of the credentials",
            "security": bearer, "parameters": [_DPOP_HEADER],
            "requestBody": {"required": True, "content": {JSON: {"schema": {"$ref": _REF + "NotificationRequest"}}}},
            "responses": {
                "204": _with_nonce({"description": "Recorded (idempotent)"}),
                "400": _error("Refused", ("invalid_notification_request", "invalid_notification_id")),
                **_BEARER_ERRORS}}},
        **_resident_paths(),
        **_login_paths(),
        "/statuslists": _get("The status list aggregation", {"200": _json("StatusListAggregation", "Every list")}),
        "/statuslists/{number}": _signed(("application/statuslist+jwt", "application/statuslist+cwt"),
                                         "A Token Status List, as JWT (default) or CWT", [_path_param("number")]),
        "/trustlist.jwt": _signed("application/jwt", "The root-signed trust list"),
        "/openapi.json": _get("This document", {"200": {"description": "OpenAPI 3.1",
                                                        "content": {JSON: {"schema": {"type": "object"}}}}}),
    }
    for credential_type in CredentialType:
        paths[credential_type.vct_path] = _get(
            f"SD-JWT VC Type Metadata of the {credential_type.name_en}",
            {"200": _json("TypeMetadata", "Type metadata")})
    return paths


_PRESENTATION = {"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"},
                 "description": "'DPoP <session token>' from the OpenID4VP login (POST /resident/session) with a "
                                "DPoP header by the device key; or 'Presentation <SD-JWT VC~KB-JWT>': the "
                                "resident's credential with a KB-JWT over a nonce from POST /resident/nonce and "
                                "its audience ({public_url}/resident)"}
_REQUEST_TOKEN = {"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"},
                  "description": "'Bearer <request_token>': the token the request's 201 answer carried (once)"}
_RESIDENT_ERRORS = ("invalid_request", "invalid_resident_request", "invalid_presentation", "code_refused",
                    "credential_not_current", "request_not_found", "request_conflict", "recovery_refused",
                    "rate_limited", "conflict", "endorsement_not_due", "endorsement_lapsed", "not_endorsable")


def _resident(operation_id: str, summary: str, ok: tuple[int, str], *, params: list[dict[str, Any]],
              body: str | None = None) -> dict[str, Any]:
    status, schema = ok
    op: dict[str, Any] = {"operationId": operation_id, "summary": summary, "parameters": params,
                          "responses": {str(status): _json(schema, "done", _NO_STORE),
                                        "400": _error("Refused", _RESIDENT_ERRORS),
                                        "401": _error("No valid presentation", _RESIDENT_ERRORS),
                                        "403": _error("Not a current credential, or a wrong recovery code",
                                                      _RESIDENT_ERRORS),
                                        "404": _error("No such request (or not this token's)", _RESIDENT_ERRORS),
                                        "409": _error("Another request is open, or the state does not allow it",
                                                      _RESIDENT_ERRORS),
                                        "429": _error("Too many attempts", ("rate_limited",), _RETRY),
                                        "413": _TOO_LARGE, "503": _UNAVAILABLE}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": {"$ref": _REF + body}}}}
    return op


def _resident_paths() -> dict[str, Any]:
    """The residents' online requests (wallet_api.resident; docs/resident-requests.md)."""
    request_id = [_path_param("request_id")]
    return {
        "/resident/nonce": {"post": _resident("residentNonce", "A nonce and the audience for the next presentation",
                                              (200, "ResidentChallenge"), params=[])},
        "/resident/requests": {
            "post": _resident("submitResidentRequest", "Submit a request: endorse, address or deregister",
                              (201, "ResidentRequestCreated"), params=[_PRESENTATION], body="ResidentRequestBody"),
            "get": _resident("listMyResidentRequests", "My requests, oldest first", (200, "ResidentRequestList"),
                             params=[_PRESENTATION])},
        "/resident/lost": {"post": _resident(
            "reportLostPhone", "From a new phone: suspend the lost phone's credentials at once (citizen ID and "
            "recovery code); re-delivery waits for an officer", (201, "ResidentRequestCreated"), params=[],
            body="LostPhoneBody")},
        "/resident/requests/{request_id}": {"get": _resident(
            "getResidentRequest", "One request, by its token", (200, "ResidentRequestAnswer"),
            params=[*request_id, _REQUEST_TOKEN])},
        "/resident/requests/{request_id}/delivery": {"post": _resident(
            "deliverResidentRequest", "The pickup offers (with their PINs) of an approved request: redeem them "
            "as at the first pickup", (200, "ResidentDelivery"), params=[*request_id, _REQUEST_TOKEN])},
        "/resident/requests/{request_id}/code": {"post": _resident(
            "sendLostPhoneCode", "A lost phone's queued re-delivery: send a one-time code to the registered phone "
            "number (through the notifications outbox)", (202, "ResidentMessage"),
            params=[*request_id, _REQUEST_TOKEN])},
        "/resident/requests/{request_id}/code/confirm": {"post": _resident(
            "confirmLostPhoneCode", "The right one-time code approves the re-delivery (no officer needed)",
            (200, "ResidentRequestAnswer"), params=[*request_id, _REQUEST_TOKEN], body="OneTimeCodeBody")},
        "/resident/notifications": {"get": _resident(
            "listResidentNotifications", "My messages, newest first (the wallet shows them when it syncs)",
            (200, "ResidentNotifications"), params=[_PRESENTATION])},
    }


_FORM = "application/x-www-form-urlencoded"
_LOGIN_ERRORS = ("invalid_request", "invalid_request_uri", "access_denied", "invalid_presentation",
                 "credential_not_current", "temporarily_unavailable")


def _form_body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {_FORM: {"schema": {"$ref": _REF + schema}}}}


def _login_paths() -> dict[str, Any]:
    """The residents' OpenID4VP login (wallet_api.login) and the authorization code flow of renewals
    (wallet_api.authorization); 404 where the service has no verifier identity."""
    dpop_errors = ("invalid_request", "invalid_grant", "invalid_token", "invalid_dpop_proof", "use_dpop_nonce")
    par_errors = ("invalid_request", "unsupported_response_type", "invalid_scope", "invalid_authorization_details",
                  "invalid_dpop_proof", "use_dpop_nonce")
    return {
        "/resident/login": {"post": {
            "operationId": "startResidentLogin", "summary": "A login request (OpenID4VP 1.0, x509_san_dns, DCQL for "
            "the residence permit or card with the citizen ID, direct_post) for the resident's wallet",
            "responses": {"201": _json("ResidentLoginStarted", "Answer authorization_uri with the wallet", _NO_STORE),
                          "404": _error("No login on this service", ("invalid_request",)),
                          "429": _error("Too many attempts", ("rate_limited",), _RETRY), "503": _UNAVAILABLE}}},
        "/resident/login/request/{request_id}": {"get": {
            "operationId": "getResidentLoginRequest", "summary": "The signed request object (RFC 9101)",
            "parameters": [_path_param("request_id")],
            "responses": {"200": {"description": "application/oauth-authz-req+jwt",
                                  "content": {"application/oauth-authz-req+jwt": {}}},
                          "404": _error("Unknown, answered or expired", ("invalid_request_uri", "invalid_request"))}}},
        "/resident/login/response": {"post": {
            "operationId": "postResidentLoginResponse", "summary": "The wallet's direct_post (OpenID4VP 1.0 §8.2): "
            "vp_token and state (or error); verified like `epermit verify`, the status read from the store",
            "requestBody": _form_body("DirectPost"),
            "responses": {"200": _json("RedirectAnswer", "redirect_uri: …/resident/login/done?response_code=… "
                                       "(a login), or the client's redirect_uri with code, state, iss (a renewal)",
                                       _NO_STORE),
                          "400": _error("Refused", _LOGIN_ERRORS), "403": _error("Not current", _LOGIN_ERRORS),
                          "404": _error("No login on this service", ("invalid_request",)), "413": _TOO_LARGE,
                          "503": _UNAVAILABLE}}},
        "/resident/login/done": {"get": {
            "operationId": "residentLoginDone", "summary": "Where a same-device wallet lands (zh-CN, en)",
            "parameters": [{"name": "response_code", "in": "query", "required": False, "schema": {"type": "string"}}],
            "responses": {"200": _json("ResidentMessage", "The message", _NO_STORE)}}},
        "/resident/session": {"post": {
            "operationId": "openResidentSession", "summary": "Trade the login's response_code for a session token "
            "bound to the presented credential's device key (DPoP proof by that key required)",
            "parameters": [{**_DPOP_HEADER, "required": True}],
            "requestBody": {"required": True, "content": {JSON: {"schema": {"$ref": _REF + "SessionRequest"}}}},
            "responses": {"200": _json("TokenResponse", "The session (token_type DPoP)", _NO_STORE),
                          "400": _error("Refused", dpop_errors, _DPOP_NONCE),
                          "401": _error("Refused", dpop_errors, _CHALLENGE),
                          "403": _error("Not current", ("credential_not_current",)),
                          "404": _error("No login on this service", ("invalid_request",)),
                          "413": _TOO_LARGE, "503": _UNAVAILABLE}}},
        "/par": {"post": {
            "operationId": "pushAuthorizationRequest", "summary": "Pushed authorization request (RFC 9126): "
            "response_type=code, client_id, redirect_uri, state, code_challenge + S256, scope or "
            "authorization_details, and a DPoP proof or dpop_jkt",
            "parameters": [_DPOP_HEADER], "requestBody": _form_body("PushedAuthorizationRequest"),
            "responses": {"201": _json("PushedAuthorizationResponse", "The request_uri", _NO_STORE),
                          "400": _error("Refused", par_errors, _DPOP_NONCE), "413": _TOO_LARGE,
                          "429": _error("Rate limited", ("rate_limited",), _RETRY), "503": _UNAVAILABLE}}},
        "/authorize": {"get": {
            "operationId": "authorize", "summary": "Authorization endpoint (PAR only): 303 to the OpenID4VP request "
            "by which the resident is authenticated; after it, the wallet goes to redirect_uri with code, state "
            "and iss (RFC 9207)",
            "parameters": [{"name": n, "in": "query", "required": True, "schema": {"type": "string"}}
                           for n in ("client_id", "request_uri")],
            "responses": {"303": {"description": "Location: openid4vp:…?client_id=…&request_uri=…"},
                          "200": _json("AuthorizeAsJson", "With Accept: application/json (a browser wallet): the "
                                       "same URI", _NO_STORE),
                          "400": _error("Refused", ("invalid_request", "invalid_request_uri")),
                          "404": _error("No login on this service", ("invalid_request",)), "503": _UNAVAILABLE}}},
    }


def _login_schemas() -> dict[str, Any]:
    string, integer = {"type": "string"}, {"type": "integer"}
    return {
        "ResidentLoginStarted": {"type": "object", "required": ["authorization_uri", "request_uri", "client_id",
                                                                "expires_in"],
                                 "properties": {"authorization_uri": string, "request_uri": string,
                                                "client_id": string, "expires_in": integer}},
        "DirectPost": {"type": "object", "required": ["state"], "properties": {
            "vp_token": string, "state": string, "error": string, "error_description": string}},
        "RedirectAnswer": {"type": "object", "required": ["redirect_uri"], "properties": {"redirect_uri": string}},
        "SessionRequest": {"type": "object", "required": ["response_code"], "properties": {"response_code": string}},
        "PushedAuthorizationRequest": {"type": "object", "required": [
            "response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method"],
            "properties": {"response_type": {"const": "code"}, "client_id": string, "redirect_uri": string,
                           "state": string, "code_challenge": string, "code_challenge_method": {"const": "S256"},
                           "scope": string, "authorization_details": string, "dpop_jkt": string}},
        "AuthorizeAsJson": {"type": "object", "required": ["authorization_uri"],
                            "properties": {"authorization_uri": string}},
        "PushedAuthorizationResponse": {"type": "object", "required": ["request_uri", "expires_in"],
                                        "properties": {"request_uri": string, "expires_in": integer}},
    }


def _resident_schemas() -> dict[str, Any]:
    string, integer, maybe = {"type": "string"}, {"type": "integer"}, {"type": ["string", "null"]}
    words = {"type": "object", "required": ["zh", "en"], "properties": {"zh": string, "en": string}}
    request = {"type": "object", "required": ["id", "kind", "state", "record_id", "district", "message"],
               "properties": {"id": string, "kind": {"enum": ["endorse", "lost", "address", "deregister"]},
                              "state": {"enum": ["submitted", "queued", "approved", "denied", "done"]},
                              "record_id": string, "district": string, "created_at": integer, "updated_at": integer,
                              "address": maybe, "new_district": maybe, "queued_because": maybe,
                              "decided_by": maybe, "reason": maybe, "new_record_id": maybe, "message": words}}
    return {
        "ResidentChallenge": {"type": "object", "required": ["nonce", "audience"],
                              "properties": {"nonce": string, "audience": string}},
        "ResidentRequestBody": {"type": "object", "required": ["kind"], "properties": {
            "kind": {"enum": ["endorse", "address", "deregister"]}, "address": string,
            "district": {"type": "string", "pattern": "^[0-9]{6}$"}}},
        "OneTimeCodeBody": {"type": "object", "required": ["code"], "properties": {"code": string}},
        "ResidentMessage": {"type": "object", "required": ["message"], "properties": {"message": words}},
        "LostPhoneBody": {"type": "object", "required": ["citizen_id", "recovery_code"],
                          "properties": {"citizen_id": string, "recovery_code": string}},
        "ResidentRequestCreated": {"type": "object", "required": ["request", "request_token", "message"],
                                   "properties": {"request": request, "request_token": string, "message": words}},
        "ResidentRequestAnswer": {"type": "object", "required": ["request", "message"],
                                  "properties": {"request": request, "message": words}},
        "ResidentRequestList": {"type": "object", "required": ["requests"],
                                "properties": {"requests": {"type": "array", "items": request}}},
        "ResidentDelivery": {"type": "object", "required": ["offers", "message"], "properties": {
            "message": words, "offers": {"type": "array", "items": {
                "type": "object", "required": ["record_id", "offer_uri", "pickup_url", "tx_code", "expires_at"],
                "properties": {"record_id": string, "offer_uri": string, "pickup_url": string, "tx_code": string,
                               "expires_at": integer}}}}},
        "ResidentNotifications": {"type": "object", "required": ["notifications"], "properties": {
            "notifications": {"type": "array", "items": {
                "type": "object", "required": ["id", "kind", "record_id", "created_at", "message"],
                "properties": {"id": string, "kind": string, "record_id": string, "created_at": integer,
                               "message": words, "params": {"type": "object"}}}}}},
    }


def _schemas() -> dict[str, Any]:
    string, integer = {"type": "string"}, {"type": "integer"}
    strings = {"type": "array", "items": string}
    display = {"type": "array", "items": {"type": "object", "properties": {"name": string, "locale": string}}}

    def obj(required: list[str], **properties: Any) -> dict[str, Any]:
        return {"type": "object", "required": required, "properties": properties}

    return {
        "Error": obj(["error"], error=string, error_description=string,
                     error_description_zh={"type": "string", "description": "the same in Chinese, for the resident "
                                           "(an extra member, RFC 6749 §5.2); absent where none was written"}),
        "IssuerMetadata": obj(
            ["credential_issuer", "credential_endpoint", "credential_configurations_supported"],
            credential_issuer=string, credential_endpoint=string, nonce_endpoint=string,
            deferred_credential_endpoint=string, notification_endpoint=string, display=display,
            authorization_servers=strings,
            batch_credential_issuance=obj(["batch_size"], batch_size={"type": "integer", "minimum": 2}),
            credential_configurations_supported={"type": "object", "additionalProperties": obj(["format"],
                                                                                               format=string)}),
        "AuthorizationServerMetadata": obj(
            ["issuer", "token_endpoint", "response_types_supported", "grant_types_supported",
             "pre-authorized_grant_anonymous_access_supported"],
            issuer=string, token_endpoint=string, response_types_supported=strings, grant_types_supported=strings,
            **{"pre-authorized_grant_anonymous_access_supported": {"type": "boolean"}},
            token_endpoint_auth_methods_supported=strings, dpop_signing_alg_values_supported=strings,
            authorization_endpoint=string, pushed_authorization_request_endpoint=string,
            require_pushed_authorization_requests={"type": "boolean"}, code_challenge_methods_supported=strings,
            authorization_response_iss_parameter_supported={"type": "boolean"}),
        "JwtVcIssuerMetadata": obj(["issuer", "jwks"], issuer=string,
                                   jwks=obj(["keys"], keys={"type": "array", "items": {"type": "object"}})),
        "TypeMetadata": obj(["vct"], vct=string, name=string, description=string, display={"type": "array"},
                            claims={"type": "array"}),
        "CredentialOffer": obj(
            ["credential_issuer", "credential_configuration_ids", "grants"], credential_issuer=string,
            credential_configuration_ids=strings,
            grants=obj([PRE_AUTHORIZED_GRANT], **{PRE_AUTHORIZED_GRANT: obj(
                ["pre-authorized_code", "tx_code"], **{"pre-authorized_code": string, "tx_code": obj(
                    [], input_mode={"enum": ["numeric", "text"]}, length=integer, description=string)})})),
        "TokenRequest": {"oneOf": [
            obj(["grant_type", "pre-authorized_code"], grant_type={"const": PRE_AUTHORIZED_GRANT},
                **{"pre-authorized_code": string, "tx_code": string}),
            # A renewal (RFC 6749 §4.1.3, RFC 7636 §4.5): with a DPoP proof by the key of the pushed request.
            obj(["grant_type", "code", "code_verifier", "redirect_uri", "client_id"],
                grant_type={"const": "authorization_code"}, code=string, code_verifier=string, redirect_uri=string,
                client_id=string)]},
        "TokenResponse": obj(["access_token", "token_type", "expires_in"], access_token=string,
                             token_type={"enum": ["Bearer", "DPoP"]}, expires_in=integer),
        "NonceResponse": obj(["c_nonce"], c_nonce=string),
        "CredentialRequest": obj(["credential_configuration_id", "proofs"], credential_configuration_id=string,
                                 proofs=obj(["jwt"], jwt={"type": "array", "minItems": 1, "items": string})),
        "CredentialResponse": obj(["credentials", "notification_id"], notification_id=string,
                                  epermit_recovery_code=string, credentials={
            "type": "array", "minItems": 1, "items": obj(["credential"], credential=string)}),
        "DeferredResponse": obj(["transaction_id", "interval"], transaction_id=string,
                                interval={"type": "integer", "minimum": 1}),
        "DeferredRequest": obj(["transaction_id"], transaction_id=string),
        "NotificationRequest": obj(["notification_id", "event"], notification_id=string,
                                   event={"enum": list(EVENTS)}, event_description=string),
        "StatusListAggregation": obj(["status_lists"], status_lists=strings),
        **_resident_schemas(),
        **_login_schemas(),
    }


def openapi_document(public_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "epermit wallet API (OpenID4VCI 1.0 credential issuer)", "version": "1.0.0",
                 "description": "Pre-authorized code flow with PIN, deferred issuance and notifications; the "
                                "public documents offline verifiers sync. Errors are JSON {error, "
                                "error_description}; nothing answers 500 on bad input."},
        "servers": [{"url": public_url}],
        "paths": _paths(),
        "components": {"schemas": _schemas(),
                       "securitySchemes": {
                           "bearer": {"type": "http", "scheme": "bearer",
                                      "description": "The access token from /token, when not DPoP-bound "
                                                     "(refused when the issuer requires DPoP)"},
                           "dpop": {"type": "http", "scheme": "DPoP",
                                    "description": "A DPoP-bound access token from /token, with a DPoP proof "
                                                   "header by the bound key (RFC 9449 §7.1)"}}},
    }


@bp.get("/openapi.json")
def openapi_json() -> Response:
    context = wallet_context()
    return public_json(openapi_document(context.settings.public_url), context)
