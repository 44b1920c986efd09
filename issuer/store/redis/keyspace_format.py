"""Redis: the format marker of a deployment's key space, and the refusal of one this epermit does not read.

Format 4 is sharded: a district's records, offers, status lists and audit chain under its own hash tag
(issuer.store.redis.client). Format 3 kept the whole deployment under one hash tag (one cluster slot, one
master); earlier ones kept pickup codes in clear beside unkeyed hashes. Neither is migrated in place: format 3
moves with a copy into a new prefix, and nothing of the earlier ones can be converted (the store never had the
key). Use a new ``prefix`` or delete the old keys (docs/redis.md). A key space with data but no marker is an
old one; an empty one is marked on first use.
"""

from __future__ import annotations

from typing import Any

from issuer.errors import IssuerError
from issuer.store.redis.client import as_str

FORMAT = "4"
_WHY = {"3": "it keeps the whole deployment under one hash tag (one cluster slot), not one shard per district",
        "before 3": "it was written before pickup codes and tokens were kept as keyed hashes"}


class StoreFormatError(IssuerError):
    """The key space was written by an epermit whose format this one does not read; ``found`` says which."""

    def __init__(self, prefix: str, found: str) -> None:
        why = _WHY.get(found, "it was written by another version of epermit")
        super().__init__(f"the Redis key space {prefix} has format {found}, not {FORMAT}: {why}; use a new prefix "
                         f"or delete its keys (docs/redis.md)")
        self.prefix = prefix
        self.found = found


def check_format(run: Any, prefix: str, format_key: str, audit_head_key: str) -> None:
    """Mark an empty key space, accept one of this format, refuse any other (StoreFormatError)."""
    found = as_str(run("STORE_FORMAT", [format_key, audit_head_key], [FORMAT]))
    if found != FORMAT:
        raise StoreFormatError(prefix, found)
