"""The whole pre-authorized code flow through the Flask test client, as a wallet runs it."""

from __future__ import annotations

import urllib.parse

from flask.testing import FlaskClient

from credential import qrpass
from credential.jwk import PublicKey, public_jwk
from credential.sdjwt import verify_sd_jwt_vc
from issuer.model import Offer
from issuer.service import IssuerService
from keys import KeyRing, KeySigner, Purpose
from tests.conftest import FakeClock
from tests.credential.pass_support import keys_resolver
from tests.wallet_api.conftest import PUBLIC_URL
from tests.wallet_api.support import PRE_AUTH_GRANT, fetch_nonce, make_proof, redeem, request_credential


def resolver(keyring: KeyRing):  # type: ignore[no-untyped-def]
    keys = {signer.kid: signer.public_key for signer in keyring.signers_of(Purpose.CREDENTIAL)}

    def resolve(kid: str) -> PublicKey:
        return keys[kid]

    return resolve


def pick_up_token(client: FlaskClient, offer: Offer) -> str:
    """Metadata -> offer by reference -> token with the PIN, checking each answer on the way."""
    issuer = client.get("/.well-known/openid-credential-issuer").get_json()
    assert issuer["credential_issuer"] == PUBLIC_URL
    authorization_server = client.get("/.well-known/oauth-authorization-server").get_json()
    assert authorization_server["token_endpoint"] == f"{PUBLIC_URL}/token"

    response = client.get(f"/offers/{offer.offer_id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    document = response.get_json()
    assert document["credential_issuer"] == PUBLIC_URL
    assert document["credential_configuration_ids"] == ["residence_permit_sd_jwt", "residence_permit_qr"]
    assert set(document["credential_configuration_ids"]) <= set(issuer["credential_configurations_supported"])
    grant = document["grants"][PRE_AUTH_GRANT]
    assert grant["tx_code"]["input_mode"] == "numeric" and grant["tx_code"]["length"] == 6

    response = redeem(client, grant["pre-authorized_code"], offer.tx_code)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    token: str = body["access_token"]
    return token


def test_sd_jwt_vc_pickup_is_bound_to_the_proof_key(
    client: FlaskClient, offer: Offer, keyring: KeyRing, device_key: KeySigner, clock: FakeClock
) -> None:
    token = pick_up_token(client, offer)
    proof = make_proof(device_key, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
    response = request_credential(client, token, "residence_permit_sd_jwt", [proof])
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    credentials = response.get_json()["credentials"]
    assert len(credentials) == 1
    verified = verify_sd_jwt_vc(credentials[0]["credential"], resolve_key=resolver(keyring), now=clock.now,
                                require_key_binding=False)
    assert verified.holder_key is not None
    assert public_jwk(verified.holder_key) == public_jwk(device_key.public_key)
    assert verified.claims["iss"] == PUBLIC_URL
    assert verified.claims["vct"] == f"{PUBLIC_URL}/vct/residence-permit/1"
    assert verified.claims["name"] == "张伟"
    assert verified.status_uri.startswith(f"{PUBLIC_URL}/statuslists/")


def test_qr_pass_pickup_is_bound_to_the_proof_key(
    client: FlaskClient, offer: Offer, keyring: KeyRing, device_key: KeySigner, clock: FakeClock
) -> None:
    token = pick_up_token(client, offer)
    for configuration_id in ("residence_permit_sd_jwt", "residence_permit_qr"):  # one token, both encodings
        proof = make_proof(device_key, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
        response = request_credential(client, token, configuration_id, [proof])
        assert response.status_code == 200, response.get_json()
    text = response.get_json()["credentials"][0]["credential"]
    assert text.startswith("EP1:")
    decoded = qrpass.decode_qr_text(text)
    verified = qrpass.verify_pass(decoded, resolve_key=keys_resolver(
        keyring.signers_of(Purpose.CREDENTIAL), authority_code=keyring.authority_code,
        authority_name=keyring.authority_name),
        now=clock.now)
    assert public_jwk(verified.holder_key) == public_jwk(device_key.public_key)
    assert verified.permit.holder.name == "张伟"
    assert (verified.permit.authority_code, verified.permit.authority_name) == ("110105", "北京市公安局朝阳分局")
    # The live QR the wallet shows verifies against the key the pass carries.
    live = qrpass.decode_qr_text(qrpass.live_qr_text(decoded.cose_pass, holder_signer=device_key, now=clock.now))
    assert qrpass.verify_live_proof(live, verified.holder_key, now=clock.now) == clock.now


def test_a_batch_of_two_keys_gives_two_credentials_with_distinct_status_indices(
    client: FlaskClient, offer: Offer, keyring: KeyRing, clock: FakeClock
) -> None:
    token = pick_up_token(client, offer)
    keys = [KeySigner.generate("ES256"), KeySigner.generate("ES256")]
    nonce = fetch_nonce(client)  # one c_nonce for the whole batch, as wallets do
    proofs = [make_proof(key, aud=PUBLIC_URL, nonce=nonce, iat=clock.now) for key in keys]
    response = request_credential(client, token, "residence_permit_sd_jwt", proofs)
    assert response.status_code == 200, response.get_json()
    credentials = response.get_json()["credentials"]
    assert len(credentials) == 2
    verified = [verify_sd_jwt_vc(c["credential"], resolve_key=resolver(keyring), now=clock.now,
                                 require_key_binding=False) for c in credentials]
    assert [public_jwk(v.holder_key) for v in verified if v.holder_key] == [public_jwk(k.public_key) for k in keys]
    assert verified[0].status_idx != verified[1].status_idx


def test_registration_card_offer_uses_its_own_configurations(
    client: FlaskClient, service: IssuerService, keyring: KeyRing, device_key: KeySigner, clock: FakeClock
) -> None:
    from credential.model import CredentialType
    from credential.samples import sample_permit

    record = service.register(sample_permit(CredentialType.RESIDENCE_REGISTRATION, resident=1), officer="o-1")
    offer = service.create_offer(record.id, officer="o-1")
    document = client.get(f"/offers/{offer.offer_id}").get_json()
    assert document["credential_configuration_ids"] == ["residence_registration_sd_jwt", "residence_registration_qr"]
    token = redeem(client, offer.pre_authorized_code, offer.tx_code).get_json()["access_token"]
    proof = make_proof(device_key, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
    refused = request_credential(client, token, "residence_permit_sd_jwt", [proof])
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "unknown_credential_configuration"
    proof = make_proof(device_key, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
    response = request_credential(client, token, "residence_registration_sd_jwt", [proof])
    verified = verify_sd_jwt_vc(response.get_json()["credentials"][0]["credential"], resolve_key=resolver(keyring),
                                now=clock.now, require_key_binding=False)
    assert verified.claims["vct"] == f"{PUBLIC_URL}/vct/residence-registration/1"


def test_offer_qr_png_encodes_the_offer_uri(client: FlaskClient, offer: Offer) -> None:
    import io

    import zxingcpp
    from PIL import Image

    response = client.get(f"/offers/{offer.offer_id}/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(result.text).query)
    assert result.text.startswith("openid-credential-offer://?")
    assert query == {"credential_offer_uri": [f"{PUBLIC_URL}/offers/{offer.offer_id}"]}


def test_a_redeemed_offer_is_gone(client: FlaskClient, offer: Offer) -> None:
    assert redeem(client, offer.pre_authorized_code, offer.tx_code).status_code == 200
    for path in (f"/offers/{offer.offer_id}", f"/offers/{offer.offer_id}/qr.png", "/offers/no-such-offer"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"
