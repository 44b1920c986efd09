"""The OpenAPI 3.1 document of the officer API, written by hand (GET /openapi.json).

Every endpoint, every request body and the one error shape: ``{"error": code, "error_description": text}``
with a stable ``error`` code (listed in ERROR_CODES). tests/issuer/test_openapi.py runs schemathesis
against it: no 500, every response matches.
"""

from __future__ import annotations

from typing import Any

from issuer.model import REASON_CODES, Role

ERROR_CODES = [
    "invalid_request", "invalid_application", "unauthorized", "forbidden", "not_found", "method_not_allowed",
    "conflict", "request_too_large", "unsupported_media_type", "temporarily_unavailable", "registration_required",
    "registration_too_short", "already_registered", "validity_too_long", "not_endorsable", "endorsement_not_due",
    "endorsement_lapsed",
    "rate_limited", "not_acceptable", "http_error", "request_not_found", "request_conflict",
    "invalid_resident_request", "invalid_portrait", "portrait_unreadable", "portraits_unavailable",
]

# The roles an administrator may give (a bureau_auditor is made on the office machine only).
_ADMIN_ROLES = tuple(role.value for role in Role if role is not Role.BUREAU_AUDITOR)
_S = {"type": "string"}
_I = {"type": "integer"}
_ERROR = {"$ref": "#/components/schemas/Error"}
_ERRORS = {str(code): {"description": text, "content": {"application/json": {"schema": _ERROR}}}
           for code, text in [(400, "bad input"), (401, "no valid bearer token"), (403, "the role may not"),
                              (404, "no such record (or another district's)"), (409, "state or bureau rule"),
                              (413, "body too large"),
                              (429, "too many failed authentications from this address (see Retry-After)"),
                              (503, "store unavailable")]}
_ERRORS["default"] = {"description": "any other error", "content": {"application/json": {"schema": _ERROR}}}
_ID = [{"name": "record_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}]
_OFFICER_ID = [{"name": "officer_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(summary: str, ok: tuple[int, str], *, body: str | None = None, params: list[Any] | None = None,
        optional_body: bool = False, query: list[Any] | None = None) -> dict[str, Any]:
    status, schema = ok
    op: dict[str, Any] = {"summary": summary, "security": [{"bearer": []}],
                          "parameters": [*(params or []), *(query or [])],
                          "responses": {str(status): {"description": "done", **_json(_ref(schema))}, **_ERRORS}}
    if body is not None:
        op["requestBody"] = {"required": not optional_body, **_json(_ref(body))}
    return op


def _schemas() -> dict[str, Any]:
    date = {"type": "string", "format": "date"}
    permit_props = {
        "type": {"enum": ["residence_permit", "residence_registration"]}, "name": _S, "name_pinyin": _S,
        "sex": _I, "ethnicity": _I, "birth_date": date, "citizen_id": _S, "address": _S,
        "portrait_sha256": {"type": ["string", "null"]}, "document_number": _S, "district": _S,
        "authority_code": _S, "authority_name": _S, "valid_from": date, "valid_until": date,
    }
    required = [k for k in permit_props if k != "portrait_sha256"]
    offer = {"type": "object", "required": ["offer_id", "pre_authorized_code", "tx_code", "expires_at",
                                            "configuration_ids", "credential_offer_uri", "offer_uri", "pickup_url"],
             "properties": {"offer_id": _S, "pre_authorized_code": _S, "tx_code": _S, "expires_at": _I,
                            "configuration_ids": {"type": "array", "items": _S}, "credential_offer_uri": _S,
                            "offer_uri": _S, "pickup_url": _S}}
    entry = {"type": "object", "required": ["seq", "time", "officer", "action", "record_id", "reason", "outcome",
                                            "prev_hash", "hash"],
             "properties": {"seq": _I, "time": _I, "officer": _S, "action": _S,
                            "record_id": {"type": ["string", "null"]}, "reason": _S,
                            "outcome": {"enum": ["ok", "denied", "refused"]}, "prev_hash": _S, "hash": _S}}
    officer = {"type": "object", "required": ["id", "name", "role", "districts", "disabled"],
               "properties": {"id": _S, "name": _S, "role": _S, "districts": {"type": "array", "items": _S},
                              "disabled": {"type": "boolean"}}}
    maybe = {"type": ["string", "null"]}
    resident_request = {
        "type": "object", "required": ["id", "kind", "state", "record_id", "district", "created_at", "updated_at",
                                       "message"],
        "properties": {"id": _S, "kind": {"enum": ["endorse", "lost", "address", "deregister"]},
                       "state": {"enum": ["submitted", "queued", "approved", "denied", "done"]},
                       "record_id": _S, "district": _S, "created_at": _I, "updated_at": _I, "address": maybe,
                       "new_district": maybe, "queued_because": maybe, "decided_by": maybe, "reason": maybe,
                       "new_record_id": maybe,
                       "message": {"type": "object", "required": ["zh", "en"],
                                   "properties": {"zh": _S, "en": _S}}}}
    return {
        "Error": {"type": "object", "required": ["error", "error_description"],
                  "properties": {"error": {"type": "string", "examples": ERROR_CODES}, "error_description": _S,
                                 "error_description_zh": _S, "field": _S}},
        "Application": {"type": "object", "required": required, "additionalProperties": False,
                        "properties": {**permit_props, "override_reason": {
                            "type": "string", "description": "a supervisor's override of the registration period"}}},
        "Record": {"type": "object", "required": ["id", "state", "type", "district", "document_number",
                                                  "created_at", "updated_at", "permit"],
                   "properties": {"id": _S, "state": {"enum": ["active", "suspended", "revoked"]}, "type": _S,
                                  "district": _S, "document_number": _S, "created_at": _I, "updated_at": _I,
                                  "permit": {"type": "object"}}},
        "Offer": offer,
        "OfferRequest": {"type": "object", "properties": {"pending": {"type": "boolean"}}},
        "Reason": {"type": "object", "required": ["reason_code"],
                   "properties": {"reason_code": {"enum": list(REASON_CODES)},
                                  "reason": {"type": "string", "maxLength": 160}}},
        "FreeReason": {"type": "object", "required": ["reason"], "properties": {"reason": _S}},
        "Endorsed": {"type": "object", "required": ["record", "offer"],
                     "properties": {"record": _ref("Record"), "offer": _ref("Offer")}},
        "Redelivered": {"type": "object", "required": ["retired", "offer"],
                        "properties": {"retired": {"type": "array", "items": {
                            "type": "object", "required": ["list", "idx"], "properties": {"list": _I, "idx": _I}}},
                            "offer": _ref("Offer")}},
        "AuditPage": {"type": "object", "required": ["entries", "next"],
                      "properties": {"entries": {"type": "array", "items": entry},
                                     "next": {"type": ["integer", "string", "null"],
                                              "description": "read on with after= (or before=) this: a seq on "
                                                             "a one-shard store, SEQ,CHAIN:SEQ,... (a seq per "
                                                             "audit chain) on a sharded one"}}},
        "Officer": officer,
        "OfficerList": {"type": "object", "required": ["officers"],
                        "properties": {"officers": {"type": "array", "items": officer}}},
        "NewOfficer": {"type": "object", "required": ["id", "name", "role", "districts"],
                       "additionalProperties": False,
                       "properties": {"id": _S, "name": _S, "role": {"enum": list(_ADMIN_ROLES)},
                                      "districts": {"type": "array", "items": _S}}},
        "OfficerChange": {"type": "object", "minProperties": 1, "additionalProperties": False,
                          "properties": {"name": _S, "role": {"enum": list(_ADMIN_ROLES)},
                                         "districts": {"type": "array", "items": _S}}},
        "OfficerChanged": {"type": "object", "required": ["officer", "tokens_revoked"],
                           "properties": {"officer": officer, "tokens_revoked": _I}},
        "TokenRequest": {"type": "object", "properties": {"ttl_days": _I}},
        "Token": {"type": "object", "required": ["officer", "token", "ttl_days"],
                  "properties": {"officer": _S, "token": _S, "ttl_days": _I}},
        "ResidentRequest": resident_request,
        "ResidentRequestList": {"type": "object", "required": ["requests"],
                                "properties": {"requests": {"type": "array", "items": resident_request}}},
        "PortraitKept": {"type": "object", "required": ["record", "portrait", "retired"],
                         "properties": {"record": _ref("Record"),
                                        "portrait": {"type": "object", "required": ["media_type", "sha256"],
                                                     "properties": {"media_type": _S, "sha256": _S}},
                                        "retired": {"type": "array", "items": {
                                            "type": "object", "required": ["list", "idx"],
                                            "properties": {"list": _I, "idx": _I}}}}},
        "Revoked": {"type": "object", "required": ["officer", "revoked"], "properties": {"officer": _S, "revoked": _I}},
    }


def openapi_document() -> dict[str, Any]:
    v1 = "/api/v1"
    page = [{"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}]
    audit_filters = [
        {"name": "order", "in": "query", "schema": {"enum": ["oldest", "newest"]}},
        {"name": "before", "in": "query", "schema": {"type": "integer", "minimum": 1}},
        {"name": "record", "in": "query", "schema": {"type": "string", "minLength": 1, "maxLength": 200}},
        {"name": "officer", "in": "query", "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"}},
        {"name": "action", "in": "query", "schema": {"type": "string", "pattern": "^[a-z_]{1,64}$"}},
        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}},
        {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"}}]
    paths: dict[str, Any] = {
        f"{v1}/records": {"post": _op("Register an application (clerk; supervisor with override_reason)",
                                      (201, "Record"), body="Application")},
        f"{v1}/records/{{record_id}}": {"get": _op("Read a record", (200, "Record"), params=_ID)},
        f"{v1}/records/{{record_id}}/offers": {"post": _op(
            "Issue: create a pickup offer (issuing officer)", (201, "Offer"), params=_ID, body="OfferRequest",
            optional_body=True)},
        f"{v1}/records/{{record_id}}/approve": {"post": _op("Approve a pending application (supervisor)",
                                                            (200, "Record"), params=_ID)},
        f"{v1}/records/{{record_id}}/deny": {"post": _op("Deny a pending application (supervisor)",
                                                         (200, "Record"), params=_ID, body="FreeReason")},
        f"{v1}/records/{{record_id}}/endorse": {"post": _op(
            "Annual endorsement: new validity and a new offer (issuing officer)", (201, "Endorsed"), params=_ID)},
        f"{v1}/records/{{record_id}}/redeliver": {"post": _op(
            "Re-deliver to a new phone: the old credentials become INVALID (issuing officer)",
            (201, "Redelivered"), params=_ID, body="Reason")},
        f"{v1}/audit": {"get": _op(
            "Read the audit log: an auditor the entries of its districts' records and its own, a bureau_auditor "
            "every entry; read on with after=next, or with order=newest newest first (read on with "
            "before=next; next is null at the first entry); record, officer, action, since and until "
            "(Beijing days, inclusive) filter either", (200, "AuditPage"), query=[*page, *audit_filters])},
        f"{v1}/officers": {"get": _op("List officers (administrator)", (200, "OfficerList")),
                           "post": _op("Add an officer (administrator); an existing id is 409: change it",
                                       (201, "Officer"), body="NewOfficer")},
        f"{v1}/officers/{{officer_id}}/change": {"post": _op(
            "Change an officer's name, role or districts (administrator, not its own): revokes every token of "
            "the officer and ends its console sessions", (200, "OfficerChanged"), params=_OFFICER_ID,
            body="OfficerChange")},
        f"{v1}/officers/{{officer_id}}/disable": {"post": _op("Disable an officer", (200, "Officer"),
                                                              params=_OFFICER_ID)},
        f"{v1}/officers/{{officer_id}}/tokens": {"post": _op("Issue a token (shown once)", (201, "Token"),
                                                             params=_OFFICER_ID, body="TokenRequest",
                                                             optional_body=True)},
        f"{v1}/officers/{{officer_id}}/tokens/revoke": {"post": _op("Revoke every token of an officer",
                                                                    (200, "Revoked"), params=_OFFICER_ID)},
    }
    request_id = [{"name": "request_id", "in": "path", "required": True,
                   "schema": {"type": "string", "maxLength": 64}}]
    states = [{"name": "state", "in": "query", "schema": {
                  "enum": ["submitted", "queued", "approved", "denied", "done", "all"]}},
              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}]
    for path, method, operation_id, op in (
        ("requests", "get", "listResidentRequests", _op(
            "Residents' requests of the officer's districts, oldest first (clerk, issuing officer, supervisor)",
            (200, "ResidentRequestList"), query=states)),
        ("requests/{request_id}/approve", "post", "approveResidentRequest", _op(
            "Approve a queued request (endorse, lost phone: issuing officer; address change: clerk; "
            "deregistration: supervisor)", (200, "ResidentRequest"), params=request_id)),
        ("requests/{request_id}/deny", "post", "denyResidentRequest", _op(
            "Deny a queued request, with a reason", (200, "ResidentRequest"), params=request_id,
            body="FreeReason")),
    ):
        paths.setdefault(f"{v1}/{path}", {})[method] = {"operationId": operation_id, **op}
    put_portrait = _op("Take the holder's portrait from a photo (clerk): EXIF stripped, framed 4:5, kept as the "
                       "96x120 WebP the credentials carry; credentials delivered before are retired (an issuing "
                       "officer makes the new offer)", (200, "PortraitKept"), params=_ID)
    put_portrait["operationId"] = "putPortrait"
    put_portrait["requestBody"] = {"required": True, "content": {
        media: {"schema": {"type": "string", "format": "binary", "maxLength": 5 * 1024 * 1024}}
        for media in ("image/jpeg", "image/png")}}
    put_portrait["responses"]["415"] = {"description": "not a JPEG or PNG body", **_json(_ERROR)}
    get_portrait = _op("The portrait kept for a record, exactly as issued (officers of its district; audited)",
                       (200, "Record"), params=_ID)
    get_portrait["operationId"] = "getPortrait"
    get_portrait["responses"]["200"] = {"description": "the portrait file", "content": {
        "image/webp": {"schema": {"type": "string", "format": "binary"}}}}
    paths[f"{v1}/records/{{record_id}}/portrait"] = {"put": put_portrait, "get": get_portrait}
    for action, who in (("suspend", "supervisor"), ("lift", "supervisor"), ("revoke", "supervisor; final")):
        paths[f"{v1}/records/{{record_id}}/{action}"] = {"post": _op(
            f"{action.capitalize()} ({who}), with a reason code", (200, "Record"), params=_ID, body="Reason")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "epermit officer API", "version": "1",
                 "description": "Issuing officers: registration, issuance, endorsement, re-delivery, suspension, "
                                "revocation, audit. Bearer tokens from `epermit officers token`."},
        "paths": paths,
        "components": {"schemas": _schemas(),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
