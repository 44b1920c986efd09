"""Public documents: status list aggregation, status list tokens (ETag/304, media type, CORS), trust list."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from credential.encoding import b64url_decode
from credential.jose import verify_signature
from credential.jwk import PublicKey, key_id
from credential.qrpass import live_qr_text
from credential.samples import sample_permit_valid_at
from credential.statuslist import INVALID, VALID, is_cwt, verify_status_list_cwt, verify_status_list_token
from credential.trustlist import verify_trust_list
from issuer.model import DeliveredCredential, Offer
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from keys import KeyRing, KeySigner, Purpose
from tests.conftest import FakeClock
from tests.wallet_api.conftest import OFFICER, PUBLIC_URL
from verifier.cache import VerifierCache, status_file_name
from verifier.policy import Policy
from verifier.result import Result
from verifier.sync import sync
from verifier.verify import verify
from wallet_api import WalletApiSettings, create_app


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
    client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: FakeClock
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
    client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: FakeClock
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


def test_trust_list(client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: FakeClock) -> None:
    delivered = deliver(service, offer)
    response = client.get("/trustlist.jwt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jwt"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    trust = verify_trust_list(response.get_data(as_text=True), root_key=keyring.root.public_key, now=clock.now)
    assert delivered.status_uri in trust.status_lists
    assert trust.aggregation_uri == f"{PUBLIC_URL}/statuslists"
    assert client.get("/trustlist.jwt", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


# --- issue 14: what a generic verifier needs (x5c, aggregation_uri, the CWT form) -----------------------------

CWT = "application/statuslist+cwt"
JWT = "application/statuslist+jwt"


def test_the_status_jwt_carries_an_x5c_chain_that_openssl_verifies(
    client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: FakeClock, tmp_path: Path
) -> None:
    delivered = deliver(service, offer)
    token = client.get(delivered.status_uri.removeprefix(PUBLIC_URL)).get_data(as_text=True)
    header = json.loads(b64url_decode(token.split(".")[0]))
    leaf, root = (x509.load_der_x509_certificate(base64.b64decode(der, validate=True)) for der in header["x5c"])
    assert root.public_bytes(Encoding.DER) == keyring.root_certificate.public_bytes(Encoding.DER)
    assert key_id(leaf.public_key()) == header["kid"]  # type: ignore[arg-type]  # the status key's certificate
    (tmp_path / "root.pem").write_bytes(root.public_bytes(Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(Encoding.PEM))
    checked = subprocess.run(["openssl", "verify", "-attime", str(clock.now), "-CAfile", str(tmp_path / "root.pem"),
                              str(tmp_path / "leaf.pem")], capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and checked.stdout.strip().endswith(": OK"), checked.stdout + checked.stderr
    # The leaf's key verifies the token, as a verifier that trusts the root and nothing else would check it.
    signing_input, signature = token.rsplit(".", 1)
    verify_signature("ES256", leaf.public_key(), signing_input.encode(), b64url_decode(signature))  # type: ignore[arg-type]
    payload = json.loads(b64url_decode(token.split(".")[1]))
    assert payload["status_list"]["aggregation_uri"] == f"{PUBLIC_URL}/statuslists"


def test_accept_chooses_the_form(
    client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: FakeClock
) -> None:
    delivered = deliver(service, offer)
    path = delivered.status_uri.removeprefix(PUBLIC_URL)
    chosen = {
        None: JWT, "*/*": JWT, JWT: JWT, "application/*": JWT, f"{JWT}, {CWT}": JWT,  # JWT stays the default
        CWT: CWT, f"{CWT}, {JWT};q=0.5": CWT, f"{JWT};q=0, */*": CWT, f"{CWT}, */*;q=0.1": CWT,
        f"{CWT};q=0, */*": JWT,
    }
    for accept, media_type in chosen.items():
        response = client.get(path, headers={} if accept is None else {"Accept": accept})
        assert response.status_code == 200, accept
        assert response.mimetype == media_type, accept
        assert response.vary.as_set() >= {"accept", "accept-encoding"}, accept
    for accept in ("text/html", "application/json", f"{JWT};q=0, {CWT};q=0", "*/*;q=0"):
        refused = client.get(path, headers={"Accept": accept})
        assert refused.status_code == 406, accept
        assert refused.get_json()["error"] == "not_acceptable"


def test_the_cwt_form_verifies_and_says_what_the_jwt_says(
    client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: FakeClock
) -> None:
    delivered = deliver(service, offer)
    service.revoke(offer.record_id, officer=OFFICER, reason="left the city")
    path = delivered.status_uri.removeprefix(PUBLIC_URL)
    jwt = client.get(path, headers={"Accept": JWT})
    cwt = client.get(path, headers={"Accept": CWT, "Accept-Encoding": "gzip"})
    assert cwt.headers["Content-Type"] == CWT and "Content-Encoding" not in cwt.headers  # zlib inside already
    assert cwt.headers["Access-Control-Allow-Origin"] == "*" and cwt.headers["Cache-Control"] == "public, max-age=300"
    from_cwt = verify_status_list_cwt(cwt.data, uri=delivered.status_uri, resolve_key=status_key(keyring),
                                      now=clock.now)
    from_jwt = verify_status_list_token(jwt.get_data(as_text=True), uri=delivered.status_uri,
                                        resolve_key=status_key(keyring), now=clock.now)
    assert from_cwt.status_list.get(delivered.status_idx) == INVALID
    assert (from_cwt.iat, from_cwt.exp, from_cwt.ttl, from_cwt.kid, from_cwt.aggregation_uri) == (
        from_jwt.iat, from_jwt.exp, from_jwt.ttl, from_jwt.kid, f"{PUBLIC_URL}/statuslists")
    assert from_cwt.status_list.data == from_jwt.status_list.data
    assert len(cwt.data) < len(jwt.data) * 0.8

    # Separate ETags: each form answers 304 to its own tag only.
    cwt_tag, jwt_tag = cwt.headers["ETag"], jwt.headers["ETag"]
    assert cwt_tag != jwt_tag
    assert client.get(path, headers={"Accept": CWT, "If-None-Match": cwt_tag}).status_code == 304
    assert client.get(path, headers={"Accept": CWT, "If-None-Match": jwt_tag}).status_code == 200
    assert client.get(path, headers={"Accept": JWT, "If-None-Match": cwt_tag}).status_code == 200
    # Signed once per generation: ECDSA signatures are randomised, so equal bytes mean the one signature.
    assert client.get(path, headers={"Accept": CWT}).data == cwt.data


def test_a_new_generation_gets_a_new_cwt(
    client: FlaskClient, service: IssuerService, offer: Offer, keyring: KeyRing, clock: FakeClock
) -> None:
    delivered = deliver(service, offer)
    path = delivered.status_uri.removeprefix(PUBLIC_URL)
    before = client.get(path, headers={"Accept": CWT})
    service.revoke(offer.record_id, officer=OFFICER, reason="left the city")
    after = client.get(path, headers={"Accept": CWT, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    verified = verify_status_list_cwt(after.data, uri=delivered.status_uri, resolve_key=status_key(keyring),
                                      now=clock.now)
    assert verified.status_list.get(delivered.status_idx) == INVALID


def test_verifier_sync_asks_for_and_keeps_the_cwt(
    store: Store, keyring: KeyRing, clock: FakeClock, tmp_path: Path
) -> None:
    """The verifier against the real wallet API on a loopback port: it sends Accept for the CWT, gets it,
    stores it, and judges a revoked pass by it with no JWT on disk."""
    accepts: dict[str, str | None] = {}
    apps: list[Flask] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        accepts[environ["PATH_INFO"]] = environ.get("HTTP_ACCEPT")
        return apps[0](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    service = IssuerService(store, keyring, IssuerSettings(public_url=base, status_list_size=1024), clock)
    apps.append(create_app(WalletApiSettings(public_url=base), service, clock=clock))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        record = service.register(sample_permit_valid_at(clock.now), officer=OFFICER)
        offer = service.create_offer(record.id, officer=OFFICER)
        holder = KeySigner.generate()
        [delivered] = service.deliver(service.redeem(offer.pre_authorized_code, offer.tx_code), [holder.public_key],
                                      offer.configuration_ids[0])
        service.revoke(record.id, officer=OFFICER, reason="left the city")
        cache = VerifierCache(tmp_path / "cache")
        summary = sync(base, cache, now=clock.now, root_pem=keyring.root_certificate.public_bytes(Encoding.PEM))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert summary.ok and summary.status_lists == (delivered.status_uri,)
    assert accepts["/statuslists/1"] == f"{CWT}, {JWT};q=0.5"
    held = cache.directory / "status"
    assert sorted(p.name for p in held.iterdir()) == [status_file_name(delivered.status_uri, "cwt")]
    assert is_cwt((held / status_file_name(delivered.status_uri, "cwt")).read_bytes())
    qr = live_qr_text(delivered.qr_pass, holder_signer=holder, now=clock.now)
    assert verify(qr, cache, policy=Policy(), now=clock.now).result is Result.REVOKED
