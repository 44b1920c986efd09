"""The whole renewal with real https servers (the demo office: SQLite) and the wallet library the CLI runs:
first pickup -> endorse -> `refresh` through PAR, PKCE, DPoP and the authorization code (the AS logging the
resident in by OpenID4VP) -> the new credential verifies with the later validity, bound to the same device
key, and the old one is REVOKED; then an endorsement an officer approves over the API. The wallet's own
checks of the authorization response (iss, RFC 9207; state) are tested last. The store-touching server
parts run on both stores in tests/wallet_api/test_authorization_code.py."""

from __future__ import annotations

import datetime
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.jwk import public_jwk
from credential.model import CredentialType
from credential.samples import sample_permit
from epermit.demo import Office, open_office
from epermit.tls import LoopbackCA
from epermit.wallet import HeldCredential, OpenId4VciClient, Wallet, WalletHome
from epermit.wallet import renewal as renewal_module
from epermit.wallet.presenting import Presenter
from epermit.wallet.renewal import REDIRECT_URI, RenewalRefusedError, authorization_response
from epermit.wallet.requests import ResidentRequestsClient
from issuer.rules import beijing_day
from keys.keyring import KeyRing
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result
from verifier.sync import sync
from verifier.verify import verify

PASSPHRASE = b"a test phone"


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Office, LoopbackCA, Path]]:
    now = int(time.time())
    tmp = tmp_path_factory.mktemp("renewal-office")
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    ca = LoopbackCA(now=now)
    made = open_office(tmp, ring, ca=ca)
    try:
        yield made, ca, tmp
    finally:
        made.stop()


def phone(ca: LoopbackCA, home_dir: Path) -> ResidentRequestsClient:
    tls = ssl.create_default_context(cadata=ca.pem.decode("ascii"))
    home = WalletHome(home_dir, create=True, scrypt_n=2**14)
    return ResidentRequestsClient(Wallet(home, OpenId4VciClient(tls=tls)),
                                  presenter=Presenter(home, trust_anchors=[ca.certificate], tls=tls))


def holder(office: Office, *, permit_ends_in: int, with_card: bool = True, resident: int = 0) -> str:
    """A residence permit of RESIDENTS[resident] ending in ``permit_ends_in`` days; without a registration card
    valid today its endorsement waits for an officer (registration_required). The office lives for the module:
    a resident without a card is one no other test gave one."""
    today = beijing_day(int(time.time()))
    if with_card:
        office.service.register(sample_permit(CredentialType.RESIDENCE_REGISTRATION, resident=resident,
                                              valid_from=today - datetime.timedelta(days=300),
                                              valid_until=today + datetime.timedelta(days=60)), officer="test")
    end = today + datetime.timedelta(days=permit_ends_in)
    return office.service.register(sample_permit(resident=resident, valid_from=end - datetime.timedelta(days=360),
                                                 valid_until=end), officer="test").id


def pick_up(office: Office, resident: ResidentRequestsClient, record_id: str) -> HeldCredential:
    offer = office.call("POST", f"/api/v1/records/{record_id}/offers")
    return resident.wallet.pick_up(str(offer["offer_uri"]), str(offer["tx_code"]), lambda _: PASSPHRASE)


def judge(office: Office, ca: LoopbackCA, held: HeldCredential, cache_dir: Path) -> Result:
    cache = VerifierCache(cache_dir)
    if not cache.has_root():
        cache.pin_root(office.service.keyring.root_certificate.public_bytes(Encoding.PEM))
    tls = ssl.create_default_context(cadata=ca.pem.decode("ascii"))
    sync(office.wallet_server.url, cache, now=int(time.time()), tls=tls)
    assert held.sd_jwt_vc is not None
    return verify(held.sd_jwt_vc, cache, policy=Policy(), now=int(time.time())).result


@pytest.fixture
def renewals(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The document numbers renewed by the authorization code flow (the real Renewer, counted)."""
    seen: list[str] = []
    real = renewal_module.Renewer.renew

    def counted(self: Any, held: HeldCredential, *args: Any, **kwargs: Any) -> HeldCredential:
        renewed = real(self, held, *args, **kwargs)
        seen.append(held.document_number)
        return renewed

    monkeypatch.setattr(renewal_module.Renewer, "renew", counted)
    return seen


def test_endorse_automatically_then_refresh_by_the_authorization_code_flow(
        office: tuple[Office, LoopbackCA, Path], tmp_path: Path, renewals: list[str]) -> None:
    the_office, ca, _ = office
    resident = phone(ca, tmp_path / "phone")
    old = pick_up(the_office, resident, holder(the_office, permit_ends_in=30))
    asked = resident.ask("endorse", held=old, passphrase=lambda _: PASSPHRASE)  # by the OpenID4VP login
    assert asked["request"]["state"] == "approved"
    (new,) = resident.refresh(lambda _: PASSPHRASE)
    assert renewals == [old.document_number]  # the authorization code flow, not the delivery's offers
    assert new.valid_until > old.valid_until and new.document_number == old.document_number
    key = public_jwk(resident.wallet.home.device_key(PASSPHRASE).public_key)
    assert new.sd_jwt_vc is not None and key == public_jwk(_holder_key(the_office, new))  # the same device key
    assert judge(the_office, ca, new, tmp_path / "landlord") is Result.VALID
    assert judge(the_office, ca, old, tmp_path / "landlord") is Result.REVOKED
    assert [a["request"]["state"] for a in resident.follow()] == ["done"]


def _holder_key(office: Office, held: HeldCredential) -> Any:
    from credential.sdjwt import verify_sd_jwt_vc
    from keys import Purpose

    signers = {s.kid: s.public_key for s in office.service.keyring.signers_of(Purpose.CREDENTIAL)}
    assert held.sd_jwt_vc is not None
    return verify_sd_jwt_vc(held.sd_jwt_vc, resolve_key=signers.__getitem__, now=int(time.time()),
                            require_key_binding=False).holder_key


def test_endorse_needing_approval_then_refresh_by_the_authorization_code_flow(
        office: tuple[Office, LoopbackCA, Path], tmp_path: Path, renewals: list[str]) -> None:
    the_office, ca, _ = office
    resident = phone(ca, tmp_path / "phone")
    old = pick_up(the_office, resident, holder(the_office, permit_ends_in=30, with_card=False, resident=1))
    asked = resident.ask("endorse", held=old, passphrase=lambda _: PASSPHRASE)
    assert asked["request"]["state"] == "queued" and asked["request"]["queued_because"] == "registration_required"
    assert resident.refresh(lambda _: PASSPHRASE) == [] and renewals == []
    approved = the_office.call("POST", f"/api/v1/requests/{asked['request']['id']}/approve", {})
    assert approved["state"] == "approved"
    (new,) = resident.refresh(lambda _: PASSPHRASE)
    assert renewals == [old.document_number] and new.valid_until > old.valid_until
    assert judge(the_office, ca, old, tmp_path / "landlord") is Result.REVOKED


def test_the_wallet_checks_iss_and_state_of_the_authorization_response() -> None:
    issuer = "https://permits.example.gov.cn"
    good = f"{REDIRECT_URI}?code=c1&state=s1&iss={issuer}"
    assert authorization_response(good, issuer=issuer, state="s1") == "c1"
    for bad in (f"{REDIRECT_URI}?code=c1&state=s1",  # no iss: a mix-up cannot be ruled out (RFC 9207 §2.4)
                f"{REDIRECT_URI}?code=c1&state=s1&iss=https://attacker.example",
                f"{REDIRECT_URI}?code=c1&state=s2&iss={issuer}",
                f"https://elsewhere.example/cb?code=c1&state=s1&iss={issuer}"):
        with pytest.raises(RenewalRefusedError):
            authorization_response(bad, issuer=issuer, state="s1")
    with pytest.raises(RenewalRefusedError) as refused:  # an error is believed only with the right iss
        authorization_response(f"{REDIRECT_URI}?error=access_denied&state=s1&iss={issuer}", issuer=issuer, state="s1")
    assert refused.value.error == "access_denied"
