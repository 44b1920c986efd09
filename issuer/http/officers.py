"""The administrator's routes of the officer API: list, add, change, disable officers; issue and revoke tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from issuer.errors import InvalidRequestError
from issuer.http.context import current_officer, json_body, officer_context
from issuer.model import Officer

bp = Blueprint("officer_admin_api", __name__, url_prefix="/api/v1")

DAY = 86400
MAX_TOKEN_DAYS = 3650


def officer_json(officer: Officer) -> dict[str, Any]:
    return {"id": officer.id, "name": officer.name, "role": officer.role.value,
            "districts": list(officer.districts), "disabled": officer.disabled}


@bp.get("/officers")
def list_officers() -> Response:
    return jsonify({"officers": [officer_json(o) for o in officer_context().desk.list_officers(current_officer())]})


@bp.post("/officers")
def add_officer() -> tuple[Response, int]:
    admin = current_officer()
    given = json_body()
    officer_id, name, role, districts = (given.get(k) for k in ("id", "name", "role", "districts"))
    if not (isinstance(officer_id, str) and isinstance(name, str) and isinstance(role, str)
            and isinstance(districts, list) and all(isinstance(d, str) for d in districts)
            and 0 < len(districts) <= 50):
        raise InvalidRequestError("id, name, role (text) and districts (1-50 codes) are required")
    if set(given) - {"id", "name", "role", "districts"}:
        raise InvalidRequestError("unknown field")
    added = officer_context().desk.add_officer(admin, officer_id, name=name, role=role, districts=districts)
    return jsonify(officer_json(added)), 201


def _districts(value: Any) -> list[str]:
    if not (isinstance(value, list) and all(isinstance(d, str) for d in value) and 0 < len(value) <= 50):
        raise InvalidRequestError("districts must be a list of 1-50 codes")
    return value


@bp.post("/officers/<officer_id>/change")
def change_officer(officer_id: str) -> Response:
    """A new name, role or districts (any of them): the officer's tokens are revoked, its sessions end."""
    admin = current_officer()
    given = json_body()
    if not given or set(given) - {"name", "role", "districts"}:
        raise InvalidRequestError("give one or more of name, role, districts (and nothing else)")
    name, role = given.get("name"), given.get("role")
    if not all(value is None or isinstance(value, str) for value in (name, role)):
        raise InvalidRequestError("name and role are text")
    districts = _districts(given["districts"]) if "districts" in given else None
    change = officer_context().desk.change_officer(admin, officer_id, name=name, role=role, districts=districts)
    return jsonify({"officer": officer_json(change.after), "tokens_revoked": change.tokens_revoked})


@bp.post("/officers/<officer_id>/disable")
def disable_officer(officer_id: str) -> Response:
    return jsonify(officer_json(officer_context().desk.disable_officer(current_officer(), officer_id)))


@bp.post("/officers/<officer_id>/tokens")
def issue_token(officer_id: str) -> tuple[Response, int]:
    admin = current_officer()
    days = json_body(optional=True).get("ttl_days", 90)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= MAX_TOKEN_DAYS:
        raise InvalidRequestError(f"ttl_days must be an integer in [1, {MAX_TOKEN_DAYS}]")
    token = officer_context().desk.issue_token(admin, officer_id, ttl=days * DAY)
    return jsonify({"officer": officer_id, "token": token, "ttl_days": days}), 201


@bp.post("/officers/<officer_id>/tokens/revoke")
def revoke_tokens(officer_id: str) -> Response:
    return jsonify({"officer": officer_id, "revoked": officer_context().desk.revoke_tokens(current_officer(), officer_id)})
