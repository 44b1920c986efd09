"""HTTPS everywhere a wallet looks: the demo's loopback CA, `epermit serve`'s transport choice, sync --ca."""

from __future__ import annotations

import json
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from flask import Flask

from epermit.cli import main
from epermit.errors import UsageError
from epermit.http_client import request
from epermit.servers import BackgroundServer
from epermit.tls import LoopbackCA
from epermit.transport import choose_transport


def hello_app() -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/", "hello", lambda: "ok")
    return app


@pytest.fixture
def ca() -> LoopbackCA:
    import time

    return LoopbackCA(now=int(time.time()))


def test_a_loopback_server_speaks_tls_that_only_the_demo_ca_opens(ca: LoopbackCA) -> None:
    server = BackgroundServer(ssl_context=ca.issue_server().ssl_context()).start(hello_app())
    try:
        assert server.url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cadata=ca.pem.decode("ascii"))
        assert request(server.url + "/", tls=trusted).body == b"ok"
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):  # the system's roots do not know it
            request(server.url + "/")
    finally:
        server.stop()


def test_the_loopback_certificates_pass_openssl_strict_checks(ca: LoopbackCA, tmp_path: Path) -> None:
    leaf = ca.issue_server()
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    (tmp_path / "leaf.pem").write_bytes(leaf.certificate.public_bytes(Encoding.PEM))
    checked = subprocess.run(["openssl", "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile",
                              str(tmp_path / "ca.pem"), str(tmp_path / "leaf.pem")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    names = leaf.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]


def test_transport_choice() -> None:
    with pytest.raises(UsageError, match="not https"):
        choose_transport(tls_cert=None, tls_key=None, public_url=None, insecure_http=False, proxy_hops=None)
    with pytest.raises(UsageError, match="not https"):
        choose_transport(tls_cert=None, tls_key=None, public_url="http://permits.example", insecure_http=False,
                         proxy_hops=None)
    with pytest.raises(UsageError, match="go together"):
        choose_transport(tls_cert=Path("c.pem"), tls_key=None, public_url=None, insecure_http=False, proxy_hops=None)
    behind = choose_transport(tls_cert=None, tls_key=None, public_url="https://permits.example",
                              insecure_http=False, proxy_hops=None)
    assert behind.tls is None and behind.proxy_hops == 1  # TLS ends at the proxy; trust its X-Forwarded-*
    local = choose_transport(tls_cert=None, tls_key=None, public_url=None, insecure_http=True, proxy_hops=None)
    assert local.tls is None and local.proxy_hops == 0


def test_serve_refuses_a_plain_http_public_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--data", str(tmp_path), "--public-url", "http://permits.example"]) == 2
    assert "not https" in capsys.readouterr().err


def test_serve_takes_a_certificate(ca: LoopbackCA, tmp_path: Path) -> None:
    leaf = ca.issue_server()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(leaf.certificate.public_bytes(Encoding.PEM))
    key.write_bytes(leaf.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    transport = choose_transport(tls_cert=cert, tls_key=key, public_url=None, insecure_http=False, proxy_hops=None)
    server = BackgroundServer(ssl_context=transport.tls).start(transport.wrap(hello_app()))
    try:
        assert request(server.url + "/", tls=ssl.create_default_context(cadata=ca.pem.decode())).body == b"ok"
    finally:
        server.stop()


def test_a_proxy_hop_is_trusted_for_the_client_address() -> None:
    transport = choose_transport(tls_cert=None, tls_key=None, public_url="https://permits.example",
                                 insecure_http=False, proxy_hops=None)
    app = Flask(__name__)

    @app.get("/who")
    def who() -> dict[str, str]:
        from flask import request as flask_request

        return {"addr": flask_request.remote_addr or "", "scheme": flask_request.scheme}

    wrapped = transport.wrap(app.wsgi_app)  # type: ignore[arg-type]
    app.wsgi_app = wrapped  # type: ignore[assignment,method-assign]
    seen = app.test_client().get("/who", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert seen.get_json() == {"addr": "203.0.113.7", "scheme": "https"}


def test_verify_sync_takes_the_private_ca(ca: LoopbackCA, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
    from epermit.demo import open_office
    from keys import KeyRing

    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=int(time.time()))
    (tmp_path / "root.pem").write_bytes(ring.root_certificate.public_bytes(Encoding.PEM))
    ca.write_pem(tmp_path / "tls-ca.pem")
    (tmp_path / "data").mkdir()
    office = open_office(tmp_path / "data", ring, ca=ca)
    try:
        url = office.wallet_server.url
        assert url.startswith("https://")
        base = ["verify", "sync", url, "--cache", str(tmp_path / "cache"), "--root", str(tmp_path / "root.pem")]
        assert main(base) != 0  # the system's roots do not know the demo's CA
        assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err
        assert main([*base, "--ca", str(tmp_path / "tls-ca.pem")]) == 0
        metadata = json.loads(request(url + "/.well-known/openid-credential-issuer", tls=office.tls).body)
        assert metadata["credential_issuer"] == url  # the Credential Issuer Identifier is https
    finally:
        office.stop()


def test_the_demo_office_listens_on_the_address_given_and_its_certificate_names_it(
        ca: LoopbackCA, tmp_path: Path) -> None:
    import time

    from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
    from epermit.demo import open_office
    from keys import KeyRing

    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=int(time.time()))
    (tmp_path / "data").mkdir()
    office = open_office(tmp_path / "data", ring, ca=ca, host="127.0.0.2")  # another loopback address
    try:
        assert office.wallet_server.url.startswith("https://127.0.0.2:")
        page = request(office.wallet_server.url + "/wallet/", tls=office.tls)  # hostname checked against the SAN
        assert page.status == 200
    finally:
        office.stop()
