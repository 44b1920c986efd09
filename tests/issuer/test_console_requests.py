"""The console's queue of residents' requests: oldest first, the buttons a role may use, approve and deny
with a reason, another district's request neither listed nor decidable."""

from __future__ import annotations

import datetime

from flask import Flask

from credential.samples import sample_permit
from issuer.requests import RequestState, ResidentIdentity, ResidentRequests
from issuer.service import IssuerService
from keys.signers import KeySigner
from tests.conftest import FakeClock

from .console_logins import OfficerLogins
from .test_console_routes import signed_in, text


def address_request(service: IssuerService, resident: int, district: str = "110105") -> str:
    permit = sample_permit(resident=resident % 2, document_number=f"JZZ-110105-2026-00009{resident}",
                           valid_from=datetime.date(2026, 1, 5), valid_until=datetime.date(2027, 1, 4))
    record = service.register(permit, officer="seed")
    who = ResidentIdentity(record, (1, 0), KeySigner.generate("ES256").public_key)
    made, _ = ResidentRequests(service).submit(who, "address", address=f"北京市朝阳区建国路{resident + 1}号",
                                               district=district)
    return made.id


def test_the_queue_oldest_first_approve_and_deny_with_a_reason(app: Flask, tokens: OfficerLogins,
                                                                service: IssuerService, clock: FakeClock) -> None:
    first = address_request(service, 0)
    clock.advance(60)
    second = address_request(service, 1)
    away = address_request(service, 2, district="310101")
    clerk = signed_in(app, tokens, "clerk")
    page = text(clerk.get("/officer/requests"))
    assert page.index(first) < page.index(second) and away not in page
    assert "地址变更" in page and "须民警审核" in page and f'data-testid="approve-{first}"' in page
    officer = text(signed_in(app, tokens, "io").get("/officer/requests"))
    assert first in officer and f'data-testid="approve-{first}"' not in officer  # a clerk's decision
    done = clerk.post(f"/officer/requests/{first}/approve")
    assert done.status_code == 303
    denied = clerk.post(f"/officer/requests/{second}/deny", {"reason": "地址证明不符"})
    assert denied.status_code == 303
    requests = ResidentRequests(service)
    assert [r.state for r in requests.queue(requests_officer(service), states=tuple(RequestState))] == [
        RequestState.APPROVED, RequestState.DENIED]
    no_reason = text(clerk.post(f"/officer/requests/{away}/deny", {"reason": ""}))
    assert "reason" in no_reason
    outside = clerk.post(f"/officer/requests/{away}/approve")
    assert outside.status_code == 404
    assert "已批准" in text(clerk.get("/officer/requests?done=approve"))


def requests_officer(service: IssuerService):  # type: ignore[no-untyped-def]
    officer = service.store.get_officer("clerk")
    assert officer is not None
    return officer
