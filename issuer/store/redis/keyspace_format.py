"""Redis: the format marker of a deployment's key space, and the refusal of one from before keyed hashes.

Format 3 keeps no secret in clear (issuer.keyed). A key space written before (offers with the clear
pre-authorized code beside unkeyed hashes of code + PIN, tokens and nonces under unkeyed hashes) is
refused rather than migrated: nothing in it can be converted (the store never had the key), and finding
every such key means scanning the whole server. Use a new ``prefix`` or delete the old keys (docs/redis.md).
A key space with data but no marker is such an old one; an empty one is marked on first use.
"""

from __future__ import annotations

from typing import Any

from issuer.errors import IssuerError
from issuer.store.redis.client import as_str

FORMAT = "3"


class StoreFormatError(IssuerError):
    """The key space was written by an epermit whose format this one does not read; ``found`` says which."""

    def __init__(self, prefix: str, found: str) -> None:
        super().__init__(f"the Redis key space {prefix} has format {found}, not {FORMAT}: it was written before "
                         f"pickup codes and tokens were kept as keyed hashes; use a new prefix or delete its keys "
                         f"(docs/redis.md)")
        self.prefix = prefix
        self.found = found


def check_format(run: Any, prefix: str, format_key: str, audit_head_key: str) -> None:
    """Mark an empty key space, accept one of this format, refuse any other (StoreFormatError)."""
    found = as_str(run("STORE_FORMAT", [format_key, audit_head_key], [FORMAT]))
    if found != FORMAT:
        raise StoreFormatError(prefix, found)
