"""The endorsement (签注) window over the real wallet API: filed too early it is refused with the day the
window opens (Chinese and English), nothing queued; however and whenever it is approved, the new validity
ends one period after the old end (the anniversary), never a period after the day of approval."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from flask.testing import FlaskClient

from issuer.model import REFUSED, RecordState
from issuer.requests import RequestState
from issuer.rules import EndorsementNotDueError, add_months, beijing_day
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock
from tests.wallet_api.conftest import BOTH_STORES
from tests.wallet_api.test_resident_requests import (
    ISSUING,
    _holder,
    ask,
    days,
    first_pickup,
    refresh,
    registered,
    requests_of,
    verified,
)

ONE_DAY = datetime.timedelta(days=1)


def anniversary_end(old_end: datetime.date) -> datetime.date:
    return add_months(old_end + ONE_DAY, 12) - ONE_DAY


@BOTH_STORES
def test_an_endorsement_filed_before_the_window_is_refused_with_the_day_it_opens_and_nothing_is_queued(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=200)
    old, _ = first_pickup(client, service, record, key, clock)
    audit_before = service.audit.heads()
    refused = ask(client, old, key, clock, kind="endorse")
    opens = (record.permit.valid_until - days(60)).isoformat()
    body = refused.get_json()
    assert (refused.status_code, body["error"]) == (409, "endorsement_not_due")
    assert body["error_description"] == f"endorsement can be requested from {opens}"
    assert body["error_description_zh"] == f"签注将于 {opens} 起可办理"
    assert service.store.requests_of_holder(_holder(record.permit)) == []  # not queued, nothing written
    assert requests_of(service).queue(ISSUING) == []
    entries = service.audit.list(after=audit_before)
    assert [(e.action, e.outcome, e.reason) for e in entries if e.outcome == REFUSED] == [
        ("request_submitted", REFUSED, "endorse: endorsement_not_due")]
    assert service.get_record(record.id).permit == record.permit


@BOTH_STORES
def test_an_officers_approval_continues_from_the_anniversary_even_after_the_old_end(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=20, with_card=False)  # queued: registration_required
    old, _ = first_pickup(client, service, record, key, clock)
    made = ask(client, old, key, clock, kind="endorse").get_json()
    assert made["request"]["queued_because"] == "registration_required"
    clock.advance(30 * 86400)  # the officer decides ten days after the old end
    requests_of(service).approve(ISSUING, made["request"]["id"])
    permit = service.get_record(record.id).permit
    today = beijing_day(clock())
    assert (permit.valid_from, permit.valid_until) == (today, anniversary_end(record.permit.valid_until))
    assert permit.valid_until != add_months(today, 12) - ONE_DAY  # not a period from the day of approval
    (new,) = refresh(client, made["request"]["id"], made["request_token"], key, clock)
    assert verified(service, new).claims["document_number"] == record.permit.document_number


@BOTH_STORES
def test_where_the_bureau_queues_early_endorsements_the_officer_still_ends_them_at_the_anniversary(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    service.settings = dataclasses.replace(service.settings, early_endorsement_requests=True)
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=200)
    old, _ = first_pickup(client, service, record, key, clock)
    made = ask(client, old, key, clock, kind="endorse").get_json()
    assert made["request"]["state"] == "queued" and made["request"]["queued_because"] == "endorsement_not_due"
    requests_of(service).approve(ISSUING, made["request"]["id"])
    permit = service.get_record(record.id).permit
    assert permit.valid_until == anniversary_end(record.permit.valid_until)  # 200 days + one period, not two


@BOTH_STORES
def test_an_early_request_queued_under_an_earlier_rule_is_not_approved_before_the_window(
    client: FlaskClient, service: IssuerService, clock: FakeClock
) -> None:
    key = KeySigner.generate("ES256")
    record = registered(service, permit_ends_in=200)
    old, _ = first_pickup(client, service, record, key, clock)
    service.settings = dataclasses.replace(service.settings, early_endorsement_requests=True)
    made = ask(client, old, key, clock, kind="endorse").get_json()
    service.settings = dataclasses.replace(service.settings, early_endorsement_requests=False)
    with pytest.raises(EndorsementNotDueError) as early:
        requests_of(service).approve(ISSUING, made["request"]["id"])
    assert early.value.opens == record.permit.valid_until - days(60)
    assert requests_of(service).queue(ISSUING)[0].state is RequestState.QUEUED
    assert service.get_record(record.id).permit == record.permit
    assert service.get_record(record.id).state is RecordState.ACTIVE
