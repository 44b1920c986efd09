"""Where a reader of a sharded audit log stands: one seq per chain, and the chains' entries merged by time.

The log is one hash chain per shard (Store.audit_chains): "" the global chain, then one per district on a
sharded store. Each chain counts its own seq, so a place to read on from is a seq per chain; a chain a cursor
does not name is read from its start (oldest first) or from its head (newest first). As text the global
chain's seq is written bare and every other chain as CHAIN:SEQ, comma separated ("7,110105:3"): a one-shard
store's cursor is the bare seq it was before the log was sharded (and an integer in JSON).

Across chains entries are ordered by time, then by when the store wrote them (AuditEntry.written: the
machine's clock in µs, the tie-break within one second), then chain, then seq. Within a chain the order is its seq (a clock
that stepped back must not reorder a chain), so the merge takes a prefix of every chain: a cursor made of
the last seq taken from each never skips an entry.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from issuer.errors import InvalidRequestError
from issuer.model import AuditEntry

MAX_CHAINS = 4096  # a cursor naming more chains than a city has districts is not one this office made


@dataclass(frozen=True)
class AuditCursor:
    seqs: tuple[tuple[str, int], ...] = ()  # (chain, seq), sorted by chain, no repeats

    @classmethod
    def of(cls, seqs: Mapping[str, int]) -> AuditCursor:
        return cls(tuple(sorted(seqs.items())))

    @classmethod
    def at(cls, value: int | AuditCursor) -> AuditCursor:
        """A cursor as given: an integer is a seq of the global chain (every entry of a one-shard store)."""
        return value if isinstance(value, AuditCursor) else cls.of({"": int(value)})

    def get(self, chain: str, default: int) -> int:
        return dict(self.seqs).get(chain, default)

    def moved(self, moves: Mapping[str, int]) -> AuditCursor:
        return AuditCursor.of({**dict(self.seqs), **moves})

    def __str__(self) -> str:
        if not self.seqs:
            return "0"
        return ",".join(str(seq) if not chain else f"{chain}:{seq}" for chain, seq in self.seqs)

    def json(self) -> int | str:
        """An integer when the cursor names the global chain alone (every one-shard store), else its text."""
        text = str(self)
        return int(text) if text.isdigit() else text

    @classmethod
    def parse(cls, text: str) -> AuditCursor:
        seqs: dict[str, int] = {}
        items = text.strip().split(",")
        if len(items) > MAX_CHAINS:
            raise InvalidRequestError("an audit cursor names too many chains")
        for item in items:
            chain, sep, seq = item.rpartition(":")
            if not seq.isascii() or not seq.isdigit() or len(seq) > 18 or chain in seqs \
                    or (sep and (not chain or not chain.isascii() or not chain.isalnum() or len(chain) > 32)):
                raise InvalidRequestError("an audit cursor is SEQ or SEQ,CHAIN:SEQ,... (as the page's next said)")
            seqs[chain] = int(seq)
        return cls.of(seqs)


def merged(streams: Mapping[str, Iterable[AuditEntry]], *, newest_first: bool = False
           ) -> Iterator[tuple[str, AuditEntry]]:
    """(chain, entry) from every chain's stream (each in its own seq order, ascending or, ``newest_first``,
    descending), merged by time, chain, seq."""
    rank = {chain: n for n, chain in enumerate(sorted(streams))}

    def tagged(chain: str, entries: Iterable[AuditEntry]
               ) -> Iterator[tuple[tuple[int, int, int], str, AuditEntry]]:
        for entry in entries:
            yield (entry.time, entry.written, rank[chain]), chain, entry

    # No seq in the key: heapq.merge takes each stream's entries in the stream's order, so a chain stays a
    # prefix even where its times or write times are out of order (a clock that stepped back).
    heads = [tagged(chain, entries) for chain, entries in streams.items()]
    for _, chain, entry in heapq.merge(*heads, key=lambda item: item[0], reverse=newest_first):
        yield chain, entry
