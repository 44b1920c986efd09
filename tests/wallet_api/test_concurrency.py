"""Against a real threaded server on both stores: the whole pickup over HTTP, and single use under a crowd.

50 threads start together (a barrier) and send the same pre-authorized code, or the same c_nonce, at once:
exactly one wins, every other one gets the spec's error, on SQLite and on Redis.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable

import pytest
from werkzeug.serving import BaseWSGIServer

from credential.jwk import public_jwk
from credential.sdjwt import verify_sd_jwt_vc
from issuer.model import Offer, offer_uri
from issuer.service import IssuerService
from keys.keyring import KeyRing
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES, OFFICER, PUBLIC_URL
from tests.wallet_api.httpclient import Answer, call
from tests.wallet_api.support import PRE_AUTH_GRANT, make_proof
from tests.wallet_api.test_flow import resolver
from wallet_api import WalletApiSettings

THREADS = 50


@pytest.fixture
def settings() -> WalletApiSettings:
    # Limits out of the way: these tests are about atomic single use, test_ratelimit.py about the limits.
    return WalletApiSettings(public_url=PUBLIC_URL, token_requests_per_client=10_000, token_requests_per_code=10_000,
                             nonce_requests_per_client=10_000)


def local(server: BaseWSGIServer, public: str) -> str:
    """The server's address for a public URL (the app is published at PUBLIC_URL)."""
    return f"http://127.0.0.1:{server.server_port}" + public.removeprefix(PUBLIC_URL)


def crowd(action: Callable[[], Answer]) -> list[Answer]:
    start = threading.Barrier(THREADS)
    results: list[Answer] = []
    lock = threading.Lock()

    def run() -> None:
        start.wait()
        answer = action()
        with lock:
            results.append(answer)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == THREADS
    return results


def token_form(offer: Offer) -> dict[str, str]:
    return {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": offer.pre_authorized_code, "tx_code": offer.tx_code}


@BOTH_STORES
def test_fifty_concurrent_redemptions_yield_exactly_one_token(server: BaseWSGIServer, offer: Offer) -> None:
    results = crowd(lambda: call("POST", local(server, f"{PUBLIC_URL}/token"), form=token_form(offer)))
    winners = [answer for answer in results if answer.status == 200]
    assert len(winners) == 1, [(a.status, a.body[:80]) for a in results]
    assert "access_token" in winners[0].json()
    assert {(a.status, a.json()["error"]) for a in results if a.status != 200} == {(400, "invalid_grant")}


@BOTH_STORES
def test_fifty_concurrent_uses_of_one_nonce_yield_exactly_one_credential(
    server: BaseWSGIServer, service: IssuerService, offer: Offer, device_key: KeySigner, clock: FakeClock
) -> None:
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    nonce = call("POST", local(server, f"{PUBLIC_URL}/nonce")).json()["c_nonce"]
    proof = make_proof(device_key, aud=PUBLIC_URL, nonce=nonce, iat=clock.now)  # one proof, sent 50 times
    body = {"credential_configuration_id": "residence_permit_sd_jwt", "proofs": {"jwt": [proof]}}
    results = crowd(lambda: call("POST", local(server, f"{PUBLIC_URL}/credential"), body=body, token=token))
    winners = [answer for answer in results if answer.status == 200]
    assert len(winners) == 1, [(a.status, a.body[:80]) for a in results]
    assert {(a.status, a.json()["error"]) for a in results if a.status != 200} == {(400, "invalid_nonce")}
    assert len(service.store.delivered(offer.record_id)) == 1


@BOTH_STORES
def test_a_resident_picks_up_over_http(
    server: BaseWSGIServer, service: IssuerService, offer: Offer, keyring: KeyRing, clock: FakeClock
) -> None:
    """What docs/wallet.md describes, step by step, as a wallet does it."""
    # 1. The officer's QR holds openid-credential-offer://?credential_offer_uri=...; the PIN goes on paper.
    uri = offer_uri(PUBLIC_URL, offer.offer_id)
    [offer_url] = urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["credential_offer_uri"]
    document = call("GET", local(server, offer_url)).json()
    issuer = document["credential_issuer"]
    metadata = call("GET", local(server, f"{issuer}/.well-known/openid-credential-issuer")).json()
    authorization = call("GET", local(server, f"{issuer}/.well-known/oauth-authorization-server")).json()
    # 2. Code + PIN -> access token.
    code = document["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]
    form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code, "tx_code": offer.tx_code}
    token = call("POST", local(server, authorization["token_endpoint"]), form=form).json()["access_token"]
    # 3. A c_nonce, a key proof from the device key, the credential.
    device = KeySigner.generate()
    nonce = call("POST", local(server, metadata["nonce_endpoint"])).json()["c_nonce"]
    body = {"credential_configuration_id": document["credential_configuration_ids"][0],
            "proofs": {"jwt": [make_proof(device, aud=issuer, nonce=nonce, iat=clock.now)]}}
    answer = call("POST", local(server, metadata["credential_endpoint"]), body=body, token=token)
    assert answer.status == 200, answer.body
    response = answer.json()
    verified = verify_sd_jwt_vc(response["credentials"][0]["credential"], resolve_key=resolver(keyring),
                                now=clock.now, require_key_binding=False)
    assert verified.holder_key is not None and public_jwk(verified.holder_key) == public_jwk(device.public_key)
    # 4. The wallet stored it: it says so, and the officer sees the pickup confirmed.
    report = {"notification_id": response["notification_id"], "event": "credential_accepted"}
    assert call("POST", local(server, metadata["notification_endpoint"]), body=report, token=token).status == 204
    assert "pickup_confirmed" in [entry.action for entry in service.audit.list()]
    # 5. The code is spent.
    assert call("POST", local(server, authorization["token_endpoint"]), form=form).status == 400


@BOTH_STORES
def test_a_deferred_pickup_over_http(
    server: BaseWSGIServer, service: IssuerService, clock: FakeClock
) -> None:
    from credential.samples import sample_permit_valid_at

    record = service.register(sample_permit_valid_at(service.clock()), officer=OFFICER)
    offer = service.create_offer(record.id, officer=OFFICER, pending=True)
    token = call("POST", local(server, f"{PUBLIC_URL}/token"), form=token_form(offer)).json()["access_token"]
    nonce = call("POST", local(server, f"{PUBLIC_URL}/nonce")).json()["c_nonce"]
    body = {"credential_configuration_id": "residence_permit_qr",
            "proofs": {"jwt": [make_proof(KeySigner.generate(), aud=PUBLIC_URL, nonce=nonce, iat=clock.now)]}}
    answer = call("POST", local(server, f"{PUBLIC_URL}/credential"), body=body, token=token)
    assert answer.status == 202
    poll = {"transaction_id": answer.json()["transaction_id"]}
    assert call("POST", local(server, f"{PUBLIC_URL}/deferred_credential"), body=poll, token=token).status == 202
    service.approve(record.id, officer="supervisor-0001")
    results = crowd(lambda: call("POST", local(server, f"{PUBLIC_URL}/deferred_credential"), body=poll, token=token))
    winners = [a for a in results if a.status == 200]
    assert len(winners) == 1, [(a.status, a.body[:80]) for a in results]
    assert winners[0].json()["credentials"][0]["credential"].startswith("EP1:")
    assert {(a.status, a.json()["error"]) for a in results if a.status != 200} == {(400, "invalid_transaction_id")}
    assert len(service.store.delivered(record.id)) == 1
