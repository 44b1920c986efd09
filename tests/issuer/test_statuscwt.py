"""The CWT form of the published lists: derived from the JWT alone, once per generation, by the JWT's key."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from credential.statuslist import INVALID, StatusList, sign_status_list_token, verify_status_list_cwt
from epermit.http_client import request
from issuer.model import PublishedStatusList
from issuer.statuscwt import CwtForms
from issuer.store.sqlite import SQLiteStore
from keys import KeyManagementError, KeyNotFoundError, KeyRing, Purpose, revoke, rotate
from tests.conftest import T0

from .redis_office import Office, OfficeClient, pick_up, registration_card, seed_officers
from .redis_server import REDIS_SERVER, RedisServer

URI = "https://permits.example.gov.cn/statuslists/1"
CWT = "application/statuslist+cwt"


def published(ring: KeyRing, lst: StatusList, *, iat: int = T0) -> PublishedStatusList:
    signer = ring.signer_for(Purpose.STATUS, now=iat)
    token = sign_status_list_token(lst, uri=URI, signer=signer, now=iat, ttl=300, exp=iat + 86400)
    return PublishedStatusList(URI, token, f"etag-{iat}", iat)


def resolver(ring: KeyRing):  # type: ignore[no-untyped-def]
    return lambda kid: next(s.public_key for s in ring.signers_of(Purpose.STATUS) if s.kid == kid)


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=T0 - 86400)


def test_derived_from_the_jwt_alone_and_signed_once_per_generation(ring: KeyRing) -> None:
    forms, lst = CwtForms(), StatusList(1024, 2)
    first = published(ring, lst)
    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(forms.cwt_for(first, ring).data)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1  # ECDSA is randomised: one value is one signature
    cwt = forms.cwt_for(first, ring)
    assert cwt.source_etag == first.etag and cwt.uri == URI and cwt.etag != first.etag
    assert verify_status_list_cwt(cwt.data, uri=URI, resolve_key=resolver(ring), now=T0).iat == T0

    lst.set(5, INVALID)
    second = published(ring, lst, iat=T0 + 1)
    renewed = forms.cwt_for(second, ring)
    assert renewed.data != cwt.data and renewed.source_etag == second.etag
    assert verify_status_list_cwt(renewed.data, uri=URI, resolve_key=resolver(ring),
                                  now=T0 + 1).status_list.get(5) == INVALID


def test_signed_by_the_key_that_signed_the_jwt(ring: KeyRing) -> None:
    old_kid = ring.signers_of(Purpose.STATUS)[0].kid
    jwt = published(ring, StatusList(1024, 2))
    rotate(ring, Purpose.STATUS, now=T0)  # a newer key signs from now on; the published JWT is the old key's
    cwt = CwtForms().cwt_for(jwt, ring)
    assert verify_status_list_cwt(cwt.data, uri=URI, resolve_key=resolver(ring), now=T0).kid == old_kid
    revoke(ring, old_kid, reason="compromise drill", now=T0)
    with pytest.raises(KeyManagementError, match="revoked"):
        CwtForms().cwt_for(jwt, ring)
    stranger = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=T0 - 86400)
    with pytest.raises(KeyNotFoundError):
        CwtForms().cwt_for(published(stranger, StatusList(1024, 2)), ring)


def test_publication_names_the_aggregation_and_the_chain(ring: KeyRing, tmp_path: Path) -> None:
    from credential.encoding import b64url_decode, json_loads
    from issuer.service import IssuerService
    from issuer.settings import IssuerSettings
    from tests.conftest import FakeClock

    service = IssuerService(SQLiteStore(tmp_path / "s.sqlite3"), ring,
                            IssuerSettings(public_url="https://permits.example.gov.cn", status_list_size=1024),
                            FakeClock())
    token = service.published_status_list("1").token
    header = json_loads(b64url_decode(token.split(".")[0]), max_size=1 << 16)
    payload = json_loads(b64url_decode(token.split(".")[1]), max_size=1 << 20)
    assert payload["status_list"]["aggregation_uri"] == "https://permits.example.gov.cn/statuslists"
    assert len(header["x5c"]) == 2  # the status certificate, then the root (openssl: tests/wallet_api)


@pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
def test_the_cwt_is_served_while_redis_is_down(tmp_path: Path, ring: KeyRing) -> None:
    from issuer.store.redis import RedisStore

    server = RedisServer(tmp_path / "redis").start()
    store = RedisStore.from_url(server.url, prefix="{cwt}")
    office = Office(store, ring)
    try:
        client = OfficeClient(office.officer_url, seed_officers(store, office.service.keyed))
        offer_uri, tx_code = client.offer(client.register(registration_card(1)))
        status_uri, _ = pick_up(offer_uri, tx_code)[0]
        before = request(status_uri, headers={"Accept": CWT})
        server.kill9()
        during = request(status_uri, headers={"Accept": CWT})  # the last JWT served, its CWT from memory
        assert during.body == before.body and during.headers["Content-Type"] == CWT
    finally:
        office.stop()
        server.stop()
