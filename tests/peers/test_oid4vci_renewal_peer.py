"""oid4vc-ts (@openid4vc/openid4vci) renews a credential by our authorization code flow, with its own PAR,
PKCE S256 and DPoP code (its defaults, a public client: client authentication `none`), against our real
issuer over https. oid4vc-ts has no OpenID4VP wallet, so the test answers the AS's OpenID4VP request (the
resident's login at /authorize) in between, with verifier.openid4vp, as the resident's wallet would."""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential.encoding import b64url_encode
from credential.jwk import public_jwk
from credential.sdjwt import present, verify_sd_jwt_vc
from credential.statuslist import INVALID
from epermit.http_client import request
from epermit.servers import BackgroundServer
from epermit.tls import LoopbackCA, verifier_identity
from epermit.wallet import OpenId4VciClient
from issuer.model import offer_uri
from issuer.service import IssuerService
from issuer.settings import IssuerSettings, system_clock
from issuer.store.sqlite import SQLiteStore
from keys import KeySigner, Purpose
from keys.keyring import KeyRing
from tests.peers.conftest import JS, PEER_TIMEOUT, node_peer
from tests.peers.test_oid4vci_peer import finish, stages
from tests.wallet_api.test_resident_requests import registered
from verifier.openid4vp import matching_query, parse_authorization_link, verify_request_object, vp_token_form
from wallet_api import WalletApiSettings, create_app

PACKAGE = "@openid4vc/openid4vci"
CONFIG = "residence_permit_sd_jwt"
REDIRECT = "https://peer-wallet.example.invalid/callback"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[str, IssuerService, LoopbackCA, Path]]:
    now = system_clock()
    ca = LoopbackCA(now=now)
    ca_file = ca.write_pem(tmp_path / "loopback-ca.pem")
    server = BackgroundServer("127.0.0.1", 0, ssl_context=ca.issue_server().ssl_context())
    keyring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 86400)
    service = IssuerService(SQLiteStore(tmp_path / "epermit.sqlite3"), keyring,
                            IssuerSettings(public_url=server.url, status_list_size=1024), system_clock)
    login = verifier_identity(ca, "127.0.0.1", name_zh="居民在线服务", name_en="Residents' online service")
    server.start(create_app(WalletApiSettings(public_url=server.url), service, login_verifier=login))
    try:
        yield server.url, service, ca, ca_file
    finally:
        server.stop()


def private_jwk(key: KeySigner) -> dict[str, str]:
    value = key.private_key.private_numbers().private_value  # type: ignore[union-attr]
    return {**public_jwk(key.public_key), "d": b64url_encode(value.to_bytes(32, "big"))}


def test_oid4vc_ts_renews_by_the_authorization_code_flow(
        office: tuple[str, IssuerService, LoopbackCA, Path]) -> None:
    url, service, ca, ca_file = office
    node = node_peer(PACKAGE)
    tls = ssl.create_default_context(cafile=str(ca_file))
    device = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=30)
    pickup = service.create_offer(record.id, officer="officer-0001")
    held = OpenId4VciClient(tls=tls).pick_up(offer_uri(url, pickup.offer_id), pickup.tx_code, device)
    assert held.sd_jwt_vc is not None
    challenge = request(f"{url}/resident/nonce", method="POST", tls=tls).json()
    shown = present(held.sd_jwt_vc, disclose=None, holder_signer=device, aud=challenge["audience"],
                    nonce=challenge["nonce"], now=system_clock())
    asked = request(f"{url}/resident/requests", method="POST", json_body={"kind": "endorse"}, tls=tls,
                    headers={"Authorization": f"Presentation {shown}"}).json()
    assert asked["request"]["state"] == "approved"
    # The offer the peer starts from: this issuer's configuration with the authorization_code grant.
    offer = {"credential_issuer": url, "credential_configuration_ids": [CONFIG], "grants": {"authorization_code": {}}}
    argument = json.dumps({"offer": "openid-credential-offer://?" + urllib.parse.urlencode(
        {"credential_offer": json.dumps(offer)}), "configuration": CONFIG, "scope": CONFIG,
        "client_id": "oid4vc-ts-peer", "redirect_uri": REDIRECT, "device_jwk": private_jwk(device)})
    process = subprocess.Popen([str(node), str(JS / "oid4vci_renewal.mjs"), argument], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=JS,
                               env={"PATH": "/usr/bin:/bin", "NODE_EXTRA_CA_CERTS": str(ca_file)})
    try:
        seen = stages(process, until="authorization")
        assert seen["authorization"]["pkce_method"] == "S256"
        authorize = seen["authorization"]["url"]
        assert set(urllib.parse.parse_qs(urllib.parse.urlsplit(authorize).query)) == {"client_id", "request_uri"}
        opener = urllib.request.build_opener(_NoRedirects(), urllib.request.HTTPSHandler(context=tls))
        with pytest.raises(urllib.error.HTTPError) as sent_on:
            opener.open(authorize, timeout=PEER_TIMEOUT)
        assert sent_on.value.code == 303
        link = parse_authorization_link(sent_on.value.headers["Location"])
        token = urllib.request.urlopen(urllib.request.Request(link.request_uri), context=tls,
                                       timeout=PEER_TIMEOUT).read().decode("ascii")
        vp = verify_request_object(token, link=link, trust_anchors=[ca.certificate], now=system_clock())
        query, credential = matching_query(vp, [held.sd_jwt_vc])
        answer = request(vp.response_uri, method="POST", tls=tls,
                         form=vp_token_form(vp, query, credential, holder_signer=device, now=system_clock())).json()
        back = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer["redirect_uri"]).query))
        assert answer["redirect_uri"].startswith(REDIRECT + "?") and back["iss"] == url
        assert process.stdin is not None
        process.stdin.write(json.dumps({"code": back["code"]}) + "\n")
        process.stdin.flush()
        seen = stages(process, until="credentials")
        assert seen["token"]["token_type"] == "DPoP"
    finally:
        finish(process)
    signing = {s.kid: s.public_key for s in service.keyring.signers_of(Purpose.CREDENTIAL)}
    [renewed] = seen["credentials"]["credentials"]
    new = verify_sd_jwt_vc(renewed, resolve_key=signing.__getitem__, now=system_clock(), require_key_binding=False)
    old = verify_sd_jwt_vc(held.sd_jwt_vc, resolve_key=signing.__getitem__, now=system_clock(),
                           require_key_binding=False)
    assert new.claims["exp"] > old.claims["exp"]
    assert new.holder_key is not None and public_jwk(new.holder_key) == public_jwk(device.public_key)
    number = int(old.status_uri.rsplit("/", 1)[1])
    assert service.store.status_bits(number).get(old.status_idx) == INVALID  # accepted: the old one retired


