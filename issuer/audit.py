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

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

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
class Anchor:
    """The head of the chain as noted at some time: ``seq:hash``."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        seq, sep, digest = text.strip().partition(":")
        if not sep or not seq.isdigit() or len(seq) > 18 or len(digest) != 64 \
                or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidRequestError("an anchor is SEQ:HASH (the hash as 64 lower-case hex digits)")
        return cls(int(seq), digest)


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head: Anchor | None  # None for an empty log


def verify_chain(entries: Iterable[AuditEntry], *, expect: Anchor | None = None) -> ChainReport:
    """AuditChainError at the first entry that does not fit; the anchor must be found unchanged."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    last: AuditEntry | None = None
    anchor_seen = expect is None
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
        prev_hash, expected_seq, count, last = entry.hash, entry.seq + 1, count + 1, entry
    if not anchor_seen and expect is not None:
        raise AuditChainError(expect.seq, "the anchored entry is gone: the log was cut off")
    return ChainReport(count, None if last is None else Anchor(last.seq, last.hash))


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
    next: int  # read on after this seq: past every entry looked at, shown or not (``after`` if none)


def all_entries(store: Store, *, after: int = 0, chain: str = "") -> Iterator[AuditEntry]:
    """Every entry of ``chain`` (with seq > ``after``) in storage order, page by page."""
    while True:
        page = store.list_audit(after=after, limit=PAGE, chain=chain)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].seq


def verify_chains(store: Store, *, expect: Anchor | None = None) -> ChainReport:
    """verify_chain over every chain of the store (Store.audit_chains), each on its own: AuditChainError at
    the first entry that does not fit in any. ``expect`` anchors the global chain; the report counts every
    chain's entries and names the global chain's head."""
    total, head = 0, None
    for chain in store.audit_chains():
        report = verify_chain(all_entries(store, chain=chain), expect=expect if not chain else None)
        total += report.entries
        head = report.head if not chain else head
    return ChainReport(total, head)


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

    def list(self, *, after: int = 0, limit: int = 100, chain: str | None = None) -> list[AuditEntry]:
        """Entries of ``chain``, or (None) of every chain: on a sharded store the chains' entries after
        ``after`` in each, by time (each chain's seq counts on its own)."""
        limit = max(1, min(limit, 1000))
        chains = self._store.audit_chains() if chain is None else [chain]
        if len(chains) == 1:
            return self._store.list_audit(after=after, limit=limit, chain=chains[0])
        found = [(e.time, c, e.seq, e) for c in chains for e in self._store.list_audit(after=after, limit=limit, chain=c)]
        return [e for *_, e in sorted(found, key=lambda x: x[:3])][:limit]

    def read(self, scope: AuditScope, *, after: int = 0, limit: int = 100,
             wanted: Callable[[AuditEntry], bool] | None = None) -> AuditPage:
        """Up to ``limit`` entries after ``after`` that ``scope`` (and ``wanted``, a filter) admits, oldest
        first. A narrow scope or filter over a long log may need several reads: each looks at no more than
        SCAN_PAGES pages of entries."""
        limit = max(1, min(limit, 1000))
        if scope.districts is None and wanted is None:
            entries = self.list(after=after, limit=limit)
            return AuditPage(entries, entries[-1].seq if entries else after)
        shown: list[AuditEntry] = []
        cursor = after
        for _ in range(SCAN_PAGES):
            page = self._store.list_audit(after=cursor, limit=PAGE)
            districts = {} if scope.districts is None else self._store.record_districts(
                sorted({e.record_id for e in page if e.record_id}))
            for entry in page:
                cursor = entry.seq
                if (wanted is None or wanted(entry)) and scope.admits(entry, districts):
                    shown.append(entry)
                    if len(shown) == limit:
                        return AuditPage(shown, cursor)
            if len(page) < PAGE:
                break
        return AuditPage(shown, cursor)
