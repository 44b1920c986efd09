"""Every refusal of the wallet API says it in Chinese too: ``error_description_zh`` beside the RFC 6749 ASCII
``error_description`` (an extra member, §5.2), on the real app (the command-line wallet printing it first:
tests/epermit/test_wallet.py, the wrong PIN)."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from issuer.model import Offer
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.wallet_api.conftest import PUBLIC_URL
from tests.wallet_api.support import dpop_proof
from wallet_api import WalletApiSettings, create_app
from wallet_api.error_words import ERROR_ZH, GENERAL
from wallet_api.openapi import openapi_document

CJK = re.compile(r"[\u4e00-\u9fff]")


def refusal(response: Any, error: str) -> dict[str, str]:
    body: dict[str, str] = response.get_json()
    assert body["error"] == error, body
    assert body["error_description"].isascii() and body["error_description"]  # RFC 6749 §5.2, unchanged
    assert CJK.search(body["error_description_zh"]), body
    return body


def _codes(node: Any) -> set[str]:
    """Every error code the OpenAPI document lists (the enums of its error responses)."""
    if isinstance(node, dict):
        found = set(node["properties"]["error"]["enum"]) if "error" in node.get("properties", {}) and \
            "enum" in node["properties"]["error"] else set()
        return found.union(*(_codes(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_codes(v) for v in node))
    return set()


def test_every_error_code_the_wallet_api_documents_has_its_own_chinese_words() -> None:
    codes = _codes(openapi_document(PUBLIC_URL))
    assert len(codes) > 20
    assert sorted(codes - set(ERROR_ZH)) == []
    assert all(CJK.search(words) for words in ERROR_ZH.values()) and GENERAL not in ERROR_ZH.values()


def test_a_wrong_pin_an_unknown_token_and_a_missing_route_are_refused_in_both_languages(
    client: FlaskClient, offer: Offer
) -> None:
    wrong = client.post("/token", data={"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                                        "pre-authorized_code": offer.pre_authorized_code, "tx_code": "000000"
                                        if offer.tx_code != "000000" else "111111"})
    assert refusal(wrong, "invalid_grant")["error_description_zh"] == "取证密码（PIN）不正确，还可尝试 4 次"
    unknown = client.post("/credential", json={"credential_configuration_id": "residence_permit_sd_jwt"},
                          headers={"Authorization": "Bearer not-a-token"})
    assert refusal(unknown, "invalid_token")["error_description_zh"] == ERROR_ZH["invalid_token"]
    missing = client.get("/no-such-thing")
    assert missing.status_code == 404 and CJK.search(missing.get_json()["error_description_zh"])


def test_a_dpop_nonce_refusal_is_said_in_both_languages(service: IssuerService, offer: Offer) -> None:
    app = create_app(WalletApiSettings(public_url=PUBLIC_URL, dpop_nonce_required=True), service)
    proof = dpop_proof(KeySigner.generate("ES256"), htu=f"{PUBLIC_URL}/token", iat=service.clock())
    answer = app.test_client().post("/token", headers={"DPoP": proof}, data={
        "grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        "pre-authorized_code": offer.pre_authorized_code, "tx_code": offer.tx_code})
    assert answer.status_code == 400 and answer.headers["DPoP-Nonce"]
    assert refusal(answer, "use_dpop_nonce")["error_description_zh"] == ERROR_ZH["use_dpop_nonce"]
