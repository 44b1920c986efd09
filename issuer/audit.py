"""The audit trail: appending entries, and checking the hash chain against an anchor.

Every state change and every denial is an entry (issuer.model.AuditEntry: who, what, which record, why,
when); each carries ``prev_hash`` and ``hash`` (issuer.model.entry_hash), and the store appends in one
transaction: read the last hash, chain, insert (Store.append_audit).

``verify_chain`` walks the entries oldest first and stops at the first one that does not fit, naming its
sequence number: an edited entry no longer matches its own hash; a deleted one leaves a gap in the
sequence (and a broken link); an inserted or reordered one breaks a ``prev_hash`` link or the sequence.

Reading is scoped (``AuditLog.read`` with an ``AuditScope``): an auditor of some districts reads the entries
of records in those districts and its own entries; the bureau's auditor reads everything. Entries keep
only the record id, so the store is asked for the records' districts (a district code is not personal).

A chain that an attacker rewrote from some point on (every later hash recomputed), or whose newest entries
were cut off, is still self-consistent. What catches that is the *anchor*: the head (seq and hash) noted
outside the store — printed into the duty book, e-mailed, or signed — and checked later with
``expect=Anchor(seq, hash)``: that entry must still be there with that hash.

A self-consistent chain can still disagree with the records: a state written behind the chain's back (an
UPDATE by hand, a crash between two writes before they were one step). ``check_record_states`` replays the
chain — a "register" entry makes a record ACTIVE, each successful "suspend", "lift", "revoke" moves it — and
names every record whose stored state the replay does not explain, and every registered record that is gone.
"""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from issuer.audit_anchor import Anchor as Anchor  # re-exported: issuer.audit is where readers look for it
from issuer.audit_anchor import digest
from issuer.audit_cursor import AuditCursor, merged
from issuer.errors import AuditChainError, InvalidRequestError
from issuer.model import GENESIS, MAX_ENTRY_REASON, OK, OUTCOMES, Action, AuditEntry, RecordState, entry_hash
from issuer.store import Store

PAGE = 1000
# What a successful entry does to its record's state (the service's transitions, issuer.service._transition).
TRANSITIONS = {Action.REGISTER.value: RecordState.ACTIVE, Action.SUSPEND.value: RecordState.SUSPENDED,
               Action.LIFT.value: RecordState.ACTIVE, Action.REVOKE.value: RecordState.REVOKED}
RECHECKS = 5  # rounds of re-reading a disagreeing record and the chain's new entries (a live office moves on)
SCAN_PAGES = 20  # a scoped read looks at most this many pages, then says where to go on (AuditPage.next)


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: Anchor | None  # None for an empty log
    marked: str = GENESIS  # the hash of the entry at the seq verify_chain was asked to mark (GENESIS: none)


def verify_chain(entries: Iterable[AuditEntry], *, expect: Anchor | None = None, mark: int = 0) -> ChainReport:
    """AuditChainError at the first entry that does not fit; the anchor (of this chain alone) must be found
    unchanged, the entry at seq ``mark`` (> 0) found (its hash: the report's ``marked``)."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    last: AuditEntry | None = None
    anchor_seen = expect is None
    marked = GENESIS
    for entry in entries:
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                raise AuditChainError(expected_seq, f"missing (the next entry is {entry.seq}): deleted")
            raise AuditChainError(entry.seq, f"out of order (expected entry {expected_seq}): reordered or inserted")
        if entry.hash != entry_hash(entry):
            raise AuditChainError(entry.seq, "its content does not match its hash: edited")
        if entry.prev_hash != prev_hash:
            raise AuditChainError(entry.seq, "does not link to the entry before it: inserted, deleted or reordered")
        if expect is not None and entry.seq == expect.seq:
            if entry.hash != expect.hash:
                raise AuditChainError(entry.seq, "differs from the anchor noted earlier: rewritten")
            anchor_seen = True
        if entry.seq == mark:
            marked = entry.hash
        prev_hash, expected_seq, count, last = entry.hash, entry.seq + 1, count + 1, entry
    if not anchor_seen and expect is not None:
        raise AuditChainError(expect.seq, "the anchored entry is gone: the log was cut off")
    if mark > expected_seq - 1:
        raise AuditChainError(mark, "the anchored entry is gone: the log was cut off")
    return ChainReport(count, None if last is None else Anchor(last.seq, last.hash), marked)


@dataclass(frozen=True)
class AuditScope:
    """The entries one auditor may read: those of records in ``districts`` and the auditor's own (``officer``);
    ``districts`` None: every entry (the bureau's auditor)."""

    officer: str
    districts: frozenset[str] | None

    def admits(self, entry: AuditEntry, districts: Mapping[str, str]) -> bool:
        """``districts``: record id -> district, for the records the store knows."""
        if self.districts is None or entry.officer == self.officer:
            return True
        return entry.record_id is not None and districts.get(entry.record_id) in self.districts


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next: AuditCursor  # read on after this: past every entry looked at, shown or not (``after`` if none)


def all_entries(store: Store, *, after: int = 0, chain: str = "", page: int = PAGE) -> Iterator[AuditEntry]:
    """Every entry of ``chain`` (with seq > ``after``) in storage order, ``page`` at a time."""
    while True:
        found = store.list_audit(after=after, limit=page, chain=chain)
        yield from found
        if len(found) < page:
            return
        after = found[-1].seq


def entries_below(store: Store, chain: str, top: int) -> Iterator[AuditEntry]:
    """The entries of ``chain`` with seq < ``top``, newest first, PAGE at a time."""
    while top > 1:
        low = max(0, top - 1 - PAGE)
        found = [e for e in store.list_audit(after=low, limit=top - 1 - low, chain=chain) if e.seq < top]
        yield from reversed(found)
        top = low + 1


def verify_chains(store: Store, *, expect: Anchor | None = None) -> ChainReport:
    """verify_chain over every chain of the store (Store.audit_chains), each on its own: AuditChainError at
    the first entry that does not fit in any. ``expect``, a joint anchor (issuer.audit_anchor), must name
    chains that are still there, each at least as long as noted, whose entries at the noted seqs give its
    digest. The report counts every chain's entries; its head is the joint anchor of the heads now."""
    chains = store.audit_chains()
    noted = {} if expect is None else {c: s for c, s in expect.seqs().items() if s > 0}
    for chain in noted:
        if chain not in chains:
            raise AuditChainError(noted[chain], f"the chain of {chain or 'the global shard'} is gone")
    total, heads, marked = 0, {}, {}
    single = expect is not None and not expect.chains
    for chain in chains:
        report = verify_chain(all_entries(store, chain=chain), expect=expect if single and not chain else None,
                              mark=0 if single else noted.get(chain, 0))
        total += report.entries
        if report.head is not None:
            heads[chain] = (report.head.seq, report.head.hash)
        if chain in noted:
            marked[chain] = (noted[chain], report.marked)
    if expect is not None and not single and digest(marked) != expect.hash:
        raise AuditChainError(expect.seq, "a chain's entries at the anchored heads differ from the anchor noted "
                                          "earlier: rewritten")
    return ChainReport(total, Anchor.of_heads(heads))


@dataclass(frozen=True)
class StateMismatch:
    """A record the chain does not explain: ``stored`` None (gone from the store), ``replayed`` None (never
    registered in the chain); ``last_seq`` is the last entry about the record (0: none)."""

    record_id: str
    stored: RecordState | None
    replayed: RecordState | None
    last_seq: int

    def __str__(self) -> str:
        stored = "missing from the store" if self.stored is None else self.stored.value
        replayed = "never registered" if self.replayed is None else self.replayed.value
        last = f"entry {self.last_seq}" if self.last_seq else "no entry"
        return f"record {self.record_id}: stored {stored}, the chain says {replayed} ({last})"


@dataclass
class StateReplay:
    """Each record's state as the chain's entries say, as far as they have been fed."""

    states: dict[str, RecordState] = field(default_factory=dict)
    last_seq: dict[str, int] = field(default_factory=dict)
    head: int = 0
    heads: dict[str, int] = field(default_factory=dict)  # per chain, when the store has several

    def feed(self, entries: Iterable[AuditEntry], chain: str = "") -> None:
        for entry in entries:
            self.head = self.heads[chain] = entry.seq
            new = TRANSITIONS.get(entry.action)
            if entry.record_id is None or entry.outcome != OK or new is None:
                continue
            self.last_seq[entry.record_id] = entry.seq
            # A transition of a record the chain never registered does not register it.
            if entry.action == Action.REGISTER.value or entry.record_id in self.states:
                self.states[entry.record_id] = new

    def mismatch(self, record_id: str, stored: RecordState | None) -> StateMismatch | None:
        replayed = self.states.get(record_id)
        if replayed == stored:
            return None
        return StateMismatch(record_id, stored, replayed, self.last_seq.get(record_id, 0))


def check_record_states(store: Store) -> list[StateMismatch]:
    """Every record whose stored state the replayed chain does not explain (see the module docstring).

    The records are read first and the chain after them, so every change that reached a record read is in
    the replay (a state change and its entry are one store step); a record that still disagrees is read
    again with the entries appended since, a few rounds, so that a live office's changes are not reported.
    """
    stored = dict(store.record_states())
    replay = StateReplay()
    chains = store.audit_chains()
    for chain in chains:
        replay.feed(all_entries(store, chain=chain), chain)
    suspects = [m for m in (replay.mismatch(i, s) for i, s in stored.items()) if m is not None]
    suspects += [m for i in replay.states if i not in stored if (m := replay.mismatch(i, None)) is not None]
    for _ in range(RECHECKS):
        if not suspects:
            break
        again: list[StateMismatch] = []
        for suspect in suspects:
            record = store.get_record(suspect.record_id)
            for chain in chains:
                replay.feed(all_entries(store, after=replay.heads.get(chain, 0), chain=chain), chain)
            found = replay.mismatch(suspect.record_id, None if record is None else record.state)
            if found is not None:
                again.append(found)
        if [(m.record_id, m.stored, m.replayed) for m in again] == \
                [(m.record_id, m.stored, m.replayed) for m in suspects]:
            return again  # nothing moved: the disagreement is in the data, not in flight
        suspects = again
    return suspects


class AuditLog:
    def __init__(self, store: Store, clock: Callable[[], int]) -> None:
        self._store = store
        self._clock = clock

    def append(
        self, *, officer: str, action: str, record_id: str | None, reason: str = "", outcome: str = OK
    ) -> AuditEntry:
        return self._store.append_audit(self.entry(officer=officer, action=action, record_id=record_id,
                                                   reason=reason, outcome=outcome))

    def entry(
        self, *, officer: str, action: str, record_id: str | None, reason: str = "", outcome: str = OK
    ) -> AuditEntry:
        """The entry ``append`` would write, not yet chained (for a store step that appends several)."""
        if outcome not in OUTCOMES:
            raise InvalidRequestError(f"unknown audit outcome {outcome!r}")
        return AuditEntry(0, self._clock(), officer[:64], action[:64], record_id, reason[:MAX_ENTRY_REASON], outcome)

    def heads(self) -> AuditCursor:
        """A cursor at every chain's head now: ``list(after=heads())`` later reads what was appended since."""
        found = {chain: self._store.audit_head(chain) for chain in self._store.audit_chains()}
        return AuditCursor.of({chain: head[0] for chain, head in found.items() if head is not None})

    def list(self, *, after: int | AuditCursor = 0, limit: int = 100) -> list[AuditEntry]:
        """Up to ``limit`` entries past the cursor ``after`` (an integer: a seq of the global chain), every
        chain's merged by time (issuer.audit_cursor)."""
        return self._scan(AuditCursor.at(after), max(1, min(limit, 1000)), page=limit)[0]

    def read(self, scope: AuditScope, *, after: int | AuditCursor = 0, limit: int = 100,
             wanted: Callable[[AuditEntry], bool] | None = None) -> AuditPage:
        """Up to ``limit`` entries past ``after`` that ``scope`` (and ``wanted``, a filter) admits, oldest
        first. A narrow scope or filter over a long log may need several reads: each looks at no more than
        SCAN_PAGES pages of entries; ``next`` is where the next read goes on."""
        limit = max(1, min(limit, 1000))
        cursor = AuditCursor.at(after)
        if scope.districts is None and wanted is None:
            entries, cursor = self._scan(cursor, limit, page=limit)
            return AuditPage(entries, cursor)
        return self._scoped(scope, cursor, limit, wanted)

    def _scan(self, cursor: AuditCursor, limit: int, *, page: int = PAGE,
              admits: Callable[[builtins.list[AuditEntry]], Callable[[AuditEntry], bool]] | None = None
              ) -> tuple[builtins.list[AuditEntry], AuditCursor]:
        """Look at up to SCAN_PAGES * PAGE entries past ``cursor`` (every chain's, merged), keep up to
        ``limit`` that ``admits`` (given each page looked at) lets through: those and where to go on."""
        page = max(1, min(page, PAGE))
        streams = {chain: all_entries(self._store, after=cursor.get(chain, 0), chain=chain, page=page)
                   for chain in self._store.audit_chains()}
        shown: builtins.list[AuditEntry] = []
        moves: dict[str, int] = {}
        looked = 0
        flow = merged(streams)
        size = PAGE if admits is not None else limit  # unfiltered, every entry looked at is shown
        while looked < SCAN_PAGES * PAGE and len(shown) < limit:
            batch = builtins.list(itertools.islice(flow, size))
            if not batch:
                break
            keep = (lambda _: True) if admits is None else admits([e for _, e in batch])
            for chain, entry in batch:
                looked += 1
                moves[chain] = entry.seq
                if keep(entry):
                    shown.append(entry)
                    if len(shown) == limit:
                        break
            if len(batch) < size:
                break
        return shown, cursor.moved(moves)

    def _scoped(self, scope: AuditScope, cursor: AuditCursor, limit: int,
                wanted: Callable[[AuditEntry], bool] | None) -> AuditPage:
        def admits(page: builtins.list[AuditEntry]) -> Callable[[AuditEntry], bool]:
            districts = {} if scope.districts is None else self._store.record_districts(
                sorted({e.record_id for e in page if e.record_id}))
            return lambda entry: (wanted is None or wanted(entry)) and scope.admits(entry, districts)

        shown, moved = self._scan(cursor, limit, admits=admits)
        return AuditPage(shown, moved)
