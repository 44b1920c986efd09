"""The wallet library against a real wallet API that requires DPoP server nonces (RFC 9449 §8 at the token
and PAR endpoints, §9 at resources), over https on a loopback name: the login's session, the resident's
request, PAR, the authorization-code token, the credential and the notification each answer use_dpop_nonce
once to a wallet that has forgotten the nonce, and the wallet retries once with the DPoP-Nonce it was given.
The same wallet against the API as configured by default (no nonce required) is never asked."""

from __future__ import annotations

import datetime
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Response, request

from credential.model import CredentialType
from credential.samples import sample_permit
from epermit.servers import BackgroundServer
from epermit.tls import LoopbackCA, verifier_identity
from epermit.wallet import HeldCredential, OpenId4VciClient, Wallet, WalletHome
from epermit.wallet.errors import IssuerRefusedError
from epermit.wallet.presenting import Presenter
from epermit.wallet.requests import ResidentRequestsClient
from issuer.model import offer_uri
from issuer.rules import beijing_day
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys.keyring import KeyRing
from wallet_api import WalletApiSettings, access, create_app

PASSPHRASE = b"a test phone"
DPOP_PATHS = {"/resident/session", "/resident/requests", "/par", "/token", "/credential", "/notification"}


@dataclass
class NonceOffice:
    service: IssuerService
    ca: LoopbackCA
    answers: list[tuple[str, int, str]]  # (path, status, error) of every answer the wallet API gave


def office(tmp: Path, *, required: bool) -> Iterator[NonceOffice]:
    now = int(time.time())
    ca = LoopbackCA(now=now)
    server = BackgroundServer("127.0.0.1", ssl_context=ca.issue_server().ssl_context(), url_host="localhost")
    service = IssuerService(SQLiteStore(tmp / "epermit.sqlite3"),
                            KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局",
                                             now=now - 3600),
                            IssuerSettings(public_url=server.url))
    app = create_app(WalletApiSettings(public_url=server.url, dpop_nonce_required=required), service,
                     login_verifier=verifier_identity(ca, "localhost", name_zh="居民在线服务", name_en="Online"))
    answers: list[tuple[str, int, str]] = []

    @app.after_request
    def seen(response: Response) -> Response:
        error = (response.get_json(silent=True) or {}).get("error", "") if response.is_json else ""
        answers.append((request.path, response.status_code, str(error)))
        return response

    server.start(app)
    try:
        yield NonceOffice(service, ca, answers)
    finally:
        server.stop()


@pytest.fixture
def requiring(tmp_path: Path) -> Iterator[NonceOffice]:
    yield from office(tmp_path, required=True)


@pytest.fixture
def default(tmp_path: Path) -> Iterator[NonceOffice]:
    yield from office(tmp_path, required=False)


class ForgetfulClient(OpenId4VciClient):
    """Forgets the server's nonce after every call, so that each DPoP call starts without one (as after the
    server rotated it): every endpoint's use_dpop_nonce answer, and the wallet's retry, is then seen."""

    def _call(self, step: str, url: str, **options: Any) -> tuple[int, dict[str, Any]]:
        try:
            return super()._call(step, url, **options)
        finally:
            self._dpop_nonces.clear()


def phone(made: NonceOffice, folder: Path, client: type[OpenId4VciClient] = OpenId4VciClient) -> ResidentRequestsClient:
    tls = ssl.create_default_context(cadata=made.ca.pem.decode("ascii"))
    home = WalletHome(folder, create=True, scrypt_n=2**14)
    return ResidentRequestsClient(Wallet(home, client(tls=tls)),
                                  presenter=Presenter(home, trust_anchors=[made.ca.certificate], tls=tls))


def due_permit(made: NonceOffice, resident: ResidentRequestsClient) -> HeldCredential:
    """A card valid today and a permit within its endorsement window, picked up (pre-authorized: no DPoP)."""
    service, today = made.service, beijing_day(int(time.time()))
    service.register(sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=today - datetime.timedelta(days=300),
                                   valid_until=today + datetime.timedelta(days=60)), officer="test")
    end = today + datetime.timedelta(days=30)
    record = service.register(sample_permit(valid_from=end - datetime.timedelta(days=360), valid_until=end),
                              officer="test")
    offer = service.create_offer(record.id, officer="test")
    return resident.wallet.pick_up(offer_uri(service.settings.public_url, offer.offer_id), offer.tx_code,
                                   lambda _: PASSPHRASE)


def renew(resident: ResidentRequestsClient, held: HeldCredential) -> HeldCredential:
    asked = resident.ask("endorse", held=held, passphrase=lambda _: PASSPHRASE)  # login, then the request
    assert asked["request"]["state"] == "approved", asked
    (new,) = resident.refresh(lambda _: PASSPHRASE)  # PAR, login at the AS, token, credential, notification
    return new


def test_each_dpop_call_retries_once_with_the_servers_nonce_and_the_renewal_goes_through(
    requiring: NonceOffice, tmp_path: Path
) -> None:
    resident = phone(requiring, tmp_path / "phone", ForgetfulClient)
    old = due_permit(requiring, resident)
    new = renew(resident, old)
    assert new.valid_until > old.valid_until
    asked = {path for path, status, error in requiring.answers if error == "use_dpop_nonce"}
    assert asked == DPOP_PATHS
    for path in DPOP_PATHS:  # each use_dpop_nonce followed by the retry's success: one retry, not a loop
        answered = [(status, error) for p, status, error in requiring.answers if p == path]
        retries = [answered[i + 1] for i, (_, error) in enumerate(answered) if error == "use_dpop_nonce"]
        assert retries and all(status < 300 for status, _ in retries), (path, answered)


def test_a_wallet_that_keeps_the_nonce_is_asked_only_at_its_first_dpop_call(
    requiring: NonceOffice, tmp_path: Path
) -> None:
    resident = phone(requiring, tmp_path / "phone")
    renew(resident, due_permit(requiring, resident))
    asked = [path for path, _, error in requiring.answers if error == "use_dpop_nonce"]
    assert asked == ["/resident/session"]  # later proofs carry the DPoP-Nonce of the last answer


def test_a_nonce_the_server_keeps_refusing_is_retried_once_then_the_refusal_is_told(
    requiring: NonceOffice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resident = phone(requiring, tmp_path / "phone")
    old = due_permit(requiring, resident)
    monkeypatch.setattr(access, "nonce_accepted", lambda *_, **__: False)  # the server's nonce store lost it
    with pytest.raises(IssuerRefusedError, match="use_dpop_nonce"):
        resident.ask("endorse", held=old, passphrase=lambda _: PASSPHRASE)
    assert [error for path, _, error in requiring.answers if path == "/resident/session"] == ["use_dpop_nonce"] * 2


def test_without_the_server_option_no_nonce_is_asked_for_or_sent(default: NonceOffice, tmp_path: Path) -> None:
    resident = phone(default, tmp_path / "phone", ForgetfulClient)
    renew(resident, due_permit(default, resident))
    assert {error for _, _, error in default.answers} == {""}
    assert resident.client.dpop_nonce(default.service.settings.public_url) is None
