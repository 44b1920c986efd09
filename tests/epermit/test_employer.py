"""An employer's online check end to end with real servers: the demo's office (https, SQLite), the employer
demo (its own loopback CA, x509_san_dns:localhost), and `epermit wallet present` answering the request that
the employer's page shows as a QR (decoded from the page's PNG). Real clock, real signatures, real TLS."""

from __future__ import annotations

import base64
import html
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.model import CredentialType
from credential.samples import sample_permit_valid_at
from epermit.cli import main
from epermit.demo import Office, open_office
from epermit.employer.serve import EmployerDemo, open_employer, write_trust_files
from epermit.http_client import request
from epermit.tls import LoopbackCA
from epermit.wallet import WalletHome
from keys import KeyRing
from verifier.cache import VerifierCache
from verifier.qrimage import decode_qr_image

PASSPHRASE = "a resident's own passphrase"


@dataclass
class World:
    office: Office
    employer: EmployerDemo
    office_ca: Path
    bundle: Path
    root: Path
    browser_tls: ssl.SSLContext

    def resident(self, home: Path, *, resident: int, kind: CredentialType = CredentialType.RESIDENCE_PERMIT) -> str:
        """A wallet that picked up a new credential; returns the record id."""
        service = self.office.service
        record = service.register(sample_permit_valid_at(service.clock(), kind, resident=resident % 2), officer="test")
        offer = self.office.call("POST", f"/api/v1/records/{record.id}/offers")
        assert main(["wallet", "--home", str(home), "pickup", str(offer["pickup_url"]), "--pin", str(offer["tx_code"]),
                     "--ca", str(self.office_ca), "--root", str(self.root)]) == 0
        return record.id

    def page(self, path: str, *, method: str = "GET") -> str:
        return request(self.employer.url + path, method=method, tls=self.browser_tls).body.decode("utf-8")


    def present(self, home: Path, uri: str, *answer: str, ca: Path | None = None) -> int:
        return main(["wallet", "--home", str(home), "present", uri, "--ca", str(ca or self.bundle), *answer])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    now = int(time.time())
    tmp = tmp_path_factory.mktemp("employer")
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    ca = LoopbackCA(now=now)
    office = open_office(tmp, ring, ca=ca)
    root = tmp / "root.pem"
    root.write_bytes(ring.root_certificate.public_bytes(Encoding.PEM))
    office_ca = ca.write_pem(tmp / "tls-ca.pem")
    employer = open_employer(wallet_api=office.wallet_server.url, wallet_tls=office.tls,
                             cache=VerifierCache(tmp / "employer-cache"), clock=lambda: int(time.time()),
                             root_pem=root.read_bytes())
    _, bundle = write_trust_files(employer, tmp / "employer", office_ca.read_bytes())
    browser = ssl.create_default_context(cadata=employer.ca.pem.decode("ascii"))
    try:
        yield World(office, employer, office_ca, bundle, root, browser)
    finally:
        employer.stop()
        office.stop()


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("EPERMIT_WALLET_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def check_path(world: World) -> tuple[str, str]:
    """Start a check as the employer's browser does (POST, 303 to the check's page); the page's path and the
    openid4vp:// URI it shows, which its QR must hold too."""
    opener = urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=world.browser_tls))
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(urllib.request.Request(world.employer.url + "/checks", data=b"", method="POST"))
    assert caught.value.code == 303
    page = caught.value.headers["Location"]
    assert re.fullmatch(r"/checks/[A-Za-z0-9_-]{22}", page)
    body = world.page(page)
    uri = html.unescape(re.search(r'data-testid="request-uri">([^<]+)<', body).group(1))  # type: ignore[union-attr]
    qr_png = re.search(r'src="data:image/png;base64,([^"]+)"', body).group(1)  # type: ignore[union-attr]
    assert decode_qr_image(base64.b64decode(qr_png)) == uri  # the QR says what the link says
    assert f'href="{html.escape(uri)}"' in body  # and so does the same-device link
    return page, uri


def test_the_employer_sees_the_verified_basic_claims(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "phone"
    world.resident(home, resident=0)
    page, uri = check_path(world)
    assert uri.startswith("openid4vp://?client_id=x509_san_dns%3Alocalhost&request_uri=https%3A%2F%2Flocalhost%3A")
    assert 'data-result="WAITING"' in world.page(page)
    capsys.readouterr()
    assert world.present(home, uri, "--yes") == 0
    out = capsys.readouterr().out
    assert "已验证域名 verified host: localhost" in out and "姓名 Name, 证件号码 Document number, 签发机关" in out
    assert "已出示 presented to localhost" in out
    [redirect] = re.findall(r"下一步 next: (\S+)", out)
    assert re.fullmatch(re.escape(world.employer.url) + r"/done\?response_code=[A-Za-z0-9_-]{22}", redirect)
    done = request(redirect, tls=world.browser_tls).body.decode("utf-8")  # the resident's view: the verdict only
    assert 'data-result="VALID"' in done and "张伟" not in done
    shown = world.page(page)
    assert 'data-result="VALID"' in shown
    assert 'data-testid="claim-name"' in shown and 'data-testid="claim-document_number"' in shown
    assert 'data-testid="claim-valid_until"' in shown and 'data-testid="claim-authority_name"' in shown
    assert "居住证 Residence Permit" in shown
    assert "citizen_id" not in shown and "address" not in shown  # only what was asked for


def test_a_second_answer_to_the_same_request_is_refused(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "phone"
    world.resident(home, resident=1)
    page, uri = check_path(world)
    assert world.present(home, uri, "--yes") == 0
    capsys.readouterr()
    assert world.present(home, uri, "--yes") == 1  # the request object is gone once answered
    assert "the verifier refused the presentation: HTTP 404" in capsys.readouterr().err
    assert 'data-result="VALID"' in world.page(page)


def test_the_resident_refuses_and_the_employer_is_told(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "phone"
    world.resident(home, resident=2, kind=CredentialType.RESIDENCE_REGISTRATION)
    page, uri = check_path(world)
    assert world.present(home, uri, "--no") == 0
    assert "已拒绝" in capsys.readouterr().out
    shown = world.page(page)
    assert 'data-result="DECLINED"' in shown and "持证人拒绝出示" in shown and "claim-name" not in shown


def test_a_revoked_credential_is_revoked_on_the_employers_page(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "phone"
    record_id = world.resident(home, resident=3)
    world.office.call("POST", f"/api/v1/records/{record_id}/revoke", {"reason_code": "OTHER", "reason": "test"},
                      as_="supervisor")
    page, uri = check_path(world)
    # Processed, so answered 200 (OpenID4VP 1.0 §8.2): the verdict is on the employer's page and behind the
    # redirect the wallet is given.
    assert world.present(home, uri, "--yes") == 0
    [redirect] = re.findall(r"下一步 next: (\S+)", capsys.readouterr().out)
    assert 'data-result="REVOKED"' in request(redirect, tls=world.browser_tls).body.decode("utf-8")
    shown = world.page(page)
    assert 'data-result="REVOKED"' in shown and "已吊销" in shown and 'data-testid="claim-name"' in shown


def test_a_wallet_that_does_not_trust_the_employer_sends_nothing(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "phone"
    world.resident(home, resident=4)
    page, uri = check_path(world)
    assert world.present(home, uri, "--yes", ca=world.office_ca) == 2  # its https is not trusted either
    assert world.present(home, uri) == 2  # no --yes/--no and no terminal: a usage error, nothing sent
    assert 'data-result="WAITING"' in world.page(page)


def test_the_employer_demo_command_serves_a_check_a_wallet_answers(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`epermit employer-demo` as a user runs it (a subprocess, the README's options), answered by the wallet."""
    home = tmp_path / "phone"
    world.resident(home, resident=0)
    out = tmp_path / "emp"
    command = [sys.executable, "-m", "epermit.cli", "employer-demo", "--port", "0", "--wallet-api",
               world.office.wallet_server.url, "--ca", str(world.office_ca), "--root", str(world.root), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as served:
        try:
            assert served.stdout is not None
            first = served.stdout.readline()
            found = re.findall(r"employer check: (https://localhost:\d+)/", first)
            assert found, first + (served.stderr.read() if served.poll() is not None else "")
            url = found[0]
            employer_ca = (out / "employer-ca.pem").read_bytes()
            browser = ssl.create_default_context(cadata=employer_ca.decode("ascii"))
            opener = urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=browser))
            with pytest.raises(urllib.error.HTTPError) as caught:
                opener.open(urllib.request.Request(url + "/checks", data=b"", method="POST"))
            page = url + caught.value.headers["Location"]
            body = request(page, tls=browser).body.decode("utf-8")
            uri = html.unescape(re.search(r'data-testid="request-uri">([^<]+)<', body).group(1))  # type: ignore[union-attr]
            assert world.present(home, uri, "--yes", ca=out / "trust-bundle.pem") == 0
            assert 'data-result="VALID"' in request(page, tls=browser).body.decode("utf-8")
        finally:
            served.send_signal(signal.SIGINT)
            served.wait(timeout=20)


def test_the_resident_chooses_which_credential_to_show(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "phone"
    world.resident(home, resident=1, kind=CredentialType.RESIDENCE_PERMIT)
    world.resident(home, resident=1, kind=CredentialType.RESIDENCE_REGISTRATION)
    [card] = [h for h in WalletHome(home).credentials() if h.credential_type is CredentialType.RESIDENCE_REGISTRATION]
    page, uri = check_path(world)
    assert world.present(home, uri, "--yes", "--credential", card.document_number) == 0
    assert f"居住登记卡 Residence Registration Card {card.document_number}" in capsys.readouterr().out
    shown = world.page(page)
    assert 'data-result="VALID"' in shown and "居住登记卡 Residence Registration Card" in shown
    assert card.document_number in shown
