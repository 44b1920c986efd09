"""The console's record page as a record's history (issue 17, item 5), through Flask's test client on every
store back end: every audit entry of the record with time (Beijing), officer, action and reason in words, the
offers and the pickup, the validity in force and endorsed, the masked citizen ID and its audited reveal, and
the district scope of all of it."""

from __future__ import annotations

import datetime
import re

import pytest
from flask import Flask

from issuer.history import HISTORY_PAGE, masked_citizen_id
from issuer.model import DENIED, OK, Officer, Role
from issuer.service import IssuerService
from issuer.store.sqlite import SQLiteStore
from keys.signers import KeySigner
from tests.conftest import FakeClock

from .console_logins import OfficerLogins
from .office import AWAY, CARD, HOME, PERMIT
from .test_console_routes import AWAY_CARD, signed_in, text

STAFF = (Officer("clerk", "李文员", Role.CLERK, (HOME,)), Officer("io", "赵警官", Role.ISSUING_OFFICER, (HOME,)),
         Officer("sup", "王所长", Role.SUPERVISOR, (HOME,)), Officer("io_sh", "上海民警", Role.ISSUING_OFFICER, (AWAY,)),
         Officer("sup_sh", "上海所长", Role.SUPERVISOR, (AWAY,)))
ROW = re.compile(r'<tr class="entry" data-seq="(\d+)">(.*?)</tr>', re.DOTALL)


@pytest.fixture
def console_staff() -> tuple[Officer, ...]:
    return STAFF


def history_rows(page: str) -> list[tuple[int, str]]:
    section = page[page.index('id="history"'):]
    return [(int(seq), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()) for seq, row in ROW.findall(section)]


def beijing(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone(datetime.timedelta(hours=8))).strftime(
        "%Y-%m-%d %H:%M:%S")


def test_the_history_lists_every_entry_of_the_record_newest_first_in_words(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    record = service.register(CARD, officer="clerk")
    other = service.register(PERMIT, officer="clerk")
    sup = signed_in(app, tokens, "sup")
    clock.now += 3600
    assert sup.post(f"/officer/records/{record.id}/suspend",
                    {"reason_code": "LOST", "reason": "手机被盗"}).status_code == 303
    service.suspend(other.id, officer="sup", reason="other record")  # never on this record's page
    clock.now += 60
    assert sup.post(f"/officer/records/{record.id}/lift", {"reason_code": "RESOLVED"}).status_code == 303
    page = text(sup.get(f"/officer/records/{record.id}"))
    rows = history_rows(page)
    expected = [e for e in reversed(service.audit.list(limit=1000)) if e.record_id == record.id]
    assert [seq for seq, _ in rows] == [e.seq for e in expected] and len(rows) == 3
    lift, suspend, register = (words for _, words in rows)
    assert lift.startswith(beijing(clock.now)) and "sup 王所长" in lift and "恢复 Lifted" in lift
    assert "问题已解决 Resolved" in lift and "完成 Done" in lift
    assert beijing(clock.now - 60) in suspend and "暂停 Suspended" in suspend and "遗失：手机被盗" in suspend
    assert "Lost: 手机被盗" in suspend and "LOST" not in page[page.index('id="history"'):]
    assert "clerk 李文员" in register and "登记 Registered" in register and "居住登记卡 Registration card" in register
    assert "other record" not in page and "北京时间" in page


def test_a_long_history_is_paged_through_the_index(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    record = service.register(CARD, officer="clerk")
    for _ in range(HISTORY_PAGE + 4):
        service.audit.append(officer="io", action="create_offer", record_id=record.id, reason="offer x")
    io = signed_in(app, tokens, "io")
    first = text(io.get(f"/officer/records/{record.id}"))
    newest = history_rows(first)
    assert len(newest) == HISTORY_PAGE
    older = re.search(r'id="older" href="([^"]+)"', first)
    assert older is not None
    rest = history_rows(text(io.get(older.group(1).replace("&amp;", "&"))))
    assert [seq for seq, _ in rest][-1] == 1 and len(rest) == 5 and rest[0][0] == newest[-1][0] - 1
    assert io.get(f"/officer/records/{record.id}?before=nonsense").status_code == 200  # the newest page


def test_offers_and_the_pickup_are_shown(app: Flask, tokens: OfficerLogins, service: IssuerService,
                                         clock: FakeClock) -> None:
    record = service.register(CARD, officer="clerk")
    io = signed_in(app, tokens, "io")
    page = text(io.get(f"/officer/records/{record.id}"))
    assert 'id="no-offers"' in page and "居民尚未领取。Not picked up yet." in page
    expired = service.create_offer(record.id, officer="io")
    clock.now = expired.expires_at + 1
    offer = service.create_offer(record.id, officer="io")
    io = signed_in(app, tokens, "io")  # the morning's session has ended
    page = text(io.get(f"/officer/records/{record.id}"))
    assert page.count('class="offer offer-open"') == 1 and page.count('class="offer offer-expired"') == 1
    assert "待领取 Open" in page and "已过期 Expired" in page and "待领取 1 份" in page
    keys = [KeySigner.generate().public_key, KeySigner.generate().public_key]
    clock.now += 120
    service.deliver(service.redeem(offer.pre_authorized_code, offer.tx_code), keys, offer.configuration_ids[0])
    page = text(io.get(f"/officer/records/{record.id}"))
    assert f"居民已领取 2 份电子证件，最近一次 {beijing(clock.now)}" in page
    assert "The resident picked up 2 credential(s)" in page and "已领取 Picked up" in page
    assert "待领取 0 份" in page and "居民已领取 Picked up by the resident" in page
    assert offer.tx_code not in page.replace(offer.ref, "")  # the PIN is shown once, on the sheet only


def test_the_validity_in_force_and_the_endorsed_one(
    app: Flask, tokens: OfficerLogins, service: IssuerService, clock: FakeClock
) -> None:
    service.register(CARD, officer="clerk")
    record = service.register(PERMIT, officer="clerk")
    offer = service.create_offer(record.id, officer="io")
    service.deliver(service.redeem(offer.pre_authorized_code, offer.tx_code), [KeySigner.generate().public_key],
                    offer.configuration_ids[0])
    clock.now = int(datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC).timestamp())
    io = signed_in(app, tokens, "io")
    assert io.post(f"/officer/records/{record.id}/endorse").status_code == 200
    page = text(io.get(f"/officer/records/{record.id}"))
    # Endorsed early: the old period is in force until 2027-01-04, the endorsed one starts the day after it.
    assert re.search(r'id="validity">2026-01-05 – 2027-01-04 <span class="small">现行 in force', page)
    assert 'id="endorsed-validity">2027-01-05 – 2028-01-04<' in page
    assert "签注前 before: 2026-01-05 – 2027-01-04" in page and "赵警官" in page
    assert "尚未领取签注后的证件" in page and "still holds the validity before the endorsement" in page
    # The resident picks the endorsed credential up: the page says so.
    sheet = service.create_offer(record.id, officer="io")
    service.deliver(service.redeem(sheet.pre_authorized_code, sheet.tx_code), [KeySigner.generate().public_key],
                    sheet.configuration_ids[0])
    page = text(io.get(f"/officer/records/{record.id}"))
    assert "居民已领取签注后的证件。The resident picked up the endorsed credentials." in page
    clock.now = int(datetime.datetime(2027, 1, 6, tzinfo=datetime.UTC).timestamp())
    io = signed_in(app, tokens, "io")
    page = text(io.get(f"/officer/records/{record.id}"))
    assert re.search(r'id="validity">2027-01-05 – 2028-01-04<', page)  # now the endorsed period is in force


def test_the_citizen_id_is_masked_until_revealed_and_each_reveal_is_audited(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    record = service.register(CARD, officer="clerk")
    full = CARD.holder.citizen_id
    masked = masked_citizen_id(full)
    assert masked == full[:6] + "********" + full[14:]
    clerk = signed_in(app, tokens, "clerk")
    page = text(clerk.get(f"/officer/records/{record.id}"))
    assert full not in page and f'id="citizen-id">{masked}' in page and 'id="form-reveal"' in page
    found = text(clerk.post("/officer/search", {"q": full}))
    assert full not in found and masked in found  # the search results too
    before = service.audit.heads()
    refused = clerk.post(f"/officer/records/{record.id}/reveal", csrf=False)
    assert refused.status_code == 400 and service.audit.heads() == before  # no CSRF: nothing
    shown = clerk.post(f"/officer/records/{record.id}/reveal")
    assert shown.status_code == 200 and full in text(shown) and "this view is audited" in text(shown)
    [reveal] = service.audit.list(after=before, limit=10)
    assert (reveal.officer, reveal.action, reveal.record_id, reveal.outcome) == (
        "clerk", "reveal_citizen_id", record.id, OK)
    assert full not in reveal.reason
    again = text(clerk.get(f"/officer/records/{record.id}"))
    assert full not in again and "查看完整身份号码 Full citizen ID shown" in again  # masked again, and in the history


def test_another_districts_record_its_history_and_its_reveal_are_refused(
    app: Flask, tokens: OfficerLogins, service: IssuerService
) -> None:
    away = service.register(AWAY_CARD, officer="clerk_sh")
    service.suspend(away.id, officer="sup_sh", reason="上海的原因")
    sup = signed_in(app, tokens, "sup")
    page = sup.get(f"/officer/records/{away.id}")
    assert page.status_code == 404 and "上海的原因" not in text(page)
    assert sup.get(f"/officer/records/{away.id}?before=99").status_code == 404
    before = service.audit.heads()
    record_before = service.get_record(away.id)
    refused = sup.post(f"/officer/records/{away.id}/reveal")
    assert refused.status_code == 404 and AWAY_CARD.holder.citizen_id not in text(refused)
    denials = service.audit.list(after=before, limit=10)  # the denials (the reveal, the page again)
    assert (denials[0].action, denials[0].outcome, denials[0].record_id) == ("reveal_citizen_id", DENIED, away.id)
    assert {e.outcome for e in denials} == {DENIED}
    assert service.get_record(away.id) == record_before
    # The officers of that district see it, masked.
    sh = signed_in(app, tokens, "sup_sh")
    page = text(sh.get(f"/officer/records/{away.id}"))
    assert "上海的原因" in page and AWAY_CARD.holder.citizen_id not in page


def test_the_sqlite_history_query_uses_the_record_index(service: IssuerService) -> None:
    store = service.store
    if not isinstance(store, SQLiteStore):
        pytest.skip("the query plan is SQLite's")
    plan = store._db.rows("EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE record_id = ? AND seq < ? "
                          "ORDER BY seq DESC LIMIT ?", ("r", 10, 5))
    assert any("audit_log_record" in str(tuple(row)) for row in plan)
