"""The anchor: the audit log's heads noted outside the store, one text for every chain together.

A one-shard store has one chain and its anchor is its head, ``SEQ:HASH`` (the head entry's hash). A sharded
store (Redis: one chain per district, issuer.store.redis.audit) has a head per chain; noting each would be a
line per district in the duty book, so the anchor names every chain's head seq (as an audit cursor:
issuer.audit_cursor) and one digest over the heads' hashes: ``7,110105:3,310101:12:DIGEST``. The digest is
SHA-256 over one line per chain, ``CHAIN:SEQ:HASH``, in chain order ("" the global chain first). Checking it
(issuer.audit.verify_chains) walks every chain, takes the hash of the entry at each noted seq, and recomputes
the digest: a chain rewritten or cut off below its noted head no longer gives it. The heads are read one
chain after the other, each a head that was there: the anchor is a set of real heads, not one instant's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from issuer.audit_cursor import AuditCursor
from issuer.errors import InvalidRequestError

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Anchor:
    """``seq``: the global chain's head; ``hash``: its hash, or with ``chains`` (district chain -> head seq,
    the non-empty ones) the digest over every chain's head."""

    seq: int
    hash: str
    chains: tuple[tuple[str, int], ...] = ()

    def __str__(self) -> str:
        return f"{AuditCursor.of({'': self.seq, **dict(self.chains)})}:{self.hash}"

    def seqs(self) -> dict[str, int]:
        return {"": self.seq, **dict(self.chains)}

    @classmethod
    def of_heads(cls, heads: Mapping[str, tuple[int, str]]) -> Anchor | None:
        """The anchor of every chain's (seq, hash) head; None when every chain is empty."""
        named = {chain: head for chain, head in heads.items() if head[0] > 0}
        if not named:
            return None
        glob = named.get("", (0, ""))
        if set(named) == {""}:
            return cls(glob[0], glob[1])
        chains = tuple(sorted((chain, seq) for chain, (seq, _) in named.items() if chain))
        return cls(glob[0], digest(named), chains)

    @classmethod
    def parse(cls, text: str) -> Anchor:
        cursor, sep, digest_hex = text.strip().rpartition(":")
        if not sep or len(digest_hex) != 64 or not set(digest_hex) <= _HEX:
            raise InvalidRequestError("an anchor is SEQ:HASH, or SEQ,CHAIN:SEQ,...:HASH for a sharded log (the "
                                      "hash as 64 lower-case hex digits)")
        seqs = AuditCursor.parse(cursor).seqs
        glob = dict(seqs).get("", 0)
        return cls(glob, digest_hex, tuple((chain, seq) for chain, seq in seqs if chain))


def digest(heads: Mapping[str, tuple[int, str]]) -> str:
    """The joint digest of every chain's (seq, hash) head."""
    lines = "".join(f"{chain}:{seq}:{digest_hash}\n" for chain, (seq, digest_hash) in sorted(heads.items()))
    return hashlib.sha256(lines.encode("ascii")).hexdigest()
