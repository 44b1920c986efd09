"""Status list publication as served: a change is in the signed list at once (within 1 s under a burst),
Content-Type application/statuslist+jwt, ttl, ETag / If-None-Match 304, CORS, gzip, the aggregation."""

from __future__ import annotations

import gzip

from credential.statuslist import INVALID, SUSPENDED, verify_status_list_token
from issuer.service import IssuerService
from keys import KeyRing, Purpose
from tests.conftest import FakeClock
from wallet_api import create_app
from wallet_api.settings import WalletApiSettings

from .conftest import PUBLIC_URL
from .test_service import issue, resolver


def test_served_lists_follow_every_change(service: IssuerService, keyring: KeyRing, clock: FakeClock) -> None:
    client = create_app(WalletApiSettings(public_url=PUBLIC_URL), service).test_client()
    record, (cred,), _ = issue(service)
    path = cred.status_uri.removeprefix(PUBLIC_URL)
    keys = resolver(keyring.signer_for(Purpose.STATUS, now=clock())).__getitem__

    plain = client.get(path)
    assert plain.status_code == 200 and plain.mimetype == "application/statuslist+jwt"
    assert plain.headers["Access-Control-Allow-Origin"] == "*" and "Content-Encoding" not in plain.headers
    assert verify_status_list_token(plain.get_data(as_text=True), uri=cred.status_uri, resolve_key=keys,
                                    now=clock()).ttl == service.settings.status_list_ttl
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert client.get(path, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
    assert client.get(path, headers={"If-None-Match": zipped.headers["ETag"],
                                     "Accept-Encoding": "gzip"}).status_code == 304

    service.suspend(record.id, officer="sup", reason="", reason_code="LOST")  # same second as the last signing
    service.lift(record.id, officer="sup", reason="", reason_code="RESOLVED")
    service.revoke(record.id, officer="sup", reason="", reason_code="FRAUD")  # a burst: iat runs ahead
    clock.advance(1)  # within one second the burst's last change is published
    after = client.get(path, headers={"If-None-Match": plain.headers["ETag"]})
    assert after.status_code == 200
    token = verify_status_list_token(after.get_data(as_text=True), uri=cred.status_uri, resolve_key=keys,
                                     now=clock() + 5)
    assert token.status_list.get(cred.status_idx) == INVALID != SUSPENDED
    assert cred.status_uri in client.get("/statuslists").json["status_lists"]
