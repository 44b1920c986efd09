"""The wallet's parts without a server: the links it takes, the passphrase it asks for, the files it keeps."""

from __future__ import annotations

import datetime
import json
import urllib.parse
from pathlib import Path

import pytest

from credential.errors import MalformedError
from credential.model import CredentialType
from epermit.errors import UsageError
from epermit.wallet import HeldCredential, WalletError, WalletHome, read_wallet_passphrase
from epermit.wallet.links import offer_source
from issuer.model import offer_uri, offer_url, pickup_url
from keys import KeyUnlockError
from wallet_api.pickup_page import wallet_link

ISSUER = "https://permits.example.gov.cn"


def held(number: str = "DJK-110105-2026-000001", picked_up_at: int = 1_780_000_000) -> HeldCredential:
    return HeldCredential(
        document_number=number, credential_type=CredentialType.RESIDENCE_REGISTRATION, name="张伟",
        name_pinyin="ZHANG WEI", authority_name="北京市公安局朝阳分局", valid_from=datetime.date(2026, 1, 5),
        valid_until=datetime.date(2027, 1, 4), issuer=ISSUER, status_uri=f"{ISSUER}/statuslists/1", status_idx=7,
        picked_up_at=picked_up_at, sd_jwt_vc="a.b.c~", qr_pass=b"\xd2full", qr_pass_basic=b"\xd2basic",
    )


def test_every_link_the_issuer_makes_leads_to_its_offer() -> None:
    expected = offer_url(ISSUER, "abc_DEF-123")
    by_page = offer_source(pickup_url(ISSUER, "abc_DEF-123"))
    assert (by_page.url, by_page.issuer) == (expected, ISSUER)  # the page's issuer must be the offer's
    assert offer_source(offer_uri(ISSUER, "abc_DEF-123")).url == expected
    assert offer_source(ISSUER + wallet_link(ISSUER, "abc_DEF-123")).url == expected
    with_path = "https://gov.example.cn/epermit"
    assert offer_source(pickup_url(with_path, "x")).issuer == with_path


def test_an_offer_by_value() -> None:
    document = {"credential_issuer": ISSUER, "credential_configuration_ids": ["residence_permit_qr"]}
    link = "openid-credential-offer://?credential_offer=" + urllib.parse.quote(json.dumps(document))
    assert offer_source(link).document == document


@pytest.mark.parametrize("link", [
    "", "http://permits.example.gov.cn/pickup/abc", "https://permits.example.gov.cn/offers/abc",
    "https://permits.example.gov.cn/pickup/", "https://permits.example.gov.cn/pickup/a/b",
    "https://user:pw@permits.example.gov.cn/pickup/abc", "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fx",
    "openid-credential-offer://?credential_offer=%5B%5D", "openid-credential-offer://?credential_offer=%7B",
    "openid-credential-offer://", offer_uri(ISSUER, "abc") + "&tx_code=123456",
    "https://permits.example.gov.cn/pickup/abc\u202e", "https://permits.example.gov.cn/pickup/" + "a" * 5000,
])
def test_anything_else_is_refused(link: str) -> None:
    with pytest.raises(UsageError):
        offer_source(link)


def test_http_only_when_allowed_for_loopback_tests() -> None:
    assert offer_source("http://127.0.0.1:8081/pickup/abc", allow_http=True).url == "http://127.0.0.1:8081/offers/abc"


def test_the_passphrase_has_no_default(tmp_path: Path) -> None:
    with pytest.raises(KeyUnlockError, match="EPERMIT_WALLET_PASSPHRASE"):
        read_wallet_passphrase(env={}, passphrase_file=None, is_tty=lambda: False)
    assert read_wallet_passphrase(env={"EPERMIT_WALLET_PASSPHRASE": "x y"}, passphrase_file=None) == b"x y"
    (tmp_path / "p").write_text("from the file\n")
    assert read_wallet_passphrase(env={"EPERMIT_WALLET_PASSPHRASE": "x"}, passphrase_file=tmp_path / "p") == \
        b"from the file"  # explicit beats ambient
    answers = iter(["one", "two"])
    with pytest.raises(KeyUnlockError, match="differ"):
        read_wallet_passphrase(env={}, passphrase_file=None, is_tty=lambda: True, confirm=True,
                               prompt=lambda _: next(answers))
    with pytest.raises(KeyUnlockError, match="empty"):
        read_wallet_passphrase(env={"EPERMIT_WALLET_PASSPHRASE": ""}, passphrase_file=None)


def test_credentials_are_kept_one_per_document_latest_first(tmp_path: Path) -> None:
    home = WalletHome(tmp_path / "w", create=True)
    home.save(held("DJK-110105-2026-000001", 100))
    home.save(held("JZZ-110105-2026-000001", 200))
    home.save(held("DJK-110105-2026-000001", 300))  # picked up again (an endorsement): replaces the first
    assert [(h.document_number, h.picked_up_at) for h in home.credentials()] == [
        ("DJK-110105-2026-000001", 300), ("JZZ-110105-2026-000001", 200)]
    assert home.find(None).picked_up_at == 300
    assert home.find("jzz-110105-2026-000001").picked_up_at == 200
    with pytest.raises(UsageError, match="no credential"):
        home.find("DJK-0")
    assert HeldCredential.from_json(held().to_json()) == held()


def test_an_edited_credential_file_is_reported_not_skipped(tmp_path: Path) -> None:
    home = WalletHome(tmp_path / "w", create=True)
    home.save(held())
    [path] = (tmp_path / "w" / "credentials").iterdir()
    data = json.loads(path.read_text())
    data["status"]["idx"] = "7"
    path.write_text(json.dumps(data))
    with pytest.raises(WalletError, match="status"):
        home.credentials()
    with pytest.raises(MalformedError):
        HeldCredential.from_json({**held().to_json(), "format": "something-else"})
