"""The wallet API with a real deployment's login identity (keys/login.py, epermit.login_identity): /readyz
reports the login, and /wallet/verifiers.json names the office's root as the anchor of this issuer's login
only; the demo's login (a loopback CA's certificate) names no such anchor."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from epermit.login_identity import login_verifier
from epermit.tls import LoopbackCA, verifier_identity
from issuer.service import IssuerService
from keys.login import LOGIN_VALIDITY_DAYS, new_login_key
from tests.conftest import FakeClock
from wallet_api import WalletApiSettings, create_app

from .conftest import PUBLIC_URL

HOST = "permits.example.gov.cn"


def test_readyz_reports_the_login_and_fails_once_its_certificate_ends(service: IssuerService,
                                                                     clock: FakeClock) -> None:
    login = new_login_key(service.keyring.root, service.keyring.root_certificate, host=HOST, now=clock())
    identity = login_verifier(login, service.keyring, public_url=PUBLIC_URL, keys_dir=Path("keys"), now=clock())
    assert identity is not None and identity.client_id == f"x509_san_dns:{HOST}"
    client = create_app(WalletApiSettings(public_url=PUBLIC_URL), service, clock=clock,
                        login_verifier=identity).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["login"] == "ok"
    clock.advance((LOGIN_VALIDITY_DAYS + 1) * 86400)
    ended = client.get("/readyz")
    assert ended.status_code == 503 and "login" in ended.get_json()["failing"]
    assert ended.get_json()["checks"]["login"] == "LoginCertificateExpiredError"


def test_the_web_wallet_learns_the_root_as_the_anchor_of_this_issuers_login_only(service: IssuerService,
                                                                                 clock: FakeClock) -> None:
    login = new_login_key(service.keyring.root, service.keyring.root_certificate, host=HOST, now=clock())
    identity = login_verifier(login, service.keyring, public_url=PUBLIC_URL, keys_dir=Path("keys"), now=clock())
    answer = create_app(WalletApiSettings(public_url=PUBLIC_URL), service, clock=clock,
                        login_verifier=identity).test_client().get("/wallet/verifiers.json")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["certificates"] == []  # no operator bundle: the root is not a CA for other verifiers
    assert body["issuer_login"]["client_id"] == f"x509_san_dns:{HOST}"
    [der] = body["issuer_login"]["certificates"]
    assert x509.load_der_x509_certificate(base64.b64decode(der)) == service.keyring.root_certificate
    assert service.keyring.root_certificate.public_bytes(Encoding.DER) == base64.b64decode(der)
    demo = verifier_identity(LoopbackCA(now=clock()), HOST, name_zh="演示", name_en="demo")
    none = create_app(WalletApiSettings(public_url=PUBLIC_URL), service, clock=clock,
                      login_verifier=demo).test_client().get("/wallet/verifiers.json")
    assert none.status_code == 404  # as before: no bundle, and a login the root did not issue
