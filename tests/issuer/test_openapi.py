"""schemathesis against GET /openapi.json, in-process on the Flask app: no 500 on any generated input,
and every response (status, content type, body) matches the document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from issuer.http.app import create_app
from issuer.http.context import OfficerApiSettings
from issuer.model import Officer, Role
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys.keyring import KeyRing
from tests.conftest import T0, FakeClock

from .conftest import PUBLIC_URL
from .office import CARD

ROLES = [Role.CLERK, Role.ISSUING_OFFICER, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN]
_STATE: dict[str, Any] = {}
# Not positive_data_acceptance: the bureau's validation (citizen ID check digit, code tables, rules) is stricter
# than any JSON Schema, so schema-valid bodies are often, rightly, refused with a 400 or 409.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@pytest.fixture(scope="module")
def officer_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = SQLiteStore(Path(tmp_path_factory.mktemp("openapi")) / "epermit.sqlite3")
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=T0 - 86400)
    service = IssuerService(store, keyring, IssuerSettings(PUBLIC_URL, status_list_size=2048), FakeClock())
    registry = OfficerRegistry(store, keyed=service.keyed, clock=service.clock)
    tokens = {}
    for role in ROLES:
        registry.put(Officer(role.value, "x", role, ("110105",)))
        tokens[role] = registry.issue_token(role.value, ttl=86400)
    service.register(CARD, officer="seed")
    _STATE["tokens"] = tokens
    yield create_app(OfficerApiSettings(max_body_bytes=8 * 1024), service)
    store.close()


@pytest.fixture(scope="module")
def api_schema(officer_app: Any) -> Any:
    return schemathesis.openapi.from_wsgi("/openapi.json", officer_app)


def test_the_document_lists_every_route(officer_app: Any) -> None:
    document = officer_app.test_client().get("/openapi.json").json
    assert document["openapi"] == "3.1.0"
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routes = {(str(rule).replace("<", "{").replace(">", "}"), method) for rule in officer_app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"} if str(rule).startswith("/api/")}
    assert routes == documented


def test_no_500_and_responses_match(api_schema: Any) -> None:
    """Each operation, each role (they reach different depths: 403, 404, 409 and successes)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 22  # 17 + the residents' requests queue (list, approve, deny) + portraits (put, get)

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            for role in ROLES:
                case.call_and_validate(headers={"Authorization": f"Bearer {_STATE['tokens'][role]}"}, checks=CHECKS)

        run()
