"""The officer API for operators: /healthz, /readyz (store, keys, lists), /metrics behind its token, and one
JSON log line per request with ids only (issuer.http.ops, issuer.http.metrics, issuer.http.logs)."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from credential.samples import sample_permit
from issuer.errors import SettingsError
from issuer.http.app import create_app
from issuer.http.context import OfficerApiSettings
from issuer.http.logs import REQUEST_ID_HEADER, JsonFormatter
from issuer.model import Officer, Role
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from keys import KeyRing
from keys.signers import KeySigner
from tests.conftest import FakeClock

from .conftest import PUBLIC_URL
from .office import with_card
from .outage import OUTAGE_BACKENDS, sample, store_with_outage

METRICS_TOKEN = "m" * 24 + "-scraper-secret-0001"
CLERK = Officer("clerk", "柜员", Role.CLERK, ("110105",))
ISSUER = Officer("issuer", "民警", Role.ISSUING_OFFICER, ("110105",))
SUPERVISOR = Officer("sup", "所长", Role.SUPERVISOR, ("110105",))


def officer_app(service: IssuerService, *, metrics_token: str | None = METRICS_TOKEN) -> Flask:
    return create_app(OfficerApiSettings(metrics_token=metrics_token), service)


def tokens_for(service: IssuerService, clock: FakeClock) -> dict[str, str]:
    """Tokens of a clerk and a supervisor, in an office where the sample holder has a registration card."""
    with_card(service)
    registry = OfficerRegistry(service.store, keyed=service.keyed, clock=clock)
    issued = {}
    for officer in (CLERK, ISSUER, SUPERVISOR):
        registry.put(officer)
        issued[officer.id] = registry.issue_token(officer.id, ttl=3600)
    return issued


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def scrape(client: FlaskClient) -> str:
    response = client.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True)


def json_lines(records: list[logging.LogRecord]) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in records]


# --- health and readiness ---------------------------------------------------------------------------------

def test_healthz_answers_ok(service: IssuerService) -> None:
    response = officer_app(service).test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_is_ready_with_every_check_named(service: IssuerService) -> None:
    response = officer_app(service).test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"store": "ok", "keys": "ok", "lists": "ok"}}


@OUTAGE_BACKENDS
def test_readyz_names_the_store_when_it_is_down_and_logs_the_error(
    backend: str, tmp_path: Path, keyring: KeyRing, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with store_with_outage(backend, tmp_path) as (store, go_down):
        service = IssuerService(store, keyring, _settings(), clock)
        client = officer_app(service).test_client()
        assert client.get("/readyz").status_code == 200
        go_down()
        with caplog.at_level(logging.INFO):
            response = client.get("/readyz")
            assert client.get("/healthz").status_code == 200  # alive all the same: no restart for a Redis outage
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "not_ready" and "store" in body["failing"]
        assert body["checks"]["store"] == "StoreUnavailableError" and body["checks"]["keys"] == "ok"
        errors = [line for line in json_lines(caplog.records) if line.get("event") == "store_error"]
        assert errors and all(line["level"] == "error" and line["error_class"] == "StoreUnavailableError"
                              for line in errors)
        assert scrape(client).count("epermit_store_errors_total")  # the counter is exposed


def test_readyz_names_the_keys_when_no_signer_may_sign_now(service: IssuerService, clock: FakeClock) -> None:
    client = officer_app(service).test_client()
    clock.advance(50 * 365 * 86400)  # past every key's window
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert "keys" in body["failing"] and body["checks"]["keys"] == "KeyManagementError"
    assert body["checks"]["store"] == "ok"


def test_a_store_error_of_a_request_is_logged_and_counted(
    tmp_path: Path, keyring: KeyRing, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with store_with_outage("sqlite", tmp_path) as (store, go_down):
        service = IssuerService(store, keyring, _settings(), clock)
        tokens = tokens_for(service, clock)
        client = officer_app(service).test_client()
        before = sample(scrape(client), "epermit_store_errors_total", api="officer")
        go_down()
        with caplog.at_level(logging.INFO):
            response = client.post("/api/v1/records", json=sample_permit().to_dict(), headers=bearer(tokens["clerk"]))
        assert response.status_code == 503
        lines = json_lines(caplog.records)
        assert any(line.get("event") == "store_error" and line["level"] == "error" and line["where"] == "request"
                   and line["route"] == "/api/v1/records" for line in lines)
        assert sample(scrape(client), "epermit_store_errors_total", api="officer") >= before + 1


# --- metrics ----------------------------------------------------------------------------------------------

def test_metrics_are_off_unless_a_token_is_configured(service: IssuerService) -> None:
    client = officer_app(service, metrics_token=None).test_client()
    assert client.get("/metrics", headers=bearer(METRICS_TOKEN)).status_code == 404


def test_metrics_answer_only_their_token(service: IssuerService, clock: FakeClock) -> None:
    client = officer_app(service).test_client()
    officer_token = tokens_for(service, clock)["sup"]
    for headers in ({}, bearer(METRICS_TOKEN[:-1] + "2"), bearer(officer_token), {"Authorization": METRICS_TOKEN}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401 and response.get_json()["error"] == "invalid_token"
        assert b"epermit_http_requests" not in response.data


@pytest.mark.parametrize("token", ["short", " " + "x" * 40, "x" * 40 + "\n", "密" * 40])
def test_a_weak_or_malformed_metrics_token_refuses_to_start(token: str) -> None:
    with pytest.raises(SettingsError) as caught:
        OfficerApiSettings(metrics_token=token)
    assert caught.value.setting == "metrics_token"


def test_metrics_count_requests_by_rule_and_revocations_and_age_the_lists(service: IssuerService,
                                                                          clock: FakeClock) -> None:
    client = officer_app(service).test_client()
    tokens = tokens_for(service, clock)
    before = scrape(client)
    created = client.post("/api/v1/records", json=sample_permit().to_dict(), headers=bearer(tokens["clerk"]))
    assert created.status_code == 201, created.get_json()
    record_id = created.get_json()["id"]
    offer = client.post(f"/api/v1/records/{record_id}/offers", headers=bearer(tokens["issuer"]))
    assert offer.status_code == 201
    access = service.redeem(offer.get_json()["pre_authorized_code"], offer.get_json()["tx_code"])
    service.deliver(access, [KeySigner.generate("ES256").public_key], "residence_permit_sd_jwt")  # opens a list
    assert client.get(f"/api/v1/records/{record_id}", headers=bearer(tokens["sup"])).status_code == 200
    revoked = client.post(f"/api/v1/records/{record_id}/revoke", headers=bearer(tokens["sup"]),
                          json={"reason_code": "OTHER", "reason": "moved away"})
    assert revoked.status_code == 200, revoked.get_json()
    service.trust_list_token()  # signed now
    clock.advance(600)
    after = scrape(client)

    rule = "/api/v1/records/<record_id>"
    assert sample(after, "epermit_http_requests_total", api="officer", route=rule, method="GET", status="200") == \
        sample(before, "epermit_http_requests_total", api="officer", route=rule, method="GET", status="200") + 1
    assert sample(after, "epermit_http_requests_total", api="officer", route="/api/v1/records", method="POST",
                  status="201") >= 1
    assert sample(after, "epermit_http_request_duration_seconds_count", api="officer", route=rule) >= 1
    assert record_id not in after  # the rule, never the path
    assert sample(after, "epermit_revocations_total") == sample(before, "epermit_revocations_total") + 1
    assert sample(after, "epermit_trust_list_age_seconds") == 600
    ages = re.findall(r'^epermit_status_list_publication_age_seconds\{list="(\d+)"\} (\S+)$', after, re.MULTILINE)
    assert ages and all(float(age) == 600 for _, age in ages)  # re-signed by the revocation, 600 s ago


def test_an_unmatched_path_is_counted_without_the_path(service: IssuerService) -> None:
    client = officer_app(service).test_client()
    assert client.get("/no/such/410102199003151230").status_code == 404
    text = scrape(client)
    assert "410102199003151230" not in text
    assert sample(text, "epermit_http_requests_total", api="officer", route="<unmatched>", method="GET",
                  status="404") >= 1


# --- logs -------------------------------------------------------------------------------------------------

def test_a_request_logs_one_json_line_with_ids_only(service: IssuerService, caplog: pytest.LogCaptureFixture) -> None:
    client = officer_app(service).test_client()
    with caplog.at_level(logging.INFO):
        response = client.get("/readyz", headers={REQUEST_ID_HEADER: "probe-0001-abcd"})
    lines = [line for line in json_lines(caplog.records) if line.get("event") == "request"]
    assert len(lines) == 1
    line = lines[0]
    assert {key: line[key] for key in ("api", "method", "route", "status", "request_id")} == {
        "api": "officer", "method": "GET", "route": "/readyz", "status": 200, "request_id": "probe-0001-abcd"}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert response.headers[REQUEST_ID_HEADER] == "probe-0001-abcd"
    other = client.get("/healthz", headers={REQUEST_ID_HEADER: "bad id\u202e"})  # not a token: a fresh id
    assert re.fullmatch(r"[0-9a-f]{16}", other.headers[REQUEST_ID_HEADER])


def test_no_citizen_id_address_token_or_query_reaches_the_logs(
    service: IssuerService, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    client = officer_app(service).test_client()
    tokens = tokens_for(service, clock)
    permit = sample_permit().to_dict()
    secrets_sent = [permit["citizen_id"], permit["address"], permit["name"], tokens["clerk"], tokens["issuer"], tokens["sup"],
                    "query-secret-7731", METRICS_TOKEN]
    with caplog.at_level(logging.DEBUG):
        created = client.post("/api/v1/records?token=query-secret-7731", json=permit, headers=bearer(tokens["clerk"]))
        record_id = created.get_json()["id"]
        offer = client.post(f"/api/v1/records/{record_id}/offers", headers=bearer(tokens["issuer"])).get_json()
        client.post("/api/v1/records", json={**permit, "citizen_id": "not-an-id"}, headers=bearer(tokens["clerk"]))
        client.get("/api/v1/records/410102199003151230", headers=bearer(tokens["sup"]))
        client.get("/api/v1/audit?after=query-secret-7731", headers=bearer("wrong-" + tokens["sup"]))
        scrape(client)
    assert created.status_code == 201
    secrets_sent += [offer["tx_code"], record_id]
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert sum(1 for line in json_lines(caplog.records) if line.get("event") == "request") == 6
    for secret in secrets_sent:
        assert secret not in logged


def _settings() -> IssuerSettings:
    return IssuerSettings(PUBLIC_URL)


def test_multiprocess_mode_adds_up_the_workers(tmp_path: Path) -> None:
    """As under gunicorn: two worker processes count into PROMETHEUS_MULTIPROC_DIR, a third one's scrape
    adds them up."""
    import subprocess
    import sys

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = "from issuer.http import metrics; metrics.PICKUPS.inc(3); metrics.STORE_ERRORS.labels(api='wallet').inc()"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    scraped = subprocess.run([sys.executable, "-c", "from issuer.http import metrics; "
                              "print(metrics.exposition().decode())"],
                             env=env, check=True, timeout=60, capture_output=True, text=True).stdout
    assert sample(scraped, "epermit_credentials_delivered_total") == 6
    assert sample(scraped, "epermit_store_errors_total", api="wallet") == 2
