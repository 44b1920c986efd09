"""The discovery documents: issuer metadata, AS metadata, JWT VC issuer JWKS and the vct type metadata."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from credential.jwk import load_public_jwk, public_jwk
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from credential.sdjwt import PERSONAL_CLAIMS
from issuer.model import Offer
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from keys import KeyRing, KeySigner, Purpose, revoke, rotate
from tests.conftest import FakeClock
from tests.wallet_api.conftest import PUBLIC_URL
from tests.wallet_api.support import PRE_AUTH_GRANT, fetch_nonce, make_proof, redeem
from wallet_api import WalletApiSettings, create_app

CONFIGURATIONS = ("residence_permit_sd_jwt", "residence_permit_qr", "residence_registration_sd_jwt",
                  "residence_registration_qr")


def get_json(client: FlaskClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, path
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def test_issuer_metadata(client: FlaskClient) -> None:
    document = get_json(client, "/.well-known/openid-credential-issuer")
    assert document["credential_issuer"] == PUBLIC_URL
    assert document["credential_endpoint"] == f"{PUBLIC_URL}/credential"
    assert document["nonce_endpoint"] == f"{PUBLIC_URL}/nonce"
    assert document["batch_credential_issuance"] == {"batch_size": 5}
    assert [d["locale"] for d in document["display"]] == ["zh-CN", "en"]
    assert document["display"][0]["name"] == "北京市公安局朝阳分局"
    configurations = document["credential_configurations_supported"]
    assert tuple(configurations) == CONFIGURATIONS
    for configuration_id, configuration in configurations.items():
        assert configuration["scope"] == configuration_id
        assert configuration["cryptographic_binding_methods_supported"] == ["jwk"]
        assert configuration["credential_signing_alg_values_supported"] == ["ES256"]
        assert configuration["proof_types_supported"] == {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}
        assert [d["locale"] for d in configuration["credential_metadata"]["display"]] == ["zh-CN", "en"]
    permit = configurations["residence_permit_sd_jwt"]
    assert permit["format"] == "dc+sd-jwt"
    assert permit["vct"] == f"{PUBLIC_URL}/vct/residence-permit/1"
    assert permit["credential_metadata"]["display"][0]["name"] == "居住证"
    assert [c["path"] for c in permit["credential_metadata"]["claims"]] == [[c] for c in PERSONAL_CLAIMS]
    assert configurations["residence_registration_sd_jwt"]["vct"] == f"{PUBLIC_URL}/vct/residence-registration/1"
    assert configurations["residence_permit_qr"]["format"] == "epermit_qr_pass"


def test_metadata_is_utf8_not_escaped(client: FlaskClient) -> None:
    body = client.get("/.well-known/openid-credential-issuer").get_data()
    assert "居住证".encode() in body and b"\\u" not in body


def test_batch_size_one_omits_batch_issuance(service: Any, clock: FakeClock) -> None:
    from wallet_api import WalletApiSettings, create_app

    app = create_app(WalletApiSettings(public_url=PUBLIC_URL, batch_size=1), service, clock=clock)
    assert "batch_credential_issuance" not in app.test_client().get("/.well-known/openid-credential-issuer").get_json()


def test_authorization_server_metadata(client: FlaskClient) -> None:
    document = get_json(client, "/.well-known/oauth-authorization-server")
    assert document["issuer"] == PUBLIC_URL
    assert document["token_endpoint"] == f"{PUBLIC_URL}/token"
    assert document["pre-authorized_grant_anonymous_access_supported"] is True
    assert document["grant_types_supported"] == [PRE_AUTH_GRANT]


def test_jwt_vc_issuer_publishes_the_credential_and_status_signing_keys(client: FlaskClient,
                                                                        keyring: KeyRing) -> None:
    document = get_json(client, "/.well-known/jwt-vc-issuer")
    assert document["issuer"] == PUBLIC_URL
    keys = document["jwks"]["keys"]
    signers = [*keyring.signers_of(Purpose.CREDENTIAL), *keyring.signers_of(Purpose.STATUS)]
    # Issue 14: a generic verifier resolves the status list token's kid here too ("no key with kid ...").
    assert [key["kid"] for key in keys] == [signer.kid for signer in signers]
    for key, signer in zip(keys, signers, strict=True):
        assert public_jwk(load_public_jwk({k: key[k] for k in ("kty", "crv", "x", "y")})) == public_jwk(
            signer.public_key
        )
        assert key["alg"] == "ES256" and key["use"] == "sig" and "d" not in key
    assert keyring.root.kid not in {key["kid"] for key in keys}  # the root signs trust lists only


def test_jwt_vc_issuer_leaves_out_revoked_status_keys(store: Store, clock: FakeClock) -> None:
    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=clock.now - 86400)
    old_kid = ring.signers_of(Purpose.STATUS)[0].kid
    rotate(ring, Purpose.STATUS, now=clock.now)
    revoke(ring, old_kid, reason="key compromise drill", now=clock.now)
    service = IssuerService(store, ring, IssuerSettings(public_url=PUBLIC_URL, status_list_size=1024), clock)
    app = create_app(WalletApiSettings(public_url=PUBLIC_URL), service, clock=clock)
    kids = [key["kid"] for key in get_json(app.test_client(), "/.well-known/jwt-vc-issuer")["jwks"]["keys"]]
    assert kids == [ring.signers_of(Purpose.CREDENTIAL)[0].kid, ring.signers_of(Purpose.STATUS)[0].kid]
    assert old_kid not in kids


@pytest.mark.parametrize(
    ("path", "vct_path", "name_zh"),
    [("/vct/residence-permit/1", "/vct/residence-permit/1", "居住证"),
     ("/vct/residence-registration/1", "/vct/residence-registration/1", "居住登记卡")],
)
def test_type_metadata(client: FlaskClient, path: str, vct_path: str, name_zh: str) -> None:
    document = get_json(client, path)
    assert document["vct"] == PUBLIC_URL + vct_path
    assert [d["locale"] for d in document["display"]] == ["zh-CN", "en"]
    assert document["display"][0]["name"] == name_zh
    assert {tuple(c["path"]) for c in document["claims"]} == {(c,) for c in PERSONAL_CLAIMS}
    assert all(c["sd"] == "always" and len(c["display"]) == 2 for c in document["claims"])


@pytest.mark.parametrize("path", ["/vct/residence-permit/2", "/vct/passport/1", "/vct/"])
def test_unknown_type_metadata_is_404_json(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


# --- conformance with the openid4vci package's models (research/standards.md §6) ----------------------------

def test_openid4vci_models_accept_our_metadata(client: FlaskClient) -> None:
    metadata = pytest.importorskip("openid4vci.models.metadata")
    document = client.get("/.well-known/openid-credential-issuer").get_json()
    parsed = metadata.CredentialIssuerMetadata.model_validate(document)
    assert parsed.credential_issuer == PUBLIC_URL
    assert set(parsed.credential_configurations_supported) == set(CONFIGURATIONS)
    assert metadata.credential_issuer_metadata_url(PUBLIC_URL) == f"{PUBLIC_URL}/.well-known/openid-credential-issuer"
    as_metadata = metadata.AuthorizationServerMetadata.model_validate(
        client.get("/.well-known/oauth-authorization-server").get_json()
    )
    assert as_metadata.pre_authorized_grant_anonymous_access_supported is True


def test_openid4vci_models_accept_our_offer_token_nonce_and_credential_messages(
    client: FlaskClient, offer: Offer, device_key: KeySigner, clock: FakeClock
) -> None:
    offer_models = pytest.importorskip("openid4vci.models.offer")
    oauth = pytest.importorskip("openid4vci.models.oauth")
    nonce_models = pytest.importorskip("openid4vci.models.nonce")
    credential_models = pytest.importorskip("openid4vci.models.credential")

    parsed_offer = offer_models.CredentialOffer.model_validate(client.get(f"/offers/{offer.offer_id}").get_json())
    assert parsed_offer.credential_issuer == PUBLIC_URL
    token = oauth.TokenResponse.model_validate(redeem(client, offer.pre_authorized_code, offer.tx_code).get_json())
    nonce = nonce_models.NonceResponse.model_validate(client.post("/nonce").get_json()).c_nonce
    body = {"credential_configuration_id": "residence_permit_sd_jwt",
            "proofs": {"jwt": [make_proof(device_key, aud=PUBLIC_URL, nonce=nonce, iat=clock.now)]}}
    credential_models.CredentialRequest.model_validate(body)
    response = client.post("/credential", json=body, headers={"Authorization": f"Bearer {token.access_token}"})
    assert response.status_code == 200
    credential_models.CredentialResponse.model_validate(response.get_json())


def test_nonce_endpoint(client: FlaskClient) -> None:
    response = client.post("/nonce")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    first = response.get_json()["c_nonce"]
    assert len(first) >= 22 and first != fetch_nonce(client)


def test_our_offer_uri_is_the_one_openid4vci_builds(offer: Offer) -> None:
    offer_models = pytest.importorskip("openid4vci.models.offer")
    from issuer.model import offer_uri, offer_url

    expected = offer_models.offer_uri_by_reference(offer_url(PUBLIC_URL, offer.offer_id))
    assert offer_uri(PUBLIC_URL, offer.offer_id) == expected
