"""The officer API's record routes (/api/v1/records, /api/v1/audit): register, issue, endorse, re-deliver,
approve or deny, suspend, lift, revoke, and read the audit trail. Each view is one desk call."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from credential.model import Permit
from issuer.audit_cursor import AuditCursor
from issuer.audit_search import filter_from_query
from issuer.errors import InvalidRequestError
from issuer.http import metrics
from issuer.http.context import (
    body_free_text_reason,
    body_reason,
    current_officer,
    json_body,
    officer_context,
    query_int,
)
from issuer.model import AuditEntry, Offer, Record, offer_uri, offer_url, pickup_url

bp = Blueprint("officer_api", __name__, url_prefix="/api/v1")


def record_json(record: Record) -> dict[str, Any]:
    permit = record.permit
    return {
        "id": record.id, "state": record.state.value, "type": permit.type.slug, "district": permit.district,
        "document_number": permit.document_number, "created_at": record.created_at,
        "updated_at": record.updated_at, "permit": permit.to_dict(),
    }


def offer_json(offer: Offer, public_url: str) -> dict[str, Any]:
    return {
        "offer_id": offer.offer_id, "pre_authorized_code": offer.pre_authorized_code, "tx_code": offer.tx_code,
        "expires_at": offer.expires_at, "configuration_ids": list(offer.configuration_ids),
        "credential_offer_uri": offer_url(public_url, offer.offer_id),
        "offer_uri": offer_uri(public_url, offer.offer_id),
        "pickup_url": pickup_url(public_url, offer.offer_id),  # what a pickup sheet's QR and an SMS carry
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {"seq": entry.seq, "time": entry.time, "officer": entry.officer, "action": entry.action,
            "record_id": entry.record_id, "reason": entry.reason, "outcome": entry.outcome,
            "prev_hash": entry.prev_hash, "hash": entry.hash}


@bp.post("/records")
def register() -> tuple[Response, int]:
    who = current_officer()
    given = json_body()
    override = given.pop("override_reason", None)
    if override is not None and not isinstance(override, str):
        raise InvalidRequestError("override_reason must be text")
    permit = Permit.from_dict(given)
    return jsonify(record_json(officer_context().desk.register(who, permit, override_reason=override))), 201


@bp.get("/records/<record_id>")
def get_record(record_id: str) -> Response:
    return jsonify(record_json(officer_context().desk.get_record(current_officer(), record_id)))


@bp.post("/records/<record_id>/offers")
def create_offer(record_id: str) -> tuple[Response, int]:
    who = current_officer()
    # Optional body {"pending": true}: the application awaits approval; the wallet is deferred until then.
    pending = json_body(optional=True).get("pending", False)
    if not isinstance(pending, bool):
        raise InvalidRequestError("pending must be a boolean")
    context = officer_context()
    return jsonify(offer_json(context.desk.create_offer(who, record_id, pending=pending), context.public_url)), 201


@bp.post("/records/<record_id>/approve")
def approve(record_id: str) -> Response:
    return jsonify(record_json(officer_context().desk.approve(current_officer(), record_id)))


@bp.post("/records/<record_id>/deny")
def deny(record_id: str) -> Response:
    who = current_officer()
    return jsonify(record_json(officer_context().desk.deny(who, record_id, body_free_text_reason())))


@bp.post("/records/<record_id>/endorse")
def endorse(record_id: str) -> tuple[Response, int]:
    context = officer_context()
    record, offer = context.desk.endorse(current_officer(), record_id)
    return jsonify({"record": record_json(record), "offer": offer_json(offer, context.public_url)}), 201


@bp.post("/records/<record_id>/redeliver")
def redeliver(record_id: str) -> tuple[Response, int]:
    who = current_officer()
    context = officer_context()
    retired, offer = context.desk.redeliver(who, record_id, body_reason())
    return jsonify({"retired": [{"list": n, "idx": i} for n, i in retired],
                    "offer": offer_json(offer, context.public_url)}), 201


@bp.post("/records/<record_id>/suspend")
def suspend(record_id: str) -> Response:
    who = current_officer()
    return jsonify(record_json(officer_context().desk.suspend(who, record_id, body_reason())))


@bp.post("/records/<record_id>/lift")
def lift(record_id: str) -> Response:
    who = current_officer()
    return jsonify(record_json(officer_context().desk.lift(who, record_id, body_reason())))


@bp.post("/records/<record_id>/revoke")
def revoke(record_id: str) -> Response:
    who = current_officer()
    revoked = officer_context().desk.revoke(who, record_id, body_reason())
    metrics.REVOCATIONS.inc()
    return jsonify(record_json(revoked))


@bp.get("/audit")
def audit() -> Response:
    """Oldest first from ``after`` (the default), or ``order=newest`` from ``before`` down (the console's
    auditor page); ``record``, ``officer``, ``action``, ``since`` and ``until`` filter both. ``after`` and
    ``before`` are a page's ``next``: a seq on a one-shard store, a seq per chain on a sharded one
    (issuer.audit_cursor)."""
    who = current_officer()
    limit = query_int("limit", 100, low=1, high=1000)
    args = {name: value for name, value in request.args.items() if isinstance(value, str)}
    wanted = filter_from_query(args)
    order = args.get("order", "oldest")
    if order == "newest":
        before = AuditCursor.parse(args["before"]) if "before" in args else None
        if before is not None and (not before.seqs or any(seq < 1 for _, seq in before.seqs)):
            raise InvalidRequestError("before must be a page's next (seqs from 1)")
        newest = officer_context().desk.audit_search(who, wanted, before=before, limit=min(limit, 500))
        return jsonify({"entries": [audit_json(e) for e in newest.entries],
                        "next": None if newest.next is None else newest.next.json()})
    if order != "oldest":
        raise InvalidRequestError("order must be oldest or newest")
    after = AuditCursor.parse(args.get("after", "0"))
    page = officer_context().desk.audit_entries(who, after=after, limit=limit, wanted=wanted)
    return jsonify({"entries": [audit_json(e) for e in page.entries], "next": page.next.json()})
