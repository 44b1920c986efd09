"""Role × district × action: allowed where the table says, denied elsewhere; every denial is audited
(outcome ``denied``) and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from issuer.desk import OfficerDesk
from issuer.errors import ForbiddenError, NotFoundError, RecordNotFoundError
from issuer.model import PERMISSIONS, Action, Officer, Reason, ReasonCode, RecordState, Role
from issuer.service import IssuerService
from tests.portrait_support import encoded, source_image

from .office import AWAY, HOME, PERMIT, officers, with_card

PHOTO = encoded(source_image(), "JPEG", quality=90)

LOST = Reason(ReasonCode.LOST, "")
ACTIONS: dict[Action, Callable[[OfficerDesk, Officer, str], Any]] = {
    Action.REGISTER: lambda d, o, r: d.register(o, PERMIT),
    Action.OVERRIDE_REGISTRATION: lambda d, o, r: d.register(o, PERMIT, override_reason="long-time resident"),
    Action.READ_RECORD: lambda d, o, r: d.get_record(o, r),
    Action.CREATE_OFFER: lambda d, o, r: d.create_offer(o, r),
    Action.ENDORSE: lambda d, o, r: d.endorse(o, r),
    Action.REDELIVER: lambda d, o, r: d.redeliver(o, r, Reason(ReasonCode.NEW_DEVICE, "")),
    Action.SUSPEND: lambda d, o, r: d.suspend(o, r, LOST),
    Action.LIFT: lambda d, o, r: d.lift(o, r, Reason(ReasonCode.RESOLVED, "")),
    Action.REVOKE: lambda d, o, r: d.revoke(o, r, LOST),
    Action.APPROVE: lambda d, o, r: d.approve(o, r),
    Action.READ_AUDIT: lambda d, o, r: d.audit_entries(o, after=0, limit=10),
    Action.REVEAL_CITIZEN_ID: lambda d, o, r: d.reveal_citizen_id(o, r),
    Action.MANAGE_OFFICERS: lambda d, o, r: d.add_officer(o, "new-clerk", name="新人", role="clerk",
                                                          districts=[HOME]),
    Action.SET_PORTRAIT: lambda d, o, r: d.set_portrait(o, r, PHOTO),
    Action.READ_PORTRAIT: lambda d, o, r: d.portrait(o, r),  # biometric data: every read is audited
}
CASES = [(role, district, action) for role in Role for district in (HOME, AWAY) for action in Action]


def snapshot(service: IssuerService, record_id: str) -> tuple[Any, ...]:
    record = service.get_record(record_id)
    return (record, service.store.delivered(record_id), [o.id for o in service.store.list_officers()],
            len(service.store.records_of_holder(PERMIT.holder.citizen_id)))


@pytest.mark.parametrize(("role", "district", "action"), CASES,
                         ids=[f"{r.value}-{d}-{a.value}" for r, d, a in CASES])
def test_role_district_action(service: IssuerService, role: Role, district: str, action: Action) -> None:
    desk = OfficerDesk(service)
    office = officers(desk)
    card = with_card(service)
    registering = action in (Action.REGISTER, Action.OVERRIDE_REGISTRATION)
    record = card if registering else service.register(PERMIT, officer="seed")
    if action is Action.LIFT:
        service.suspend(record.id, officer="seed", reason="x")
    if action is Action.APPROVE:
        service.create_offer(record.id, officer="seed", pending=True)
    if action is Action.READ_PORTRAIT:
        service.set_portrait(record.id, PHOTO, officer="seed")
    if action is Action.ENDORSE:
        service.clock.advance(200 * 86400)  # type: ignore[attr-defined]  # inside the endorsement window
    officer = office[(role, district)]
    before = snapshot(service, record.id)
    last = service.audit.heads()
    allowed = role in PERMISSIONS[action] and (district == HOME or action in (Action.READ_AUDIT,))
    if action is Action.MANAGE_OFFICERS:
        allowed = role is Role.ADMIN and district == HOME
    if allowed:
        ACTIONS[action](desk, officer, record.id)
        if action not in (Action.READ_RECORD, Action.READ_AUDIT):  # reads change nothing and are not logged
            assert service.audit.list(after=last, limit=10)[0].outcome == "ok"
        return
    with pytest.raises((ForbiddenError, RecordNotFoundError, NotFoundError)) as denied:
        ACTIONS[action](desk, officer, record.id)
    if role in PERMISSIONS[action] and action not in (Action.REGISTER, Action.OVERRIDE_REGISTRATION,
                                                       Action.MANAGE_OFFICERS):
        assert isinstance(denied.value, RecordNotFoundError)  # another district: as if missing
    assert snapshot(service, record.id) == before
    new = service.audit.list(after=last, limit=10)
    assert [(e.officer, e.outcome) for e in new] == [(officer.id, "denied")]
    assert service.get_record(record.id).state in (RecordState.ACTIVE, RecordState.SUSPENDED)
