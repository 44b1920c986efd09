"""One anchor for every audit chain (issuer.audit_anchor) and one cursor over them (issuer.audit_cursor), on
every back end: a one-shard store's anchor is its head as before; a sharded one's names each chain's head and
one digest over them, so a district's chain cut off or rewritten below its noted head is found."""

from __future__ import annotations

import dataclasses

import pytest

from credential.samples import sample_permit
from issuer.audit import Anchor, AuditLog, AuditScope, verify_chains
from issuer.audit_cursor import AuditCursor, merged
from issuer.errors import AuditChainError, InvalidRequestError
from issuer.model import AuditEntry, Record, RecordState
from issuer.store import Store
from tests.conftest import T0

HOME, AWAY = "110105", "310101"


def office(store: Store) -> list[Record]:
    records = [Record(f"r-{district}", dataclasses.replace(sample_permit(), district=district),
                      RecordState.ACTIVE, T0, T0) for district in (HOME, AWAY)]
    for n, record in enumerate(records):
        store.insert_record(record, audit=AuditEntry(0, T0 + n, "seed", "register", record.id, "x"))
    for n in range(3):
        store.append_audit(AuditEntry(0, T0 + 10 + 2 * n, "seed", "note", None, f"g{n}"))
        store.append_audit(AuditEntry(0, T0 + 11 + 2 * n, "sup", "suspend", records[n % 2].id, f"s{n}"))
    return records


def cut_newest(store: Store, chain: str) -> None:
    """Remove the newest entry of ``chain`` behind the store's back: what is left is still a sound chain."""
    from issuer.store.redis import RedisStore
    from issuer.store.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        with store._db.write() as c:
            c.execute("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        return
    assert isinstance(store, RedisStore)
    head = store.audit_head(chain)
    assert head is not None
    store._r.rpop(store._d(chain, "audit"))
    before = store.list_audit(after=head[0] - 2, limit=1, chain=chain)[0]
    store._r.hset(store._d(chain, "audit", "head"), mapping={"seq": before.seq, "hash": before.hash})


def test_the_anchor_of_every_chain_is_checked_against_each_chain(store: Store) -> None:
    records = office(store)
    anchor = verify_chains(store).head
    assert anchor is not None and Anchor.parse(str(anchor)) == anchor
    chains = store.audit_chains()
    if chains == [""]:  # one shard: the anchor is the head entry, SEQ:HASH, as before sharding
        assert str(anchor) == f"{anchor.seq}:{store.audit_head()[1]}"  # type: ignore[index]
    else:
        assert chains == ["", store.shard_of(HOME), store.shard_of(AWAY)] and anchor.seq == 3
        assert dict(anchor.chains) == {store.shard_of(HOME): 3, store.shard_of(AWAY): 2}
    assert verify_chains(store, expect=anchor).entries == 8
    store.append_audit(AuditEntry(0, T0 + 30, "sup", "lift", records[0].id, "later"))
    assert verify_chains(store, expect=anchor).entries == 9  # the log went on: the noted heads are still there
    forged = Anchor(anchor.seq, "0" * 64, anchor.chains)
    with pytest.raises(AuditChainError, match="rewritten"):
        verify_chains(store, expect=forged)
    cut_newest(store, store.shard_of(HOME))  # the lift: past the anchor, so the anchor still holds
    assert verify_chains(store, expect=anchor).entries == 8
    cut_newest(store, store.shard_of(HOME))  # below the noted head: the chain alone is sound, not against it
    with pytest.raises(AuditChainError, match="cut off"):
        verify_chains(store, expect=anchor)


def test_an_anchor_is_seq_hash_or_a_cursor_and_a_digest() -> None:
    digest = "ab" * 32
    assert Anchor.parse(f"8:{digest}") == Anchor(8, digest)
    joint = Anchor.parse(f"3,110105:7,310101:2:{digest}")
    assert joint == Anchor(3, digest, (("110105", 7), ("310101", 2))) and str(joint) == f"3,110105:7,310101:2:{digest}"
    for bad in ("8", f"8:{digest[:-1]}", f"x:{digest}", f"3,:7:{digest}", f"3,110105:7,110105:8:{digest}",
                f"8:{digest.upper()}"):
        with pytest.raises(InvalidRequestError):
            Anchor.parse(bad)


def test_a_cursor_reads_every_chain_on_from_where_it_stood(store: Store) -> None:
    office(store)
    log = AuditLog(store, lambda: T0)
    every = log.list(limit=1000)
    assert [e.time for e in every] == sorted(e.time for e in every) and len(every) == 8
    cursor = AuditCursor()
    seen: list[AuditEntry] = []
    while True:  # three at a time, each page from where the last one stopped
        page = log.read(AuditScope("bureau", None), after=cursor, limit=3)
        if not page.entries:
            break
        seen += page.entries
        cursor = page.next
    assert seen == every and cursor == log.heads()
    assert AuditCursor.parse(str(cursor)) == cursor
    assert isinstance(cursor.json(), int) == (store.audit_chains() == [""])  # a bare seq on one shard


def test_the_merge_keeps_each_chains_own_order() -> None:
    """A clock that stepped back inside one chain must not make the merge skip that chain's entry."""
    def entry(seq: int, time: int) -> AuditEntry:
        return AuditEntry(seq, time, "o", "a", None, "")

    streams = {"": [entry(1, 10), entry(2, 5)], "110105": [entry(1, 7)]}
    order = [(chain, e.seq) for chain, e in merged(streams)]
    assert order == [("110105", 1), ("", 1), ("", 2)]  # by time where it can, never out of a chain's order
    for bad in ("-1", "a", "1,:2", "1,1", "x y:1"):
        with pytest.raises(InvalidRequestError):
            AuditCursor.parse(bad)
