"""The residents' online requests end to end: real officer and wallet API servers on loopback, on both
stores, the wallet library a resident's phone uses (epermit.wallet.requests), the officer API over HTTP,
and `epermit verify`'s verifier (synced status lists) judging the old and the new credentials. Last, the
command line itself against the demo's https office: request, requests, refresh, lost from a second home."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.model import CredentialType, Permit
from credential.samples import sample_permit
from epermit.cli import main
from epermit.demo import open_office
from epermit.http_client import HttpError, request
from epermit.tls import LoopbackCA
from epermit.wallet import HeldCredential, OpenId4VciClient, Wallet, WalletHome
from epermit.wallet.errors import IssuerRefusedError
from epermit.wallet.requests import ResidentRequestsClient
from issuer.model import Officer, RecordState, Role
from issuer.notifications import NoticeKind, Outbox
from issuer.rules import beijing_day
from issuer.store import Store
from keys.keyring import KeyRing
from tests.issuer.conftest import make_store, redis_url  # noqa: F401  (redis_url: a session fixture)
from tests.issuer.redis_office import Office, seed_officers
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result
from verifier.sync import sync
from verifier.verify import verify

PASSPHRASE = b"a test phone"
NEW_DISTRICT = "110101"  # 东城区


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = make_store(request.param, tmp_path, request)
    yield made
    close = getattr(made, "close", None)
    if close is not None:
        close()


class Town:
    """One office on ``store``, its officers (two districts), a landlord's verifier, phones."""

    def __init__(self, store: Store, keyring: KeyRing, tmp: Path) -> None:
        self.office = Office(store, keyring)
        self.service = self.office.service
        self.tokens = seed_officers(store, self.service.keyed)
        from issuer.officers import OfficerRegistry

        registry = OfficerRegistry(store, keyed=self.service.keyed)
        registry.put(Officer("clerk-east", "东城柜员", Role.CLERK, (NEW_DISTRICT,)))
        self.tokens["clerk-east"] = registry.issue_token("clerk-east", ttl=3600)
        self.tmp = tmp
        self.landlord = VerifierCache(tmp / "landlord")
        self.landlord.pin_root(keyring.root_certificate.public_bytes(Encoding.PEM))

    def officer(self, who: str, method: str, path: str, body: object | None = None) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = request(f"{self.office.officer_url}/api/v1{path}", method=method,
                                                json_body=body,
                                                headers={"Authorization": f"Bearer {self.tokens[who]}"}).json()
        except HttpError as exc:
            return {"status": exc.status, "error": exc.error}
        return answer

    def phone(self, name: str) -> ResidentRequestsClient:
        home = WalletHome(self.tmp / name, create=True, scrypt_n=2**14)
        return ResidentRequestsClient(Wallet(home, OpenId4VciClient(allow_http=True)))

    def holder(self, *, permit_ends_in: int, with_card: bool = True) -> tuple[str, Permit]:
        """A registration card valid today (unless not ``with_card``: then an endorsement waits for an
        officer) and a residence permit ending in ``permit_ends_in`` days; the permit's record id and the permit."""
        today = beijing_day(self.service.clock())
        card = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=today - datetime.timedelta(days=300),
                             valid_until=today + datetime.timedelta(days=60))
        if with_card:
            self.service.register(card, officer="test")
        end = today + datetime.timedelta(days=permit_ends_in)
        permit = sample_permit(valid_from=end - datetime.timedelta(days=360), valid_until=end)
        return self.service.register(permit, officer="test").id, permit

    def first_pickup(self, phone: ResidentRequestsClient, record_id: str) -> tuple[HeldCredential, str | None]:
        answer = self.officer("issuer", "POST", f"/records/{record_id}/offers", {})
        held = phone.wallet.pick_up(str(answer["offer_uri"]), str(answer["tx_code"]), lambda _: PASSPHRASE)
        return held, phone.client.recovery_code

    def judge(self, held: HeldCredential) -> Result:
        """What a landlord's `epermit verify` says now (synced first)."""
        assert held.sd_jwt_vc is not None
        sync(self.office.public_url, self.landlord, now=int(time.time()))
        return verify(held.sd_jwt_vc, self.landlord, policy=Policy(), now=int(time.time())).result


@pytest.fixture
def town(store: Store, keyring: KeyRing, tmp_path: Path) -> Iterator[Town]:
    made = Town(store, keyring, tmp_path)
    yield made
    made.office.stop()


def test_endorse_automatically_then_refresh_the_new_verifies_with_the_later_validity_and_the_old_is_revoked(
    town: Town
) -> None:
    phone = town.phone("phone")
    record_id, _ = town.holder(permit_ends_in=30)
    old, _ = town.first_pickup(phone, record_id)
    answer = phone.ask("endorse", held=old, passphrase=lambda _: PASSPHRASE)
    assert answer["request"]["state"] == "approved"
    (new,) = phone.refresh(lambda _: PASSPHRASE)
    assert new.valid_until > old.valid_until and new.document_number == old.document_number
    assert town.judge(new) is Result.VALID
    assert town.judge(old) is Result.REVOKED
    assert [a["request"]["state"] for a in phone.follow()] == ["done"]
    assert phone.wallet.home.find(None).valid_until == new.valid_until  # the old copy was replaced


def test_endorse_needing_approval_officer_approves_over_the_api_then_refresh(town: Town) -> None:
    phone = town.phone("phone")
    record_id, _ = town.holder(permit_ends_in=30, with_card=False)
    old, _ = town.first_pickup(phone, record_id)
    answer = phone.ask("endorse", held=old, passphrase=lambda _: PASSPHRASE)
    assert answer["request"]["state"] == "queued"
    assert phone.refresh(lambda _: PASSPHRASE) == []  # nothing yet
    queue = town.officer("clerk", "GET", "/requests")["requests"]
    assert [q["id"] for q in queue] == [answer["request"]["id"]]
    refused = town.officer("clerk", "POST", f"/requests/{answer['request']['id']}/approve")
    assert (refused["status"], refused["error"]) == (403, "forbidden")  # a clerk does not endorse (separation of duties)
    approved = town.officer("issuer", "POST", f"/requests/{answer['request']['id']}/approve")
    assert approved["state"] == "approved" and approved["decided_by"] == "issuer"
    (new,) = phone.refresh(lambda _: PASSPHRASE)
    assert new.valid_until > old.valid_until
    assert town.judge(new) is Result.VALID and town.judge(old) is Result.REVOKED


def test_an_endorsement_asked_too_early_is_refused_with_the_day_it_opens_and_nothing_waits(town: Town) -> None:
    phone = town.phone("phone")
    record_id, permit = town.holder(permit_ends_in=200)
    old, _ = town.first_pickup(phone, record_id)
    with pytest.raises(IssuerRefusedError, match="endorsement_not_due") as refused:
        phone.ask("endorse", held=old, passphrase=lambda _: PASSPHRASE)
    opens = (permit.valid_until - datetime.timedelta(days=60)).isoformat()
    assert refused.value.description == f"endorsement can be requested from {opens}"
    assert town.officer("issuer", "GET", "/requests")["requests"] == [] and phone.kept() == []


def test_lost_phone_from_a_second_wallet_suspended_at_once_then_redelivered_and_the_old_revoked(town: Town) -> None:
    old_phone, new_phone = town.phone("old-phone"), town.phone("new-phone")
    record_id, permit = town.holder(permit_ends_in=200)
    old, code = town.first_pickup(old_phone, record_id)
    assert code is not None
    with pytest.raises(IssuerRefusedError, match="recovery_refused"):
        new_phone.report_lost(town.office.public_url, citizen_id=permit.holder.citizen_id,
                              recovery_code="ABCDE-ABCDE-ABCDE-ABCDE")
    assert town.judge(old) is Result.VALID  # a refusal changes nothing
    answer = new_phone.report_lost(town.office.public_url, citizen_id=permit.holder.citizen_id, recovery_code=code)
    assert answer["request"]["state"] == "queued"
    assert town.judge(old) is Result.SUSPENDED  # at once
    approved = town.officer("issuer", "POST", f"/requests/{answer['request']['id']}/approve")
    assert approved["state"] == "approved"
    renewed = new_phone.refresh(lambda _: PASSPHRASE)
    assert len(renewed) == 2  # the card and the permit, both to the new phone
    assert all(town.judge(h) is Result.VALID for h in renewed)
    assert town.judge(old) is Result.REVOKED
    assert new_phone.recovery_code not in (None, code)  # a new code for the new phone


def test_an_address_change_across_districts_lands_in_the_right_queue_and_a_clerk_outside_it_changes_nothing(
    town: Town
) -> None:
    phone = town.phone("phone")
    record_id, _ = town.holder(permit_ends_in=200)
    old, _ = town.first_pickup(phone, record_id)
    answer = phone.ask("address", held=old, passphrase=lambda _: PASSPHRASE,
                       body={"address": "北京市东城区东直门内大街1号", "district": NEW_DISTRICT})
    request_id = answer["request"]["id"]
    assert town.officer("clerk", "GET", "/requests")["requests"] == []
    assert [q["id"] for q in town.officer("clerk-east", "GET", "/requests")["requests"]] == [request_id]
    outside = town.officer("clerk", "POST", f"/requests/{request_id}/approve")
    assert (outside["status"], outside["error"]) == (404, "request_not_found")
    assert town.service.get_record(record_id).state is RecordState.ACTIVE
    assert [q["state"] for q in town.officer("clerk-east", "GET", "/requests")["requests"]] == ["queued"]
    assert town.officer("clerk-east", "POST", f"/requests/{request_id}/approve")["state"] == "approved"
    (new,) = phone.refresh(lambda _: PASSPHRASE)
    assert town.judge(new) is Result.VALID and town.judge(old) is Result.REVOKED
    assert town.service.get_record(record_id).state is RecordState.REVOKED


def test_a_revoked_credential_cannot_request_and_a_deregistration_is_moved_away(town: Town) -> None:
    phone = town.phone("phone")
    record_id, _ = town.holder(permit_ends_in=200)
    old, _ = town.first_pickup(phone, record_id)
    assert phone.ask("deregister", held=old, passphrase=lambda _: PASSPHRASE)["request"]["state"] == "done"
    assert town.judge(old) is Result.REVOKED
    with pytest.raises(IssuerRefusedError, match="credential_not_current"):
        phone.ask("endorse", held=old, passphrase=lambda _: PASSPHRASE)
    assert len(phone.kept()) == 1


# --- the command line against the demo's https office ---------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    now = int(time.time())
    tmp = tmp_path_factory.mktemp("requests-office")
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    ca = LoopbackCA(now=now)
    office = open_office(tmp, ring, ca=ca)
    try:
        yield office, ca.write_pem(tmp / "tls-ca.pem")  # the office's data folder is tmp
    finally:
        office.stop()


def test_the_command_line_endorse_requests_refresh_and_lost_from_a_second_home(
    demo: tuple[object, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    office, ca = demo
    service = office.service  # type: ignore[attr-defined]
    monkeypatch.setenv("EPERMIT_WALLET_PASSPHRASE", "a resident's passphrase")
    today = beijing_day(int(time.time()))
    service.register(sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=today - datetime.timedelta(days=300),
                                   valid_until=today + datetime.timedelta(days=60)), officer="test")
    end = today + datetime.timedelta(days=30)
    record = service.register(sample_permit(valid_from=end - datetime.timedelta(days=360), valid_until=end),
                              officer="test")
    offer = office.call("POST", f"/api/v1/records/{record.id}/offers")  # type: ignore[attr-defined]
    home, second = tmp_path / "phone", tmp_path / "new-phone"
    net = ["--ca", str(ca)]
    assert main(["wallet", "--home", str(home), "pickup", str(offer["pickup_url"]), "--pin", str(offer["tx_code"]),
                 *net]) == 0
    out = capsys.readouterr().out
    code = out.split("recovery code: ")[1].split()[0]
    assert main(["wallet", "--home", str(home), "request", "endorse", *net]) == 0
    out = capsys.readouterr().out
    assert "approved" in out and "签注" in out
    assert main(["wallet", "--home", str(home), "refresh", *net]) == 0
    assert f"renewed {record.permit.document_number}" in capsys.readouterr().out
    assert main(["wallet", "--home", str(home), "requests", *net]) == 0
    out = capsys.readouterr().out
    assert "done" in out and "通知 notice request_decided" in out
    issuer = office.wallet_server.url  # type: ignore[attr-defined]
    assert main(["wallet", "--home", str(second), "request", "lost", "--citizen-id",
                 record.permit.holder.citizen_id, "--recovery-code", "WRONG-WRONG-WRONG-WRONG", "--issuer", issuer,
                 *net]) == 1
    assert "recovery_refused" in capsys.readouterr().err
    assert main(["wallet", "--home", str(second), "request", "lost", "--citizen-id",
                 record.permit.holder.citizen_id, "--recovery-code", code, "--issuer", issuer, *net]) == 0
    assert "queued" in capsys.readouterr().out
    assert service.get_record(record.id).state is RecordState.SUSPENDED
    assert json.loads((second / "requests").iterdir().__next__().read_text())["kind"] == "lost"
    assert main(["wallet", "--home", str(second), "requests", *net]) == 0
    assert "待审核" in capsys.readouterr().out


def test_notifications_deliver_sends_the_outbox_to_the_sms_file_once(
    demo: tuple[Any, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    office, ca = demo
    data = ca.parent
    record = office.service.register(sample_permit(CredentialType.RESIDENCE_REGISTRATION, resident=1), officer="t")
    Outbox(office.service.store, office.service.clock).write(record, NoticeKind.SUSPENDED, zh="已暂停", en="suspended")
    sms = tmp_path / "sms.jsonl"
    assert main(["notifications", "deliver", "--data", str(data), "--sms-file", str(sms)]) == 0
    sent = [json.loads(line) for line in sms.read_text(encoding="utf-8").splitlines()]
    assert "suspended" in {m["kind"] for m in sent} and record.id in {m["record_id"] for m in sent}
    assert all(set(m) == {"id", "kind", "record_id", "created_at", "text_zh", "text_en"} for m in sent)
    assert "sent " in capsys.readouterr().out
    assert main(["notifications", "deliver", "--data", str(data), "--sms-file", str(sms)]) == 0
    assert len(sms.read_text(encoding="utf-8").splitlines()) == len(sent)  # each once
    assert main(["notifications", "remind", "--data", str(data)]) == 0
