"""`epermit wallet` against a real https office (the demo's: loopback CA, both APIs, SQLite): pick up from a
pickup page URL and from an offer URI, show the QR (basic by default, live on request), status after a
revoke, a wrong PIN, and the device key sealed at rest. The office and the wallet run on the real clock."""

from __future__ import annotations

import datetime
import json
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from credential.encoding import b64url_encode
from credential.model import CredentialType
from credential.passclaims import CHINA_STANDARD_TIME
from credential.samples import sample_permit, sample_permit_valid_at
from epermit.cli import main
from epermit.demo import Office, open_office
from epermit.tls import LoopbackCA
from epermit.wallet import WalletHome
from keys import KeyRing
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.qrimage import decode_qr_image
from verifier.result import Result
from verifier.sync import sync
from verifier.verify import verify

PASSPHRASE = "a resident's own passphrase"


@dataclass
class World:
    office: Office
    ca_file: Path
    root_file: Path
    verifier: VerifierCache
    tmp: Path

    def offer(self, permit_kind: CredentialType = CredentialType.RESIDENCE_REGISTRATION, *,
              resident: int = 0, **permit: object) -> dict[str, str]:
        """A new record (registered as it is, without the bureau's rules) and its pickup offer."""
        service = self.office.service
        current = sample_permit_valid_at(service.clock(), permit_kind, resident=resident)  # the real clock's year
        permit = {"valid_from": current.valid_from, "valid_until": current.valid_until, **permit}
        made = sample_permit(permit_kind, resident=resident, **permit)  # type: ignore[arg-type]
        record = service.register(made, officer="test")
        answer = self.office.call("POST", f"/api/v1/records/{record.id}/offers")
        return {**{k: str(v) for k, v in answer.items()}, "record_id": record.id}

    def wallet(self, *args: str, home: Path) -> list[str]:
        return ["wallet", "--home", str(home), *args]

    def pickup(self, home: Path, link: str, pin: str, *extra: str) -> int:
        return main(self.wallet("pickup", link, "--pin", pin, "--ca", str(self.ca_file), "--root",
                                str(self.root_file), *extra, home=home))

    def verify(self, text: str):  # type: ignore[no-untyped-def]
        sync(self.office.wallet_server.url, self.verifier, now=int(time.time()), tls=self.office.tls)
        return verify(text, self.verifier, policy=Policy(), now=int(time.time()))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    now = int(time.time())
    tmp = tmp_path_factory.mktemp("wallet-office")
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    ca = LoopbackCA(now=now)
    office = open_office(tmp, ring, ca=ca)
    root = tmp / "root.pem"
    root.write_bytes(ring.root_certificate.public_bytes(Encoding.PEM))
    verifier = VerifierCache(tmp / "landlord")
    verifier.pin_root(root.read_bytes())
    try:
        yield World(office, ca.write_pem(tmp / "tls-ca.pem"), root, verifier, tmp)
    finally:
        office.stop()


@pytest.fixture
def passphrase(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("EPERMIT_WALLET_PASSPHRASE", PASSPHRASE)
    return PASSPHRASE


def shown(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.strip().splitlines()[0]


def test_pickup_from_the_pickup_page_link_and_a_live_qr_the_verifier_finds_valid(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    offer = world.offer()
    assert offer["pickup_url"].startswith("https://127.0.0.1:") and "/pickup/" in offer["pickup_url"]
    home = tmp_path / "phone"
    assert world.pickup(home, offer["pickup_url"], offer["tx_code"]) == 0
    out = capsys.readouterr().out
    assert "picked up DJK-110105-2026-000001 居住登记卡" in out and "QR pass (basic)" in out and "SD-JWT VC" in out
    assert main(world.wallet("show", "--live", home=home)) == 0
    live = shown(capsys)
    outcome = world.verify(live)
    assert outcome.result is Result.VALID and outcome.live is True, outcome.reason
    assert outcome.view == "basic"  # what the phone shows by default
    # The issuer's audit trail has the pickup confirmed (the wallet sent credential_accepted).
    actions = [e.action for e in world.office.service.audit.list(limit=1000) if e.record_id == offer["record_id"]]
    assert "offer_redeemed" in actions and "pickup_confirmed" in actions


def test_pickup_from_an_offer_uri_and_both_views(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    offer = world.offer(CredentialType.RESIDENCE_REGISTRATION, resident=1)
    assert offer["offer_uri"].startswith("openid-credential-offer://?credential_offer_uri=https%3A%2F%2F")
    home = tmp_path / "phone"
    assert world.pickup(home, offer["offer_uri"], offer["tx_code"]) == 0
    capsys.readouterr()
    png = tmp_path / "basic.png"
    assert main(world.wallet("show", "--view", "basic", "--png", str(png), home=home)) == 0
    basic = shown(capsys)
    assert decode_qr_image(png) == basic and stat.S_IMODE(png.stat().st_mode) == 0o600
    outcome = world.verify(basic)
    assert outcome.result is Result.VALID and outcome.live is False and outcome.view == "basic"
    assert outcome.claims["name"] == "阿依古丽·艾山"
    assert not {"citizen_id", "birth_date", "address", "sex", "ethnicity", "district"} & set(outcome.claims)
    assert main(world.wallet("show", "--view", "full", home=home)) == 0
    full = world.verify(shown(capsys))
    assert full.result is Result.VALID and full.view == "full" and full.claims["citizen_id"] == "650102199507213428"
    assert main(world.wallet("list", home=home)) == 0
    listed = capsys.readouterr().out
    assert "DJK-110105-2026-000002\t居住登记卡 Residence Registration Card\t阿依古丽·艾山 AYIGULI AISHAN" in listed
    assert "SD-JWT VC, QR pass (basic), QR pass (full)" in listed


def test_status_says_valid_then_revoked(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    offer = world.offer(CredentialType.RESIDENCE_REGISTRATION, resident=1, document_number="DJK-110105-2026-000077")
    home = tmp_path / "phone"
    assert world.pickup(home, offer["pickup_url"], offer["tx_code"]) == 0
    capsys.readouterr()
    status = ["status", "--ca", str(world.ca_file)]  # the root was pinned at pickup
    assert main(world.wallet(*status, home=home)) == 0
    assert "DJK-110105-2026-000077 居住登记卡 Residence Registration Card: 有效 valid" in shown(capsys)
    world.office.call("POST", f"/api/v1/records/{offer['record_id']}/revoke",
                      {"reason_code": "OTHER", "reason": "test"}, as_="supervisor")
    assert main(world.wallet(*status, home=home)) == 1
    out = capsys.readouterr().out
    assert "已吊销 revoked" in out and "revocation data updated just now" in out


def test_status_warns_when_the_validity_ends_soon(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.datetime.now(CHINA_STANDARD_TIME).date()
    offer = world.offer(CredentialType.RESIDENCE_REGISTRATION, valid_from=today - datetime.timedelta(days=300),
                        valid_until=today + datetime.timedelta(days=10), document_number="DJK-110105-2026-000078")
    home = tmp_path / "phone"
    assert world.pickup(home, offer["pickup_url"], offer["tx_code"]) == 0
    capsys.readouterr()
    assert main(world.wallet("status", "--ca", str(world.ca_file), home=home)) == 0  # still VALID
    assert "即将到期 valid, expires soon" in shown(capsys)


def test_a_wrong_pin_exits_1_and_says_how_many_attempts_are_left(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    offer = world.offer()
    wrong = f"{(int(offer['tx_code']) + 1) % 1_000_000:06d}"
    home = tmp_path / "phone"
    assert world.pickup(home, offer["pickup_url"], wrong) == 1
    err = capsys.readouterr().err
    assert "4 attempts left" in err and wrong not in err
    assert err.index("取证密码（PIN）不正确，还可尝试 4 次") < err.index("4 attempts left")  # Chinese first
    assert WalletHome(home).credentials() == []
    assert world.pickup(home, offer["pickup_url"], "12345") == 2  # not 6 digits: refused before an attempt is spent
    assert "6 digits" in capsys.readouterr().err
    assert world.pickup(home, offer["pickup_url"], offer["tx_code"]) == 0


def test_the_device_key_is_sealed_at_rest_and_the_folder_private(
    world: World, tmp_path: Path, passphrase: str
) -> None:
    offer = world.offer()
    home = tmp_path / "phone"
    assert world.pickup(home, offer["pickup_url"], offer["tx_code"]) == 0
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    key_file = home / "device-key.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    data = key_file.read_bytes()
    assert b"PRIVATE KEY" not in data and b'"d"' not in data
    signer = WalletHome(home).device_key(passphrase.encode())
    private = signer.private_key
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    d = private.private_numbers().private_value.to_bytes(32, "big")
    assert d not in data and b64url_encode(d).encode() not in data and d.hex().encode() not in data
    assert json.loads(data)["kdf"]["name"] == "scrypt" and json.loads(data)["kdf"]["n"] == 2**17
    for path in (home / "credentials").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "credentials").stat().st_mode) == 0o700


def test_no_passphrase_or_a_wrong_one_spends_no_pin_attempt(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("EPERMIT_WALLET_PASSPHRASE", raising=False)
    first, second = world.offer(), world.offer()
    home = tmp_path / "phone"
    assert world.pickup(home, first["pickup_url"], first["tx_code"]) == 2  # no default passphrase
    assert "EPERMIT_WALLET_PASSPHRASE" in capsys.readouterr().err
    secret = tmp_path / "passphrase"
    secret.write_text("right one\n")
    assert world.pickup(home, first["pickup_url"], first["tx_code"], "--passphrase-file", str(secret)) == 0
    monkeypatch.setenv("EPERMIT_WALLET_PASSPHRASE", "a wrong one")
    assert world.pickup(home, second["pickup_url"], second["tx_code"]) == 2
    assert "wrong passphrase" in capsys.readouterr().err
    assert world.office.service.offer_by_id(second["offer_id"])  # still open: the PIN was never sent
    capsys.readouterr()
    assert main(world.wallet("show", "--live", home=home)) == 2  # the live proof needs the key
    assert main(world.wallet("show", home=home)) == 0  # the static pass does not
    assert shown(capsys).startswith("EP1:")


def test_links_that_are_not_pickups_are_refused_before_anything_is_sent(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    offer = world.offer()
    home = tmp_path / "phone"
    http = offer["pickup_url"].replace("https://", "http://")
    with_pin = offer["offer_uri"] + "&tx_code=" + offer["tx_code"]
    for link in (http, with_pin, "https://127.0.0.1/elsewhere", "javascript:alert(1)", "openid-credential-offer://?x=1"):
        assert world.pickup(home, link, offer["tx_code"]) == 2, link
    assert "never does" in capsys.readouterr().err
    assert world.office.service.offer_by_id(offer["offer_id"])  # untouched
    # A pickup page link whose offer names another issuer is refused too (a page cannot redirect a wallet).
    elsewhere = offer["pickup_url"].replace("127.0.0.1", "localhost")
    assert world.pickup(home, elsewhere, offer["tx_code"]) == 1
    assert "offers credentials of" in capsys.readouterr().err
    assert world.office.service.offer_by_id(offer["offer_id"])


def test_an_issuer_whose_certificate_is_not_trusted_is_an_environment_error(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    offer = world.offer()
    home = tmp_path / "phone"
    assert main(world.wallet("pickup", offer["pickup_url"], "--pin", offer["tx_code"], home=home)) == 2  # no --ca
    assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err
    assert world.office.service.offer_by_id(offer["offer_id"])  # nothing was sent


def test_a_wallet_folder_others_may_read_is_refused(
    world: World, tmp_path: Path, passphrase: str, capsys: pytest.CaptureFixture[str]
) -> None:
    offer = world.offer()
    home = tmp_path / "phone"
    assert world.pickup(home, offer["pickup_url"], offer["tx_code"]) == 0
    os.chmod(home, 0o755)
    assert main(world.wallet("list", home=home)) == 2
    assert "chmod 700" in capsys.readouterr().err
    assert main(world.wallet("list", home=tmp_path / "nowhere")) == 2
