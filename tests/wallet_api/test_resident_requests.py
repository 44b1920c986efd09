"""Residents' requests over the real wallet API (Flask test client, real signatures, both stores):
endorse automatically or after approval, lost phone with the recovery code, address change across
districts, deregistration, and the refusals — each with the right error and nothing changed."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from credential.model import CredentialType, Permit
from credential.samples import sample_permit
from credential.sdjwt import present, verify_sd_jwt_vc
from credential.statuslist import INVALID, SUSPENDED, VALID
from issuer.model import Offer, Officer, Record, RecordState, Role
from issuer.notifications import FileSink, deliver_due
from issuer.requests import RequestNotFoundError, RequestState, ResidentRequests
from issuer.rules import beijing_day
from issuer.service import IssuerService
from keys import Purpose
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES, OFFICER, PUBLIC_URL
from tests.wallet_api.support import access_token, fetch_nonce, make_proof, post_json, request_credential

SD_JWT = "residence_permit_sd_jwt"
ISSUING = Officer("issuing-1", "王警官", Role.ISSUING_OFFICER, ("110105",))
CLERK_OLD = Officer("clerk-1", "李文员", Role.CLERK, ("110105",))
CLERK_NEW = Officer("clerk-2", "赵文员", Role.CLERK, ("110101",))


def days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def registered(service: IssuerService, *, permit_ends_in: int, with_card: bool = True) -> Record:
    """A holder with a registration card (valid today) and a residence permit ending in ``permit_ends_in`` days."""
    today = beijing_day(service.clock())
    if with_card:
        card = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=today - days(300),
                             valid_until=today + days(60))
        service.register(card, officer=OFFICER)
    end = today + days(permit_ends_in)
    permit = sample_permit(valid_from=end - days(360), valid_until=end)
    return service.register(permit, officer=OFFICER)


def pick_up(client: FlaskClient, offer: Offer, key: KeySigner, clock: FakeClock, *,
            configuration: str = SD_JWT) -> dict[str, Any]:
    """One credential response (and its credential_accepted report); the response's JSON."""
    token = access_token(client, offer.pre_authorized_code, offer.tx_code)
    proof = make_proof(key, aud=PUBLIC_URL, nonce=fetch_nonce(client), iat=clock.now)
    response = request_credential(client, token, configuration, [proof])
    assert response.status_code == 200, response.get_json()
    answer: dict[str, Any] = response.get_json()
    accepted = post_json(client, "/notification", token,
                         {"notification_id": answer["notification_id"], "event": "credential_accepted"})
    assert accepted.status_code == 204
    return answer


def first_pickup(client: FlaskClient, service: IssuerService, record: Record, key: KeySigner,
                 clock: FakeClock) -> tuple[str, str | None]:
    answer = pick_up(client, service.create_offer(record.id, officer=OFFICER), key, clock)
    return answer["credentials"][0]["credential"], answer.get("epermit_recovery_code")


def presentation(client: FlaskClient, sd_jwt: str, key: KeySigner, clock: FakeClock, *,
                 audience: str | None = None, nonce: str | None = None) -> dict[str, str]:
    challenge = client.post("/resident/nonce").get_json()
    shown = present(sd_jwt, disclose=None, holder_signer=key, aud=audience or challenge["audience"],
                    nonce=nonce or challenge["nonce"], now=clock.now)
    return {"Authorization": f"Presentation {shown}"}


def ask(client: FlaskClient, sd_jwt: str, key: KeySigner, clock: FakeClock, **body: Any) -> Any:
    return client.post("/resident/requests", json=body, headers=presentation(client, sd_jwt, key, clock))


def refresh(client: FlaskClient, request_id: str, token: str, key: KeySigner, clock: FakeClock) -> list[str]:
    """The wallet's refresh: the approved request's offers, each redeemed; the new SD-JWT VCs."""
    delivery = client.post(f"/resident/requests/{request_id}/delivery", headers={"Authorization": f"Bearer {token}"})
    assert delivery.status_code == 200, delivery.get_json()
    got = []
    for item in delivery.get_json()["offers"]:
        offer_id = item["pickup_url"].rsplit("/", 1)[-1]
        offer = Offer(_code(client, offer_id), item["tx_code"], item["record_id"], item["expires_at"], offer_id,
                      (), "")
        got.append(pick_up(client, offer, key, clock)["credentials"][0]["credential"])
    return got


def _code(client: FlaskClient, offer_id: str) -> str:
    offer = client.get(f"/offers/{offer_id}").get_json()
    code: str = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
    return code


def status_of(service: IssuerService, sd_jwt: str) -> int:
    claims = verified(service, sd_jwt).claims
    entry = claims["status"]["status_list"]
    value: int = service.store.status_bits(int(entry["uri"].rsplit("/", 1)[-1])).get(entry["idx"])
    return value


def verified(service: IssuerService, sd_jwt: str) -> Any:
    keys = {s.kid: s.public_key for s in service.keyring.signers_of(Purpose.CREDENTIAL)}
    return verify_sd_jwt_vc(sd_jwt, resolve_key=keys.__getitem__, now=service.clock(), require_key_binding=False)


def requests_of(service: IssuerService) -> ResidentRequests:
    return ResidentRequests(service)


@BOTH_STORES
def test_endorse_automatically_then_refresh_gives_the_later_validity_and_revokes_the_old(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=30)
    old, recovery_code = first_pickup(client, service, record, key, clock)
    assert recovery_code is not None  # shown once, at the holder's first pickup
    answer = ask(client, old, key, clock, kind="endorse")
    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()
    assert made["request"]["state"] == "approved" and made["request"]["decided_by"] == "rules"
    assert "签注" in made["message"]["zh"] and "refresh" in made["message"]["en"]
    assert status_of(service, old) == VALID  # kept until the new one is confirmed
    unused = client.post(f"/resident/requests/{made['request']['id']}/delivery",
                         headers={"Authorization": f"Bearer {made['request_token']}"}).get_json()["offers"][0]
    (new,) = refresh(client, made["request"]["id"], made["request_token"], key, clock)
    assert verified(service, new).claims["exp"] > verified(service, old).claims["exp"]
    assert status_of(service, new) == VALID and status_of(service, old) == INVALID
    stale = client.get(f"/offers/{unused['pickup_url'].rsplit('/', 1)[-1]}")
    assert stale.status_code == 404  # the earlier delivery's offer was burned by the later one
    mine = client.get("/resident/requests", headers=presentation(client, new, key, clock)).get_json()["requests"]
    assert [(r["kind"], r["state"]) for r in mine] == [("endorse", "done")]
    notes = client.get("/resident/notifications", headers=presentation(client, new, key, clock)).get_json()
    assert notes["notifications"][0]["kind"] == "request_decided"
    assert "citizen" not in str(notes) and record.permit.holder.name not in str(notes)


@BOTH_STORES
def test_endorse_needing_approval_waits_in_the_queue_until_an_issuing_officer_approves(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=30)  # within the window, but the holder's card is flagged
    card = next(r for r in service.store.records_of_holder(record.permit.holder.citizen_id) if r.id != record.id)
    service.suspend(card.id, officer="sup", reason="address check", reason_code="OTHER")
    old, _ = first_pickup(client, service, record, key, clock)
    made = ask(client, old, key, clock, kind="endorse").get_json()
    assert made["request"]["state"] == "queued" and made["request"]["queued_because"] == "flagged"
    requests = requests_of(service)
    assert [r.id for r in requests.queue(CLERK_OLD)] == [made["request"]["id"]]
    with pytest.raises(Exception, match="may not endorse"):
        requests.approve(CLERK_OLD, made["request"]["id"])  # separation of duties: a clerk does not endorse
    assert requests.queue(ISSUING)[0].state is RequestState.QUEUED
    requests.approve(ISSUING, made["request"]["id"])
    (new,) = refresh(client, made["request"]["id"], made["request_token"], key, clock)
    assert verified(service, new).claims["exp"] > verified(service, old).claims["exp"]
    assert status_of(service, old) == INVALID


@BOTH_STORES
def test_lost_phone_suspends_at_once_and_an_approval_redelivers_to_the_new_phone(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    old_key, new_key = KeySigner.generate("ES256"), KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=200, with_card=False)
    old, code = first_pickup(client, service, record, old_key, clock)
    assert code is not None
    citizen_id = record.permit.holder.citizen_id
    audit_before = service.audit.heads()
    wrong = client.post("/resident/lost", json={"citizen_id": citizen_id, "recovery_code": "AAAAA-AAAAA-AAAAA-AAAAA"})
    assert (wrong.status_code, wrong.get_json()["error"]) == (403, "recovery_refused")
    assert service.get_record(record.id).state is RecordState.ACTIVE and status_of(service, old) == VALID
    assert service.audit.list(after=audit_before)[0].action == "recovery_failed"
    lost = client.post("/resident/lost", json={"citizen_id": citizen_id, "recovery_code": code})
    assert lost.status_code == 201, lost.get_json()
    made = lost.get_json()
    assert made["request"]["state"] == "queued" and "暂停" in made["message"]["zh"]
    assert status_of(service, old) == SUSPENDED and service.get_record(record.id).state is RecordState.SUSPENDED
    refused = ask(client, old, old_key, clock, kind="endorse")  # the lost phone can ask for nothing now
    assert (refused.status_code, refused.get_json()["error"]) == (403, "credential_not_current")
    resident_requests = requests_of(service)
    resident_requests.approve(ISSUING, made["request"]["id"])
    assert status_of(service, old) == INVALID  # revoked for good before the record is active again
    (new,) = refresh(client, made["request"]["id"], made["request_token"], new_key, clock)
    assert status_of(service, new) == VALID and status_of(service, old) == INVALID
    again = client.post("/resident/lost", json={"citizen_id": citizen_id, "recovery_code": code})
    assert again.status_code == 403  # the code was spent


def test_wrong_recovery_codes_are_throttled_even_for_the_right_code_and_change_nothing(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=200, with_card=False)
    _, code = first_pickup(client, service, record, key, clock)
    body = {"citizen_id": record.permit.holder.citizen_id, "recovery_code": "WRONG-WRONG-WRONG-WRONG"}
    answers = [client.post("/resident/lost", json=body).status_code for _ in range(5)]
    assert answers == [403] * 5
    right = client.post("/resident/lost", json={**body, "recovery_code": code})
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert service.get_record(record.id).state is RecordState.ACTIVE
    assert service.store.requests_of_holder(_holder(record.permit)) == []
    actions = [e.action for e in service.store.list_audit(limit=1000)]
    assert actions.count("recovery_failed") == 5 and actions.count("recovery_throttled") == 1
    clock.advance(901)
    assert client.post("/resident/lost", json={**body, "recovery_code": code}).status_code == 201


@BOTH_STORES
def test_an_address_change_across_districts_lands_in_the_new_districts_queue(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=200)
    old, _ = first_pickup(client, service, record, key, clock)
    made = ask(client, old, key, clock, kind="address", address="北京市东城区东直门内大街1号",
               district="110101").get_json()
    assert made["request"]["state"] == "queued" and made["request"]["district"] == "110101"
    requests = requests_of(service)
    assert requests.queue(CLERK_OLD) == [] and [r.id for r in requests.queue(CLERK_NEW)] == [made["request"]["id"]]
    audit_before = service.audit.heads()
    with pytest.raises(RequestNotFoundError):
        requests.approve(CLERK_OLD, made["request"]["id"])  # outside the clerk's districts: as if missing
    assert requests.queue(CLERK_NEW)[0].state is RequestState.QUEUED
    assert [e.outcome for e in service.audit.list(after=audit_before)] == ["denied"]
    approved = requests.approve(CLERK_NEW, made["request"]["id"])
    assert approved.new_record_id is not None
    (new,) = refresh(client, made["request"]["id"], made["request_token"], key, clock)
    claims = verified(service, new).claims
    assert claims["district"] == "110101" and claims["address"] == "北京市东城区东直门内大街1号"
    assert service.get_record(record.id).state is RecordState.REVOKED and status_of(service, old) == INVALID
    revoke = [e for e in service.store.audit_of_record(record.id, limit=1000) if e.action == "revoke"]
    assert revoke[0].reason.startswith("MOVED_AWAY")


def test_deregistration_revokes_with_moved_away_and_a_revoked_credential_cannot_request(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=200)
    old, _ = first_pickup(client, service, record, key, clock)
    made = ask(client, old, key, clock, kind="deregister").get_json()
    assert made["request"]["state"] == "done" and "注销" in made["message"]["zh"]
    assert service.get_record(record.id).state is RecordState.REVOKED and status_of(service, old) == INVALID
    count = len(service.store.requests_of_holder(_holder(record.permit)))
    again = ask(client, old, key, clock, kind="endorse")
    assert (again.status_code, again.get_json()["error"]) == (403, "credential_not_current")
    assert len(service.store.requests_of_holder(_holder(record.permit))) == count


def test_a_presentation_for_another_audience_or_a_used_nonce_is_refused(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=30)
    old, _ = first_pickup(client, service, record, key, clock)
    other = client.post("/resident/requests", json={"kind": "endorse"},
                        headers=presentation(client, old, key, clock, audience="https://employer.example/"))
    assert (other.status_code, other.get_json()["error"]) == (401, "invalid_presentation")
    headers = presentation(client, old, key, clock)
    assert client.get("/resident/requests", headers=headers).status_code == 200
    replay = client.get("/resident/requests", headers=headers)
    assert (replay.status_code, replay.get_json()["error"]) == (401, "invalid_presentation")
    stranger = KeySigner.generate("ES256")  # a copy of the credential without its device key
    copy = client.get("/resident/requests", headers=presentation(client, old, stranger, clock))
    assert copy.status_code == 401
    assert service.store.requests_of_holder(_holder(record.permit)) == []


def _holder(permit: Permit) -> str:
    from issuer.model import holder_hash

    return holder_hash(permit.holder.citizen_id)


@BOTH_STORES
def test_a_one_time_code_to_the_registered_phone_number_redelivers_without_an_officer(
    client: FlaskClient, service: IssuerService, clock: FakeClock, tmp_path: Path
) -> None:
    old_key, new_key = KeySigner.generate("ES256"), KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=200, with_card=False)
    old, code = first_pickup(client, service, record, old_key, clock)
    made = client.post("/resident/lost", json={"citizen_id": record.permit.holder.citizen_id,
                                               "recovery_code": code}).get_json()
    bearer = {"Authorization": f"Bearer {made['request_token']}"}
    request_id = made["request"]["id"]
    sent = client.post(f"/resident/requests/{request_id}/code", headers=bearer)
    assert sent.status_code == 202 and "验证码" in sent.get_json()["message"]["zh"]
    sms = tmp_path / "sms.jsonl"
    deliver_due(service.store, FileSink(sms), clock)
    (line,) = [json.loads(x) for x in sms.read_text(encoding="utf-8").splitlines() if "one_time_code" in x]
    assert line["record_id"] == record.id and record.permit.holder.citizen_id not in json.dumps(line)
    otp = re.search(r"\d{6}", line["text_en"]).group(0)  # type: ignore[union-attr]
    wrong = client.post(f"/resident/requests/{request_id}/code/confirm", headers=bearer,
                        json={"code": "000000" if otp != "000000" else "111111"})
    assert (wrong.status_code, wrong.get_json()["error"]) == (403, "code_refused")
    assert service.store.get_request(request_id).state == "queued"  # type: ignore[union-attr]
    right = client.post(f"/resident/requests/{request_id}/code/confirm", headers=bearer, json={"code": otp})
    assert right.status_code == 200 and right.get_json()["request"]["decided_by"] == "one_time_code"
    assert status_of(service, old) == INVALID
    (new,) = refresh(client, request_id, made["request_token"], new_key, clock)
    assert status_of(service, new) == VALID
    again = client.post(f"/resident/requests/{request_id}/code/confirm", headers=bearer, json={"code": otp})
    assert again.status_code == 409  # approved already: the code is spent and the request moved on
    notes = client.get("/resident/notifications", headers=presentation(client, new, new_key, clock)).get_json()
    assert "one_time_code" not in {n["kind"] for n in notes["notifications"]}  # for the phone number only


def test_wrong_one_time_codes_are_throttled(client: FlaskClient, service: IssuerService, clock: FakeClock) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=200, with_card=False)
    _, code = first_pickup(client, service, record, key, clock)
    made = client.post("/resident/lost", json={"citizen_id": record.permit.holder.citizen_id,
                                               "recovery_code": code}).get_json()
    bearer = {"Authorization": f"Bearer {made['request_token']}"}
    path = f"/resident/requests/{made['request']['id']}/code"
    assert client.post(path, headers=bearer).status_code == 202
    answers = [client.post(path + "/confirm", headers=bearer, json={"code": "12345x"}).status_code for _ in range(6)]
    assert answers == [403] * 5 + [429]
    assert [client.post(path, headers=bearer).status_code for _ in range(3)] == [202, 202, 429]
    assert service.store.get_request(made["request"]["id"]).state == "queued"  # type: ignore[union-attr]


def test_an_expired_credential_signs_nobody_in(client: FlaskClient, service: IssuerService, clock: FakeClock) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=3)
    old, _ = first_pickup(client, service, record, key, clock)
    clock.advance(5 * 86400)
    expired = ask(client, old, key, clock, kind="endorse")
    assert (expired.status_code, expired.get_json()["error"]) == (403, "credential_not_current")
    assert "expired" in expired.get_json()["error_description"]
    assert service.store.requests_of_holder(_holder(record.permit)) == []


def test_a_lost_phone_approval_never_lifts_a_suspension_an_officer_made(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    permit_record = registered(service, permit_ends_in=200)  # with a registration card
    card = next(r for r in service.store.records_of_holder(permit_record.permit.holder.citizen_id)
                if r.id != permit_record.id)
    _, code = first_pickup(client, service, permit_record, key, clock)
    service.suspend(card.id, officer="sup", reason="under investigation", reason_code="FRAUD")
    made = client.post("/resident/lost", json={"citizen_id": permit_record.permit.holder.citizen_id,
                                               "recovery_code": code}).get_json()
    requests = requests_of(service)
    approved = requests.approve(ISSUING, made["request"]["id"])
    assert approved.record_ids == (permit_record.id,)
    assert service.get_record(card.id).state is RecordState.SUSPENDED
    assert service.get_record(permit_record.id).state is RecordState.ACTIVE
