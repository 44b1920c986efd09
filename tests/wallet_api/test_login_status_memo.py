"""The login's verifier cache is one per process and brings up to date only the presented credential's status
list, and only when the store publishes a new one (wallet_api.login.verifying): a second login with nothing
changed verifies no list again, yet a revocation made between two logins is seen by the very next one — by the
verifier's own verdict (REVOKED), not only by the store's check after it. Both stores, real signatures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from credential.sdjwt import verify_sd_jwt_vc
from epermit.tls import LoopbackCA
from issuer.service import IssuerService
from keys import Purpose
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES, OFFICER
from tests.wallet_api.test_resident_login import answer, app, ca, login_request, response_code  # noqa: F401
from tests.wallet_api.test_resident_requests import first_pickup, registered
from verifier.cache import VerifierCache
from verifier.openid4vp import matching_query, vp_token_form


@pytest.fixture
def accepted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What the login's cache verified and kept: "trust", or the status list's URI, one entry per call."""
    seen: list[str] = []
    real_trust, real_status = VerifierCache.accept_trust_list, VerifierCache.accept_status_list

    def trust(self: VerifierCache, token: str, now: int) -> Any:
        seen.append("trust")
        return real_trust(self, token, now)

    def status(self: VerifierCache, uri: str, token: Any, now: int) -> Any:
        seen.append(uri)
        return real_status(self, uri, token, now)

    monkeypatch.setattr(VerifierCache, "accept_trust_list", trust)
    monkeypatch.setattr(VerifierCache, "accept_status_list", status)
    yield seen


def status_uri(service: IssuerService, sd_jwt: str) -> str:
    keys = {s.kid: s.public_key for s in service.keyring.signers_of(Purpose.CREDENTIAL)}
    uri: str = verify_sd_jwt_vc(sd_jwt, resolve_key=keys.__getitem__, now=service.clock(),
                                require_key_binding=False).status_uri
    return uri


@BOTH_STORES
def test_a_second_login_verifies_no_list_again_and_a_revocation_is_seen_by_the_next_login(
    client: FlaskClient, service: IssuerService, clock: FakeClock, ca: LoopbackCA, accepted: list[str]  # noqa: F811
) -> None:
    record = registered(service, permit_ends_in=30)
    key = KeySigner.generate("ES256")
    sd_jwt, _ = first_pickup(client, service, record, key, clock)
    uri = status_uri(service, sd_jwt)
    assert len(service.status_list_uris()) >= 1
    response_code(client, sd_jwt, key, ca, clock)
    assert accepted == ["trust", uri]  # the presented credential's list only
    clock.advance(60)
    response_code(client, sd_jwt, key, ca, clock)
    assert accepted == ["trust", uri]  # nothing changed: nothing verified or written again
    service.revoke(record.id, officer=OFFICER, reason="test")
    clock.advance(1)
    request = login_request(client, ca, clock)
    query, held = matching_query(request, [sd_jwt])
    refused = answer(client, request, vp_token_form(request, query, held, holder_signer=key, now=clock.now))
    assert refused.status_code == 400 and "REVOKED" in refused.get_json()["error_description"]  # the verdict's
    assert accepted == ["trust", uri, uri]  # the list re-signed by the revocation, taken at the next login
