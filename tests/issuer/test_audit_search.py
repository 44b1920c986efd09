"""issuer.audit_search on every back end: newest first across page boundaries, a bounded scan per read that
says where to go on, and the same answers through the record index as through the scan."""

from __future__ import annotations

import dataclasses

import pytest

from credential.samples import sample_permit
from issuer import audit_search
from issuer.audit import AuditScope
from issuer.audit_cursor import AuditCursor
from issuer.audit_search import AuditFilter, search_newest
from issuer.model import AuditEntry, Record, RecordState
from issuer.store import Store
from tests.conftest import T0


@pytest.fixture
def log(store: Store) -> list[AuditEntry]:
    store.insert_record(Record("home", sample_permit(), RecordState.ACTIVE, T0, T0))
    away = dataclasses.replace(sample_permit(), district="310101")
    store.insert_record(Record("away", away, RecordState.ACTIVE, T0, T0))
    for i in range(30):
        record = ("home", "away", None)[i % 3]
        action = "revoke" if i in (2 * 3, 5 * 3, 9 * 3) else "create_offer"
        store.append_audit(AuditEntry(0, T0 + i, "sup" if i % 2 else "io", action, record, f"n{i}"))
    # Every chain's (a sharded store keeps the records' entries in their districts' chains), by time.
    return sorted((e for chain in store.audit_chains() for e in store.list_audit(limit=1000, chain=chain)),
                  key=lambda e: e.time)


def read_all(store: Store, scope: AuditScope, wanted: AuditFilter, limit: int,
             before: AuditCursor | None = None) -> tuple[list[str], int]:
    """Every read until next is None: the entries shown (by their reasons, unique here: a seq is unique only
    within its chain), and how many reads it took."""
    shown: list[str] = []
    reads = 0
    while True:
        page = search_newest(store, scope, wanted, before=before, limit=limit)
        reads += 1
        shown += [e.reason for e in page.entries]
        if page.next is None:
            return shown, reads
        assert page.next != before  # always moves on
        before = page.next


def test_newest_first_bounded_per_read(store: Store, log: list[AuditEntry], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_search, "PAGE", 4)
    monkeypatch.setattr(audit_search, "SCAN_PAGES", 2)
    home = AuditScope("aud", frozenset({"110105"}))
    rare = AuditFilter(action="revoke")
    first = search_newest(store, home, rare)
    # Two pages of four (the 30th entry to the 23rd), then "go on below those".
    assert first.looked_at == 8 and [e.reason for e in first.entries] == ["n27"]
    everything = AuditScope("bureau", None)
    assert first.next is not None
    assert read_all(store, everything, AuditFilter(), limit=50, before=first.next)[0] == \
        [e.reason for e in reversed(log)][8:]
    shown, reads = read_all(store, home, rare, limit=50)
    assert shown == [e.reason for e in reversed(log) if e.action == "revoke" and e.record_id == "home"]
    assert reads == 4  # 30 entries, 8 a read
    shown, _ = read_all(store, everything, AuditFilter(), limit=7)
    assert shown == [e.reason for e in reversed(log)]
    assert read_all(store, everything, AuditFilter(officer="sup", since=None), limit=3)[0] == \
        [e.reason for e in reversed(log) if e.officer == "sup"]


def test_the_record_filter_reads_the_index_and_keeps_the_scope(store: Store, log: list[AuditEntry]) -> None:
    home = AuditScope("aud", frozenset({"110105"}))
    by_index, _ = read_all(store, home, AuditFilter(record_id="home"), limit=2)
    assert by_index == [e.reason for e in reversed(log) if e.record_id == "home"]
    assert read_all(store, home, AuditFilter(record_id="away"), limit=5)[0] == []  # another district
    own = AuditScope("io", frozenset({"110105"}))  # an officer's own entries on any record are its own to read
    assert read_all(store, own, AuditFilter(record_id="away"), limit=5)[0] == \
        [e.reason for e in reversed(log) if e.record_id == "away" and e.officer == "io"]
    start = AuditCursor.of({store.shard_of("110105"): 1})  # below the first entry of the record's chain
    assert search_newest(store, home, AuditFilter(record_id="home"), before=start).entries == []
