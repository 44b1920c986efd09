"""Reading the audit log is scoped: an auditor of some districts reads the entries of records in those
districts and its own entries; the bureau's auditor (its own role, made on the office machine) reads all."""

from __future__ import annotations

import dataclasses

import pytest

from issuer import audit
from issuer.audit import AuditScope
from issuer.audit_cursor import AuditCursor
from issuer.desk import OfficerDesk
from issuer.errors import ForbiddenError, NotFoundError
from issuer.model import AuditEntry, Officer, Reason, ReasonCode, Role
from issuer.service import IssuerService
from tests.conftest import FakeClock

from .office import AWAY, CARD, HOME, officers

# Another district of this issuer's authority (a permit of another authority is refused at registration).
AWAY_CARD = dataclasses.replace(CARD, district=AWAY, document_number="DJK-310101-2025-000001")
BUREAU = Officer("bureau", "督察", Role.BUREAU_AUDITOR, ())


def everything(desk: OfficerDesk, auditor: Officer) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    after = AuditCursor()
    while True:
        page = desk.audit_entries(auditor, after=after, limit=3)
        entries += page.entries
        if page.next == after:
            return entries
        after = page.next


def test_an_auditor_reads_its_districts_records_and_its_own_entries(service: IssuerService) -> None:
    desk = OfficerDesk(service)
    office = officers(desk)
    home, away = service.register(CARD, officer="seed"), service.register(AWAY_CARD, officer="seed")
    service.suspend(away.id, officer="seed", reason="x")
    desk.suspend(office[(Role.SUPERVISOR, HOME)], home.id, Reason(ReasonCode.LOST, ""))
    shanghai_auditor = office[(Role.AUDITOR, AWAY)]
    with pytest.raises(ForbiddenError):
        desk.suspend(shanghai_auditor, home.id, Reason(ReasonCode.LOST, ""))  # its own denial, on a HOME record
    every = service.audit.list(limit=1000)
    seen = everything(desk, shanghai_auditor)
    assert seen == [e for e in every if e.record_id == away.id or e.officer == shanghai_auditor.id]
    assert {e.record_id for e in seen} == {away.id, None} and len(seen) == 3
    beijing = everything(desk, office[(Role.AUDITOR, HOME)])
    assert {e.record_id for e in beijing} == {home.id} and len(beijing) == 2
    assert everything(desk, BUREAU) == every


def test_a_narrow_scope_reads_on_where_it_stopped(
    service: IssuerService, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "PAGE", 4)
    monkeypatch.setattr(audit, "SCAN_PAGES", 2)
    away = service.register(AWAY_CARD, officer="seed")  # in its district's chain on a sharded store
    for _ in range(10):  # the global chain; a second apart, so that the chains' merge is the order written
        clock.advance(1)
        service.audit.append(officer="seed", action="note", record_id=None)
    clock.advance(1)
    service.audit.append(officer="seed", action="note", record_id=away.id)
    every = service.audit.list(limit=1000)
    scope = AuditScope("a", frozenset({AWAY}))
    first = service.audit.read(scope, after=0, limit=5)
    assert [e.record_id for e in first.entries] == [away.id]
    assert service.audit.list(after=first.next, limit=1000) == every[8:]  # looked at two pages of four
    second = service.audit.read(scope, after=first.next, limit=5)
    assert second.entries == every[-1:] and second.next == service.audit.heads()
    assert service.audit.read(scope, after=second.next, limit=5) == audit.AuditPage([], second.next)


def test_administrators_cannot_make_or_manage_a_bureau_auditor(service: IssuerService) -> None:
    desk = OfficerDesk(service)
    admin = officers(desk)[(Role.ADMIN, HOME)]
    with pytest.raises(ForbiddenError):
        desk.add_officer(admin, "inspector", name="督察", role="bureau_auditor", districts=[HOME])
    desk.officers.put(dataclasses.replace(BUREAU, districts=(HOME,)))
    assert "bureau" not in [o.id for o in desk.list_officers(admin)]
    for act in (lambda: desk.disable_officer(admin, "bureau"), lambda: desk.issue_token(admin, "bureau", ttl=60)):
        with pytest.raises(NotFoundError):
            act()
    assert desk.officers.get("inspector") is None and not desk.officers.get("bureau").disabled  # type: ignore[union-attr]
    assert [e.outcome for e in service.audit.list(limit=1000)][-1:] == ["denied"]
