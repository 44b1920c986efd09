"""The officer API through Flask's test client: auth, roles, districts, bad input, never a 500."""

from __future__ import annotations

import datetime
import json
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credential.model import CredentialType
from credential.samples import sample_permit
from issuer.audit_cursor import AuditCursor
from issuer.http.app import create_app
from issuer.http.context import OfficerApiSettings
from issuer.model import Officer, RecordState, Role
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from tests.conftest import FakeClock

from .conftest import PUBLIC_URL

OFFICERS = {
    "clerk": Officer("clerk", "柜员", Role.CLERK, ("110105",)),
    "issuer": Officer("issuer", "民警", Role.ISSUING_OFFICER, ("110105",)),
    "sup": Officer("sup", "所长", Role.SUPERVISOR, ("110105",)),
    "sup_sh": Officer("sup_sh", "上海所长", Role.SUPERVISOR, ("310101",)),
    "issuer_sh": Officer("issuer_sh", "上海民警", Role.ISSUING_OFFICER, ("310101",)),
    "auditor": Officer("auditor", "审计", Role.AUDITOR, ("110105",)),
    "auditor_sh": Officer("auditor_sh", "上海审计", Role.AUDITOR, ("310101",)),
    "bureau": Officer("bureau", "督察", Role.BUREAU_AUDITOR, ()),
    "admin": Officer("admin", "管理员", Role.ADMIN, ("110105",)),
    "gone": Officer("gone", "离职", Role.ADMIN, ("110105",)),
}


@pytest.fixture
def app(service: IssuerService) -> Flask:
    return create_app(OfficerApiSettings(max_body_bytes=8 * 1024), service)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def tokens(service: IssuerService, clock: FakeClock) -> dict[str, str]:
    registry = OfficerRegistry(service.store, keyed=service.keyed, clock=clock)
    issued = {}
    for officer in OFFICERS.values():
        registry.put(officer)
        issued[officer.id] = registry.issue_token(officer.id, ttl=3600)
    registry.disable("gone")
    return issued


def auth(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


CARD = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=datetime.date(2025, 11, 1),
                     valid_until=datetime.date(2026, 10, 31), document_number="DJK-110105-2025-000001")


@pytest.fixture(autouse=True)
def registration_card(service: IssuerService) -> None:
    """张伟 holds a registration card since 2025-11-01: 6 months before T0, so a permit may be registered."""
    service.register(CARD, officer="seed")


def register(client: FlaskClient, tokens: dict[str, str], who: str = "clerk") -> dict[str, Any]:
    response = client.post("/api/v1/records", json=sample_permit().to_dict(), headers=auth(tokens, who))
    assert response.status_code == 201, response.json
    body = response.json
    assert isinstance(body, dict)
    return body


def js(response: Any) -> Any:
    return response.get_json()


def assert_error(response: Any, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.json
    assert body["error"] == error and isinstance(body["error_description"], str)
    return body  # type: ignore[no-any-return]


def test_register_and_read_a_record(client: FlaskClient, tokens: dict[str, str]) -> None:
    body = register(client, tokens)
    assert body["state"] == "active" and body["type"] == "residence_permit" and body["district"] == "110105"
    assert body["permit"] == sample_permit().to_dict()
    got = client.get(f"/api/v1/records/{body['id']}", headers=auth(tokens, "issuer"))
    assert got.status_code == 200 and got.json == body
    assert got.headers["Cache-Control"] == "no-store"


def test_create_offer(client: FlaskClient, tokens: dict[str, str], service: IssuerService) -> None:
    record = register(client, tokens)
    response = client.post(f"/api/v1/records/{record['id']}/offers", headers=auth(tokens, "issuer"))
    assert response.status_code == 201
    offer = js(response)
    assert offer["credential_offer_uri"] == f"{PUBLIC_URL}/offers/{offer['offer_id']}"
    assert offer["offer_uri"] == (
        "openid-credential-offer://?credential_offer_uri=" + quote(offer["credential_offer_uri"], safe="")
    )
    assert offer["pickup_url"] == f"{PUBLIC_URL}/pickup/{offer['offer_id']}"  # what the sheet's QR holds
    assert offer["tx_code"] not in offer["pickup_url"] + offer["offer_uri"]
    assert len(offer["tx_code"]) == 6
    assert service.redeem(offer["pre_authorized_code"], offer["tx_code"])


def test_suspend_lift_revoke(client: FlaskClient, tokens: dict[str, str]) -> None:
    record_id = register(client, tokens)["id"]
    for action, state in (("suspend", "suspended"), ("lift", "active"), ("revoke", "revoked")):
        response = client.post(f"/api/v1/records/{record_id}/{action}",
                               json={"reason_code": "OTHER", "reason": "检查"}, headers=auth(tokens, "sup"))
        assert response.status_code == 200 and js(response)["state"] == state
    again = client.post(f"/api/v1/records/{record_id}/revoke", json={"reason_code": "FRAUD"},
                        headers=auth(tokens, "sup"))
    assert_error(again, 409, "conflict")
    undo = client.post(f"/api/v1/records/{record_id}/lift", json={"reason_code": "ADMIN_ERROR"},
                       headers=auth(tokens, "sup"))
    assert_error(undo, 409, "conflict")


@pytest.mark.parametrize("body", [{}, {"reason": "x"}, {"reason_code": "LOST", "reason": 5},
                                  {"reason_code": "OTHER"}, {"reason_code": "OTHER", "reason": "  "},
                                  {"reason_code": "lost"}, {"reason_code": None}, {"reason_code": "LOST", "reason": "x" * 161},
                                  {"reason_code": "LOST", "reason": "a\nb"}])
def test_a_reason_is_required(client: FlaskClient, tokens: dict[str, str], body: dict[str, Any],
                              service: IssuerService) -> None:
    record_id = register(client, tokens)["id"]
    response = client.post(f"/api/v1/records/{record_id}/revoke", json=body, headers=auth(tokens, "sup"))
    assert_error(response, 400, "invalid_request")
    assert service.get_record(record_id).state is RecordState.ACTIVE


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer wrong-token",
                                    "Bearer " + "x" * 5000])
def test_authentication_is_required(client: FlaskClient, tokens: dict[str, str], header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.post("/api/v1/records", json=sample_permit().to_dict(), headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_disabled_officers_and_expired_tokens_are_refused(
    client: FlaskClient, tokens: dict[str, str], clock: FakeClock
) -> None:
    assert_error(client.get("/api/v1/audit", headers=auth(tokens, "gone")), 401, "unauthorized")
    clock.advance(3600)
    assert_error(client.get("/api/v1/audit", headers=auth(tokens, "auditor")), 401, "unauthorized")


@pytest.mark.parametrize(("who", "method", "path"), [
    ("auditor", "post", "/api/v1/records"),
    ("clerk", "post", "/api/v1/records/{id}/offers"),
    ("clerk", "post", "/api/v1/records/{id}/revoke"),
    ("issuer", "post", "/api/v1/records/{id}/suspend"),
    ("auditor", "post", "/api/v1/records/{id}/lift"),
    ("sup", "get", "/api/v1/audit"),
    ("clerk", "get", "/api/v1/audit"),
])
def test_roles_are_enforced(client: FlaskClient, tokens: dict[str, str], service: IssuerService,
                            who: str, method: str, path: str) -> None:
    record_id = register(client, tokens)["id"]
    kwargs: dict[str, Any] = {"headers": auth(tokens, who)}
    kwargs["json"] = sample_permit().to_dict() if path.endswith("records") else {"reason_code": "LOST"}
    response = getattr(client, method)(path.format(id=record_id), **kwargs)
    assert_error(response, 403, "forbidden")
    assert service.get_record(record_id).state is RecordState.ACTIVE
    assert service.audit.list(limit=1000)[-1].outcome == "denied"


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "/offers"), ("post", "/revoke"),
                                                 ("post", "/suspend")])
def test_another_district_looks_like_a_missing_record(
    client: FlaskClient, tokens: dict[str, str], service: IssuerService, method: str, suffix: str
) -> None:
    record_id = register(client, tokens)["id"]
    who = "issuer_sh" if suffix == "/offers" else "sup_sh"
    response = getattr(client, method)(f"/api/v1/records/{record_id}{suffix}", json={"reason_code": "LOST"},
                                       headers=auth(tokens, who))
    missing = getattr(client, method)(f"/api/v1/records/nope{suffix}", json={"reason_code": "LOST"},
                                      headers=auth(tokens, who))
    assert_error(response, 404, "not_found")
    assert response.json == missing.json
    assert service.get_record(record_id).state is RecordState.ACTIVE
    denied = service.audit.list(limit=1000)[-1]
    assert (denied.officer, denied.outcome, denied.record_id) == (who, "denied", record_id)


def test_registering_in_another_district_is_forbidden(client: FlaskClient, tokens: dict[str, str],
                                                      service: IssuerService) -> None:
    clerk = Officer("clerk_sh", "上海柜员", Role.CLERK, ("310101",))
    OfficerRegistry(service.store).put(clerk)
    token = OfficerRegistry(service.store, keyed=service.keyed, clock=service.clock).issue_token(clerk.id, ttl=60)
    response = client.post("/api/v1/records", json=sample_permit().to_dict(), headers={"Authorization": f"Bearer {token}"})
    assert_error(response, 403, "forbidden")


def test_audit_listing(client: FlaskClient, tokens: dict[str, str]) -> None:
    register(client, tokens)
    response = client.get("/api/v1/audit?limit=1", headers=auth(tokens, "auditor"))
    assert response.status_code == 200
    entries = js(response)["entries"]
    assert [e["action"] for e in entries] == ["register"] and entries[0]["officer"] == "seed"
    after = client.get(f"/api/v1/audit?after={js(response)['next']}", headers=auth(tokens, "auditor"))
    rest = js(after)["entries"]
    assert [(e["officer"], e["action"], e["outcome"]) for e in rest] == [("clerk", "register", "ok")]
    assert rest[0]["prev_hash"] == entries[0]["hash"] and rest[0]["reason"] == "residence_permit"
    for bad in ("limit=0", "limit=abc", "after=-1", "limit=100000"):
        assert_error(client.get(f"/api/v1/audit?{bad}", headers=auth(tokens, "auditor")), 400, "invalid_request")


def test_an_auditor_of_another_district_reads_none_of_these_records(client: FlaskClient, tokens: dict[str, str],
                                                                    service: IssuerService) -> None:
    record_id = register(client, tokens)["id"]
    client.post(f"/api/v1/records/{record_id}/suspend", json={"reason_code": "LOST"}, headers=auth(tokens, "sup"))
    assert client.post("/api/v1/officers/clerk/tokens", headers=auth(tokens, "admin")).status_code == 201
    shanghai = js(client.get("/api/v1/audit", headers=auth(tokens, "auditor_sh")))
    assert shanghai["entries"] == [] and shanghai["next"] == service.audit.heads().json()  # looked at them all
    beijing = js(client.get("/api/v1/audit", headers=auth(tokens, "auditor")))["entries"]
    assert [e["action"] for e in beijing] == ["register", "register", "suspend"]
    everything = js(client.get("/api/v1/audit", headers=auth(tokens, "bureau")))["entries"]
    assert len(everything) == len(service.audit.list(limit=1000)) > len(beijing)


def test_the_audit_endpoint_filters_and_reads_newest_first(client: FlaskClient, tokens: dict[str, str],
                                                           service: IssuerService) -> None:
    record_id = register(client, tokens)["id"]
    client.post(f"/api/v1/records/{record_id}/suspend", json={"reason_code": "LOST"}, headers=auth(tokens, "sup"))
    client.post(f"/api/v1/records/{record_id}/lift", json={"reason_code": "RESOLVED"}, headers=auth(tokens, "sup"))
    everything = service.audit.list(limit=1000)

    def read(query: str, who: str = "auditor") -> dict[str, Any]:
        response = client.get(f"/api/v1/audit?{query}", headers=auth(tokens, who))
        assert response.status_code == 200, response.get_data(as_text=True)
        return js(response)

    # Entries by their hashes: a seq is unique only within its chain (a sharded store has one per district).
    mine = [e.hash for e in everything if e.record_id == record_id]
    assert [e["hash"] for e in read(f"record={record_id}")["entries"]] == mine
    assert [e["hash"] for e in read(f"record={record_id}&order=newest")["entries"]] == mine[::-1]
    assert [e["action"] for e in read("officer=sup")["entries"]] == ["suspend", "lift"]
    assert [e["action"] for e in read("action=lift&order=newest")["entries"]] == ["lift"]
    newest = read("order=newest&limit=2")
    assert [e["hash"] for e in newest["entries"]] == mine[::-1][:2]
    older = [e["hash"] for e in read("")["entries"]][::-1]  # the auditor's: its district's records (all here)
    assert [e["hash"] for e in read(f"order=newest&before={newest['next']}")["entries"]] == \
        older[older.index(mine[-2]) + 1:]
    start = AuditCursor.of({chain: 1 for chain in service.store.audit_chains()})  # every chain's first entry
    assert read(f"order=newest&before={start}")["next"] is None
    day = datetime.datetime.fromtimestamp(everything[0].time, datetime.timezone(datetime.timedelta(hours=8))).date()
    assert len(read(f"since={day}&until={day}")["entries"]) == len(read("")["entries"])
    assert read(f"until={day - datetime.timedelta(days=1)}")["entries"] == []
    assert read(f"record={record_id}", who="auditor_sh")["entries"] == []  # another district: nothing
    for bad in ("order=sideways", "since=2026-02-30", "since=20260501", "officer=a%20b", "action=DROP%20TABLE",
                "order=newest&before=0", "since=2026-05-02&until=2026-05-01"):
        assert_error(client.get(f"/api/v1/audit?{bad}", headers=auth(tokens, "auditor")), 400, "invalid_request")


def test_adding_an_existing_officer_changes_nothing(client: FlaskClient, tokens: dict[str, str],
                                                   service: IssuerService) -> None:
    record_id = register(client, tokens)["id"]
    for who, role in (("clerk", "supervisor"), ("admin", "auditor"), ("sup_sh", "clerk")):
        again = client.post("/api/v1/officers", json={"id": who, "name": "x", "role": role, "districts": ["110105"]},
                            headers=auth(tokens, "admin"))
        assert_error(again, 409, "conflict")
        assert service.store.get_officer(who) == OFFICERS[who]
        assert service.audit.list(limit=1000)[-1].outcome == "refused"
    # The clerk's old token still may not suspend.
    refused = client.post(f"/api/v1/records/{record_id}/suspend", json={"reason_code": "LOST"},
                          headers=auth(tokens, "clerk"))
    assert_error(refused, 403, "forbidden")
    assert service.get_record(record_id).state is RecordState.ACTIVE


def test_a_change_is_audited_and_revokes_the_officers_tokens(client: FlaskClient, tokens: dict[str, str],
                                                             service: IssuerService) -> None:
    changed = client.post("/api/v1/officers/clerk/change", json={"role": "supervisor"}, headers=auth(tokens, "admin"))
    assert changed.status_code == 200, changed.json
    assert js(changed) == {"officer": {"id": "clerk", "name": "柜员", "role": "supervisor", "districts": ["110105"],
                                       "disabled": False}, "tokens_revoked": 1}
    entry = service.audit.list(limit=1000)[-1]
    assert (entry.officer, entry.action, entry.reason) == ("admin", "officer_change",
                                                           "clerk role clerk->supervisor; 1 token(s) revoked")
    assert_error(client.get("/api/v1/records/x", headers=auth(tokens, "clerk")), 401, "unauthorized")


@pytest.mark.parametrize(("target", "body", "status"), [
    ("admin", {"role": "supervisor"}, 403),  # its own role
    ("admin", {"districts": ["110105"], "name": "新名"}, 403),  # itself at all
    ("clerk", {"role": "bureau_auditor"}, 403),
    ("clerk", {"districts": ["110105", "310101"]}, 403),
    ("sup_sh", {"role": "clerk"}, 404),  # another district's officer: as if missing
    ("nobody", {"role": "clerk"}, 404),
    ("clerk", {}, 400), ("clerk", {"role": "clerk"}, 400), ("clerk", {"role": "chief"}, 400),
    ("clerk", {"disabled": True}, 400), ("clerk", {"districts": []}, 400), ("clerk", {"name": "柜\u202e员"}, 400),
])
def test_changes_an_administrator_may_not_make(client: FlaskClient, tokens: dict[str, str], service: IssuerService,
                                               target: str, body: dict[str, Any], status: int) -> None:
    response = client.post(f"/api/v1/officers/{target}/change", json=body, headers=auth(tokens, "admin"))
    assert response.status_code == status, response.json
    assert [service.store.get_officer(o.id) for o in OFFICERS.values() if o.id != "gone"] == \
        [o for o in OFFICERS.values() if o.id != "gone"]
    assert client.get("/api/v1/records/x", headers=auth(tokens, "clerk")).status_code == 404  # token still live
    if status == 403:
        assert service.audit.list(limit=1000)[-1].outcome == "denied"
    if status != 400:
        others = client.post(f"/api/v1/officers/{target}/change", json=body, headers=auth(tokens, "sup"))
        assert_error(others, 403, "forbidden")


@pytest.mark.parametrize("data", [b"{", b"[]", b'"x"', b"", b'{"a":1,"a":2}', b"\xff\xfe", b"NaN",
                                  b"[" * 100 + b"]" * 100])
def test_malformed_bodies_are_400(client: FlaskClient, tokens: dict[str, str], data: bytes) -> None:
    response = client.post("/api/v1/records", data=data, content_type="application/json",
                           headers=auth(tokens, "clerk"))
    assert_error(response, 400, "invalid_request")


def test_invalid_applications_name_the_field(client: FlaskClient, tokens: dict[str, str]) -> None:
    permit = sample_permit().to_dict()
    permit["citizen_id"] = permit["citizen_id"][:-1] + ("0" if permit["citizen_id"][-1] != "0" else "1")
    response = client.post("/api/v1/records", json=permit, headers=auth(tokens, "clerk"))
    body = assert_error(response, 400, "invalid_application")
    assert body["field"] == "citizen_id"


def test_oversized_bodies_are_413(client: FlaskClient, tokens: dict[str, str]) -> None:
    big = json.dumps({"reason": "x" * 10_000}).encode()
    response = client.post("/api/v1/records", data=big, content_type="application/json",
                           headers=auth(tokens, "clerk"))
    assert_error(response, 413, "request_too_large")


def test_unknown_routes_and_methods_are_json(client: FlaskClient, tokens: dict[str, str]) -> None:
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.delete("/api/v1/records", headers=auth(tokens, "admin")), 405, "method_not_allowed")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=20,
)
permit_like = st.fixed_dictionaries({}, optional={k: json_values for k in sample_permit().to_dict()})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | permit_like, path=st.sampled_from(["/api/v1/records", "/api/v1/records/{id}/revoke",
                                                              "/api/v1/records/{id}/offers"]))
def test_no_json_body_produces_a_500(client: FlaskClient, tokens: dict[str, str], body: Any, path: str) -> None:
    response = client.post(path.format(id="some-id"), data=json.dumps(body), content_type="application/json",
                           headers=auth(tokens, "clerk"))
    assert response.status_code in (201, 400, 403, 404, 409), response.json
    assert js(response)["error"] if response.status_code >= 400 else True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), record_id=st.text(min_size=1, max_size=80).filter(lambda s: "/" not in s))
def test_no_raw_body_or_id_produces_a_500(client: FlaskClient, tokens: dict[str, str], data: bytes,
                                           record_id: str) -> None:
    for path in ("/api/v1/records", f"/api/v1/records/{quote(record_id, safe='')}/suspend"):
        response = client.post(path, data=data, headers=auth(tokens, "admin"))
        assert 400 <= response.status_code < 500 and response.mimetype == "application/json"
