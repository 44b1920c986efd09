"""The auditor's page /officer/audit (issue 17, item 8), through Flask's test client on every store back end:
the district scope, the filters (record, officer, action, dates in Beijing time), newest first a page at a
time, the head, and the chain check (intact, broken, against an anchor) that says what it covers."""

from __future__ import annotations

import dataclasses
import datetime
import re

import pytest
from flask import Flask

from credential.citizen_id import citizen_id_check_digit
from credential.model import Permit
from issuer.audit import verify_chains
from issuer.audit_search import AuditFilter
from issuer.errors import InvalidRequestError
from issuer.http.console.audit import PAGE_SIZE
from issuer.model import Officer, Role
from issuer.service import IssuerService
from issuer.store.sqlite import SQLiteStore
from tests.conftest import FakeClock

from .console_logins import OfficerLogins
from .office import AWAY, CARD, HOME
from .test_console_routes import AWAY_CARD, signed_in, text

STAFF = (Officer("clerk", "李文员", Role.CLERK, (HOME,)), Officer("sup", "王所长", Role.SUPERVISOR, (HOME,)),
         Officer("aud", "审计员甲", Role.AUDITOR, (HOME,)), Officer("aud_sh", "上海审计", Role.AUDITOR, (AWAY,)),
         Officer("bureau", "局审计", Role.BUREAU_AUDITOR, ()))
SEQS = re.compile(r'<tr class="entry" data-seq="(\d+)">')
DAY = 86400


@pytest.fixture
def console_staff() -> tuple[Officer, ...]:
    return STAFF


def seqs(page: str) -> list[int]:
    return [int(s) for s in SEQS.findall(page)]


def office_day(service: IssuerService, clock: FakeClock) -> tuple[str, str]:
    """Two records, one per district, with a day's actions on each; returns their ids."""
    home = service.register(CARD, officer="clerk")
    away = service.register(AWAY_CARD, officer="clerk_sh")
    clock.now += DAY
    service.suspend(home.id, officer="sup", reason="home reason")
    service.suspend(away.id, officer="sup_sh", reason="away reason")
    clock.now += DAY
    service.lift(home.id, officer="sup", reason="lifted")
    return home.id, away.id


def test_an_auditor_sees_its_districts_newest_first_and_another_district_nothing_of_them(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    home, away = office_day(service, clock)
    everything = service.audit.list(limit=1000)
    aud = signed_in(app, tokens, "aud")
    page = text(aud.get("/officer/audit"))
    ours = [e.seq for e in reversed(everything) if e.record_id == home]
    assert seqs(page) == ours and away not in page and "away reason" not in page
    assert "home reason" in page and "sup" in page and "王所长" in page and "暂停 Suspended" in page
    assert "Scope: entries of records in districts 110105" in page
    sh = signed_in(app, tokens, "aud_sh")
    theirs = text(sh.get("/officer/audit"))
    assert home not in theirs and "home reason" not in theirs and "away reason" in theirs
    assert text(sh.get(f"/officer/audit?record={home}")).count('class="entry"') == 0  # not even by its id
    bureau = signed_in(app, tokens, "bureau")
    assert seqs(text(bureau.get("/officer/audit")))[:len(everything)] == [e.seq for e in reversed(everything)]


def test_the_filters_record_officer_action_and_dates(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    home, _ = office_day(service, clock)
    other = service.register(another_card(), officer="clerk")
    everything = service.audit.list(limit=1000)
    aud = signed_in(app, tokens, "aud")

    def shown(query: str) -> list[int]:
        response = aud.get(f"/officer/audit?{query}")
        assert response.status_code == 200, text(response)
        return seqs(text(response))

    of_home = [e.seq for e in reversed(everything) if e.record_id == home]
    assert shown(f"record={home}") == of_home
    assert shown(f"record={other.id}") == [e.seq for e in reversed(everything) if e.record_id == other.id]
    assert shown("officer=sup") == [e.seq for e in reversed(everything) if e.officer == "sup" and e.record_id == home]
    assert shown("action=lift") == [e.seq for e in everything if e.action == "lift"]
    assert shown(f"action=register&record={home}") == [everything[0].seq]
    first_day = datetime.datetime.fromtimestamp(everything[0].time, datetime.timezone(datetime.timedelta(hours=8)))
    day = first_day.date()
    assert shown(f"since={day}&until={day}") == [e.seq for e in reversed(everything[:1])]
    assert shown(f"since={day + datetime.timedelta(days=1)}&record={home}") == of_home[:-1]
    assert shown(f"until={day - datetime.timedelta(days=1)}") == []
    bad = aud.get("/officer/audit?since=2026-13-01&action=%3Cscript%3E")
    assert bad.status_code == 400 and "日期无效" in text(bad) and "<script>" not in bad.get_data(as_text=True)
    backwards = aud.get(f"/officer/audit?since={day}&until={day - datetime.timedelta(days=3)}")
    assert backwards.status_code == 400 and "截止日期早于起始日期" in text(backwards)
    with pytest.raises(InvalidRequestError):
        AuditFilter(officer="no spaces allowed")


def another_card() -> Permit:
    """A second holder's card in this district."""
    first17 = CARD.holder.citizen_id[:14] + "123"
    holder = dataclasses.replace(CARD.holder, citizen_id=first17 + citizen_id_check_digit(first17))
    return dataclasses.replace(CARD, holder=holder, document_number="DJK-110105-2025-000077")


def test_newest_first_a_page_at_a_time(app: Flask, tokens: OfficerLogins, service: IssuerService) -> None:
    record = service.register(CARD, officer="clerk")
    for i in range(PAGE_SIZE + 7):
        service.audit.append(officer="clerk", action="create_offer", record_id=record.id, reason=f"offer {i}")
    head = service.store.audit_head(service.store.shard_of(record.permit.district))  # the record's chain
    assert head is not None
    aud = signed_in(app, tokens, "aud")
    first = text(aud.get("/officer/audit?action=create_offer"))
    assert seqs(first) == list(range(head[0], head[0] - PAGE_SIZE, -1))
    older = re.search(r'id="older" href="([^"]+)"', first)
    assert older is not None and "action=create_offer" in older.group(1)
    rest = text(aud.get(older.group(1).replace("&amp;", "&")))
    assert seqs(rest) == list(range(head[0] - PAGE_SIZE, 1, -1)) and 'id="older"' not in rest
    assert 'id="newest"' in rest


def test_the_head_and_the_chain_check(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    office_day(service, clock)
    aud = signed_in(app, tokens, "aud")
    page = text(aud.get("/officer/audit"))
    report = verify_chains(service.store)  # its head: every chain's together (one chain on a one-shard store)
    anchor = report.head
    assert anchor is not None
    assert f'id="head-seq">{anchor.seq}<' in page and f'id="head-hash">{anchor.hash}<' in page
    assert f'id="head-anchor">{anchor}<' in page
    assert "The check covers the whole log: every district, every entry from 1 to the head" in page
    assert "检查范围：整个日志" in page and 'id="chain-result"' not in page  # run only when asked
    assert aud.post("/officer/audit/check", csrf=False).status_code == 400
    checked = text(aud.post("/officer/audit/check"))
    assert f"The chain is intact: {report.entries} entries" in checked and "哈希链完整" in checked
    anchored = text(aud.post("/officer/audit/check", {"anchor": str(anchor)}))
    assert "the anchor matches" in anchored
    wrong = text(aud.post("/officer/audit/check", {"anchor": str(anchor)[:-64] + "0" * 64}))
    assert f"broken at entry {anchor.seq}" in wrong and "rewritten" in wrong and "被改写" in wrong
    nonsense = aud.post("/officer/audit/check", {"anchor": "yesterday"})
    assert nonsense.status_code == 400 and "锚点格式" in text(nonsense)
    if isinstance(service.store, SQLiteStore):  # an entry edited behind the chain's back
        with service.store._db.write() as c:
            c.execute("UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 2")
        broken = text(aud.post("/officer/audit/check"))
        assert "The chain is broken at entry 2" in broken and "被修改" in broken and "edited" in broken


def test_only_auditors_have_the_page(app: Flask, tokens: OfficerLogins, service: IssuerService) -> None:
    service.register(CARD, officer="clerk")
    clerk = signed_in(app, tokens, "clerk")
    assert 'id="nav-audit"' not in text(clerk.get("/officer/"))
    before = service.audit.heads()
    refused = clerk.get("/officer/audit")
    assert refused.status_code == 403 and 'id="entries"' not in text(refused)
    assert clerk.post("/officer/audit/check").status_code == 403
    assert {e.outcome for e in service.audit.list(after=before, limit=10)} == {"denied"}
    aud = signed_in(app, tokens, "aud")
    assert 'id="nav-audit"' in text(aud.get("/officer/"))
    assert app.test_client().get("/officer/audit", base_url="https://localhost").status_code == 302  # signed out
