"""Checking the audit hash chain, and the anchor that makes a cut-off tail visible.

``verify_chain`` walks the entries oldest first and stops at the first one that does not fit, naming its
sequence number: an edited entry no longer matches its own hash; a deleted one leaves a gap in the
sequence (and a broken link); an inserted or reordered one breaks a ``prev_hash`` link or the sequence.

A chain that an attacker rewrote from some point on (every later hash recomputed), or whose newest entries
were cut off, is still self-consistent. What catches that is the *anchor*: the head (seq and hash) noted
outside the store — printed into the duty book, e-mailed, or signed — and checked later with
``expect=Anchor(seq, hash)``: that entry must still be there with that hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from issuer.audit import GENESIS, AuditEntry, entry_hash
from issuer.errors import IssuerError
from issuer.store import Store

PAGE = 1000


class AuditChainError(IssuerError):
    """The chain is broken at entry ``seq`` (the first entry that does not fit)."""

    http_status = 409
    error = "audit_chain_broken"

    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(f"entry {seq}: {problem}")
        self.seq = seq
        self.problem = problem


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
            raise ValueError("an anchor is SEQ:HASH (the hash as 64 lower-case hex digits)")
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


def all_entries(store: Store) -> Iterator[AuditEntry]:
    """Every entry in storage order, page by page."""
    after = 0
    while True:
        page = store.list_audit(after=after, limit=PAGE)
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].seq
