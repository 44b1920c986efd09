"""putPortrait / getPortrait: roles, districts (another district's record is a 404 like a missing one), bad
bodies, and exactly the issued bytes back."""

from __future__ import annotations

import hashlib

from flask.testing import FlaskClient

from credential.portrait import media_type_of
from issuer.service import IssuerService
from tests.portrait_support import encoded, source_image

from . import test_api
from .test_api import auth, register

# The officer API's fixtures (an app over the parametrised store, officer tokens, 张伟's registration card).
app, client, tokens, registration_card = test_api.app, test_api.client, test_api.tokens, test_api.registration_card

PHOTO = encoded(source_image(), "JPEG", quality=90)


def put(client: FlaskClient, tokens: dict[str, str], record_id: str, body: bytes = PHOTO, *, who: str = "clerk",
        content_type: str = "image/jpeg") -> object:
    return client.put(f"/api/v1/records/{record_id}/portrait", data=body, content_type=content_type,
                      headers=auth(tokens, who))


def test_a_clerk_puts_a_portrait_and_officers_of_the_district_get_exactly_the_issued_bytes(
        client: FlaskClient, tokens: dict[str, str], service: IssuerService) -> None:
    record = register(client, tokens)
    response = put(client, tokens, record["id"])
    assert response.status_code == 200, response.json  # type: ignore[attr-defined]
    body = response.json  # type: ignore[attr-defined]
    assert body["retired"] == [] and body["portrait"]["media_type"] == "image/webp"
    assert body["record"]["permit"]["portrait_sha256"] == body["portrait"]["sha256"]
    for who in ("clerk", "issuer", "sup"):
        got = client.get(f"/api/v1/records/{record['id']}/portrait", headers=auth(tokens, who))
        assert got.status_code == 200 and got.mimetype == "image/webp"
        assert hashlib.sha256(got.data).hexdigest() == body["portrait"]["sha256"]
        assert media_type_of(got.data) == "image/webp"
    reads = [e for e in service.audit.list(limit=1000) if e.action == "read_portrait"]
    assert [e.officer for e in reads] == ["clerk", "issuer", "sup"]


def test_another_districts_officer_gets_the_404_of_a_missing_record(client: FlaskClient,
                                                                    tokens: dict[str, str]) -> None:
    record = register(client, tokens)
    assert put(client, tokens, record["id"]).status_code == 200  # type: ignore[attr-defined]
    for who in ("sup_sh", "issuer_sh"):
        other = client.get(f"/api/v1/records/{record['id']}/portrait", headers=auth(tokens, who))
        missing = client.get("/api/v1/records/no-such-record/portrait", headers=auth(tokens, who))
        assert other.status_code == missing.status_code == 404
        assert other.json == missing.json
        assert other.data != b"" and b"WEBP" not in other.data


def test_roles_that_may_not(client: FlaskClient, tokens: dict[str, str]) -> None:
    record = register(client, tokens)
    for who in ("issuer", "sup", "auditor", "admin"):
        assert put(client, tokens, record["id"], who=who).status_code == 403  # type: ignore[attr-defined]
    assert put(client, tokens, record["id"]).status_code == 200  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/records/{record['id']}/portrait",
                      headers=auth(tokens, "auditor")).status_code == 403
    no_token = client.put(f"/api/v1/records/{record['id']}/portrait", data=PHOTO, content_type="image/jpeg")
    assert no_token.status_code == 401


def test_bad_bodies_are_refused_and_change_nothing(client: FlaskClient, tokens: dict[str, str]) -> None:
    record = register(client, tokens)
    assert put(client, tokens, record["id"], content_type="image/gif").status_code == 415  # type: ignore[attr-defined]
    refused = put(client, tokens, record["id"], b"\xff\xd8\xff broken")
    assert refused.status_code == 400 and refused.json["error"] == "invalid_portrait"  # type: ignore[attr-defined]
    too_big = put(client, tokens, record["id"], b"\xff\xd8\xff" + bytes(6 * 1024 * 1024))
    assert too_big.status_code == 413  # type: ignore[attr-defined]
    assert client.get(f"/api/v1/records/{record['id']}/portrait", headers=auth(tokens, "clerk")).status_code == 404
    again = client.get(f"/api/v1/records/{record['id']}", headers=auth(tokens, "clerk")).json
    assert again is not None and again["permit"]["portrait_sha256"] is None


def test_a_camera_sized_photo_passes_the_photo_routes_cap(client: FlaskClient, tokens: dict[str, str]) -> None:
    record = register(client, tokens)
    big = encoded(source_image().resize((1600, 2000)), "PNG")
    assert 1024 * 1024 < len(big) < 5 * 1024 * 1024
    response = put(client, tokens, record["id"], big, content_type="image/png")
    assert response.status_code == 200, response.json  # type: ignore[attr-defined]


def test_other_routes_keep_the_small_body_cap(client: FlaskClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/v1/records", data=b"{" + b" " * (64 * 1024) + b"}", content_type="application/json",
                           headers=auth(tokens, "clerk"))
    assert response.status_code == 413
