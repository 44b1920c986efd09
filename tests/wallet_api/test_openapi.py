"""GET /openapi.json: every route documented, and schemathesis finds no 500 and no answer off the schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from credential.samples import sample_permit_valid_at
from issuer.model import Offer
from issuer.service import IssuerService
from tests.wallet_api.conftest import OFFICER, PUBLIC_URL

EXAMPLES = 30  # per operation (and per token variant)
API_BLUEPRINTS = {"metadata", "offers", "token", "nonce", "credential", "deferred", "notification", "public",
                  "openapi", "resident", "login", "authorization"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def test_the_document_is_openapi_3_1_and_covers_every_route(client: FlaskClient, app: Flask) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": PUBLIC_URL}]
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    rules = list(app.url_map.iter_rules())
    assert {rule.endpoint.split(".")[0] for rule in rules} >= API_BLUEPRINTS
    for rule in rules:
        if rule.endpoint.split(".")[0] not in API_BLUEPRINTS:  # e.g. the browser verifier page and its files
            continue
        if rule.rule == "/vct/<path:rest>":  # one concrete path per credential type
            assert {"/vct/residence-permit/1", "/vct/residence-registration/1"} <= {p for p, _ in documented}
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)
    schemathesis.openapi.from_dict(document)  # loads: a well-formed OpenAPI document


@pytest.mark.slow
def test_no_500_and_every_answer_matches_the_schema(app: Flask, service: IssuerService, offer: Offer) -> None:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    # A DPoP-bound token too: the generated DPoP headers then meet the proof checks behind the binding.
    record = service.register(sample_permit_valid_at(service.clock()), officer=OFFICER)
    second = service.create_offer(record.id, officer=OFFICER)
    bound = service.redeem(second.pre_authorized_code, second.tx_code, dpop_jkt="A" * 43)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 31  # 15 + the residents' requests (wallet_api.resident) + login and renewal (7)
    for operation in operations:
        # The bearer-protected operations run both with generated tokens and with a live one, so the body
        # checks behind the token are explored too.
        protected = operation.path in ("/credential", "/deferred_credential", "/notification")
        variants = ({"Authorization": f"Bearer {token}"}, {"Authorization": f"DPoP {bound}"}, None)
        for headers in variants if protected else (None,):
            _fuzz(operation, headers)


def _fuzz(operation: Any, headers: dict[str, str] | None) -> None:
    @given(case=operation.as_strategy())
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                         database=None)
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS, headers=headers)

    run()
