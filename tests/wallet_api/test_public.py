"""Public documents: status list aggregation, status list tokens (ETag/304, media type, CORS), trust list."""

from __future__ import annotations

from flask.testing import FlaskClient

from credential.jwk import PublicKey
from credential.statuslist import INVALID, VALID, verify_status_list_token
from credential.trustlist import verify_trust_list
from issuer.model import DeliveredCredential, Offer
from issuer.service import IssuerService
from keys import KeyRing, KeySigner, Purpose
from tests.wallet_api.conftest import OFFICER, PUBLIC_URL, Clock


def deliver(service: IssuerService, offer: Offer) -> DeliveredCredential:
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    [delivered] = service.deliver(token, [KeySigner.generate().public_key], offer.configuration_ids[0])
    return delivered


def status_key(keyring: KeyRing):  # type: ignore[no-untyped-def]
    keys = {signer.kid: signer.public_key for signer in keyring.signers_of(Purpose.STATUS)}

    def resolve(kid: str) -> PublicKey:
        return keys[kid]

    return resolve


def test_aggregation_lists_every_status_list(client: FlaskClient, service: IssuerService, offer: Offer) -> None:
    delivered = deliver(service, offer)
    response = client.get("/statuslists")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert delivered.status_uri in response.get_json()["status_lists"]
    assert response.get_json() == {"status_lists": service.status_list_uris()}


def test_status_list_token_media_type_cache_and_cors(
    client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: Clock
) -> None:
    delivered = deliver(service, offer)
    path = delivered.status_uri.removeprefix(PUBLIC_URL)
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/statuslist+jwt"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    verified = verify_status_list_token(response.get_data(as_text=True), uri=delivered.status_uri,
                                        resolve_key=status_key(keyring), now=clock.now)
    assert verified.status_list.get(delivered.status_idx) == VALID
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')

    not_modified = client.get(path, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.data == b""
    assert not_modified.headers["ETag"] == etag
    assert client.get(path, headers={"If-None-Match": '"other", ' + etag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": "*"}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_a_revocation_changes_the_etag_and_the_entry(
    client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: Clock
) -> None:
    delivered = deliver(service, offer)
    path = delivered.status_uri.removeprefix(PUBLIC_URL)
    before = client.get(path).headers["ETag"]
    service.revoke(offer.record_id, officer=OFFICER, reason="left the city")
    response = client.get(path, headers={"If-None-Match": before})
    assert response.status_code == 200
    assert response.headers["ETag"] != before
    verified = verify_status_list_token(response.get_data(as_text=True), uri=delivered.status_uri,
                                        resolve_key=status_key(keyring), now=clock.now)
    assert verified.status_list.get(delivered.status_idx) == INVALID


def test_unknown_status_lists_are_404_json(client: FlaskClient, service: IssuerService, offer: Offer) -> None:
    deliver(service, offer)
    for path in ("/statuslists/999999", "/statuslists/abc", "/statuslists/" + "9" * 30, "/statuslists/-1",
                 "/statuslists/%EF%BC%91"):  # a full-width digit one
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"] == "not_found"


def test_trust_list(client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: Clock) -> None:
    delivered = deliver(service, offer)
    response = client.get("/trustlist.jwt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jwt"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    trust = verify_trust_list(response.get_data(as_text=True), root_key=keyring.root.public_key, now=clock.now)
    assert delivered.status_uri in trust.status_lists
    assert trust.aggregation_uri == f"{PUBLIC_URL}/statuslists"
    assert client.get("/trustlist.jwt", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
