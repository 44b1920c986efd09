"""Publishing the trust list from a key directory with a version that only grows.

Versions are unix times, bumped past anything published before: the same numbering as the issuer's own
publisher (issuer/publication.py: ``max(stored + 1, now)``), so a list from either never looks like a
rollback to a verifier that has seen the other's. The floor is the highest of the version recorded in the
key directory (``trustlist.version``) and the version already in the output file, so publishing to a new
path, or from a restored backup of the output, still never goes backwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from credential.trustlist import MAX_TRUST_LIST_SIZE, TrustList, sign_trust_list, verify_trust_list
from keys.errors import TrustListVersionError
from keys.keydir import last_published_version, record_published_version
from keys.keyring import TRUST_LIST_VALIDITY, KeyRing
from keys.keystore import read_small_file


def next_version(ring: KeyRing, key_dir: Path, out: Path, *, now: int, requested: int | None) -> int:
    floor = last_published_version(key_dir)
    if out.exists():
        token = read_small_file(out, MAX_TRUST_LIST_SIZE).decode("ascii", errors="replace").strip()
        floor = max(floor, verify_trust_list(token, root_key=ring.root.public_key, now=now).version)
    if requested is None:
        return max(now, floor + 1)
    if requested < 1 or requested <= floor:
        raise TrustListVersionError(requested, floor)
    return requested


def publish_trust_list(ring: KeyRing, key_dir: Path, out: Path, *, issuer: str, now: int, version: int | None,
                       status_lists: Sequence[str], aggregation_uri: str | None,
                       validity: int = TRUST_LIST_VALIDITY) -> TrustList:
    """Sign the ring's trust list with the next version, write it to ``out`` atomically, record the version."""
    chosen = next_version(ring, key_dir, out, now=now, requested=version)
    trust = ring.trust_list(issuer=issuer, now=now, version=chosen, status_lists=status_lists,
                            aggregation_uri=aggregation_uri, validity=validity)
    token = sign_trust_list(trust, root_signer=ring.root_signer)
    partial = out.with_name(f".{out.name}.{secrets.token_hex(6)}.tmp")
    partial.write_text(token + "\n", encoding="ascii")
    os.replace(partial, out)  # readers never see half a trust list
    record_published_version(key_dir, chosen)
    return trust
