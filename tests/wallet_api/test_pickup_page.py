"""GET /pickup/<offer id>: the https page a pickup sheet's QR opens on a phone (wallet_api.pickup_page)."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from credential.model import CredentialType
from credential.samples import sample_permit_valid_at
from issuer.model import Offer, offer_uri, offer_url, pickup_url
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from tests.conftest import FakeClock
from tests.wallet_api.conftest import OFFICER, PUBLIC_URL
from wallet_api.pickup_page import wallet_link


def links(response: TestResponse) -> dict[str, str]:
    """id -> href of every link on the page."""
    body = response.get_data(as_text=True)
    return {m[0]: html.unescape(m[1]) for m in re.findall(r'<a [^>]*?id="([^"]+)" href="([^"]+)"', body)}


def check_headers(response: TestResponse) -> None:
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe" not in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
    body = response.get_data(as_text=True)
    assert "<script" not in body and not re.search(r"<[^>]+\son\w+\s*=", body)  # no script, no handler
    # The one inline style is allowed by its hash, and by nothing else.
    [style] = re.findall(r"<style>(.*?)</style>", body, re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in body
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_page_says_what_to_do_and_opens_our_wallet_with_the_offer(client: FlaskClient, offer: Offer) -> None:
    assert pickup_url(PUBLIC_URL, offer.offer_id) == f"{PUBLIC_URL}/pickup/{offer.offer_id}"
    response = client.get(f"/pickup/{offer.offer_id}")
    assert response.status_code == 200
    check_headers(response)
    body = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in body and "领取电子居住证" in body and "6位取证密码" in body
    found = links(response)
    # The contract with the wallet PWA: exactly /wallet/?credential_offer_uri=<URL-encoded offer URL>.
    assert found["open-wallet"] == "/wallet/?credential_offer_uri=" + quote(offer_url(PUBLIC_URL, offer.offer_id),
                                                                             safe="")
    assert found["offer-uri"] == offer_uri(PUBLIC_URL, offer.offer_id)
    assert found["lang"] == "?lang=en"
    # The PIN is in no link and nowhere on the page; nor is the pre-authorized code.
    assert offer.tx_code not in body and offer.pre_authorized_code not in body
    assert "张伟" not in body  # whoever holds the link sees the page: no personal data


def test_english(client: FlaskClient, offer: Offer) -> None:
    response = client.get(f"/pickup/{offer.offer_id}?lang=en")
    assert response.status_code == 200
    check_headers(response)
    body = response.get_data(as_text=True)
    assert '<html lang="en">' in body and "Pick up your electronic Residence Permit" in body
    assert "The PIN is not in this link" in body
    assert links(response)["lang"] == "?lang=zh"
    assert links(response)["open-wallet"] == wallet_link(PUBLIC_URL, offer.offer_id)
    # Anything but "en" is Chinese: the parameter is never reflected.
    other = client.get(f"/pickup/{offer.offer_id}?lang=%22%3E%3Cscript%3E")
    assert '<html lang="zh-CN">' in other.get_data(as_text=True) and "script" not in other.get_data(as_text=True)


def test_a_registration_card_offer_names_the_card(client: FlaskClient, service: IssuerService) -> None:
    record = service.register(sample_permit_valid_at(service.clock(), CredentialType.RESIDENCE_REGISTRATION,
                                                     resident=1), officer=OFFICER)
    made = service.create_offer(record.id, officer=OFFICER)
    assert "领取电子居住登记卡" in client.get(f"/pickup/{made.offer_id}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/pickup/no-such-offer", "/pickup/" + "x" * 500])
def test_an_unknown_link_is_a_404_page_in_both_languages(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    check_headers(response)
    body = response.get_data(as_text=True)
    assert "找不到此领取链接" in body and "This pickup link is not known" in body
    assert "no-such-offer" not in body and "xxxx" not in body


def test_a_used_link_is_a_410_page(client: FlaskClient, service: IssuerService, offer: Offer) -> None:
    service.redeem(offer.pre_authorized_code, offer.tx_code)
    response = client.get(f"/pickup/{offer.offer_id}")
    assert response.status_code == 410
    check_headers(response)
    body = response.get_data(as_text=True)
    assert "此领取链接已失效" in body and "expired or was already used" in body
    assert offer.offer_id not in body


def test_an_expired_link_is_a_410_page(client: FlaskClient, offer: Offer, clock: FakeClock) -> None:
    clock.advance(IssuerSettings(public_url=PUBLIC_URL).offer_ttl)
    response = client.get(f"/pickup/{offer.offer_id}")
    assert response.status_code == 410
    assert "此领取链接已失效" in response.get_data(as_text=True)


def test_a_public_url_with_a_path_keeps_it_in_the_wallet_link() -> None:
    base = "https://gov.example.cn/epermit"
    assert wallet_link(base, "abc") == "/epermit/wallet/?credential_offer_uri=" + quote(f"{base}/offers/abc", safe="")
