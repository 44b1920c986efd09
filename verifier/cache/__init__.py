"""The verifier's local folder: the pinned root, the trust list, status lists, and a clock high-water mark.

Layout (no holder data anywhere)::

    root.pem                 the pinned root certificate: set once (``--root``), never replaced by a sync
    trustlist.jwt            the newest trust list accepted
    status/<sha256(uri)>.cwt one status list token per URI, as fetched: the CWT form (what sync asks for) or
    status/<sha256(uri)>.jwt the JWT form (an import, an older server); accepting one removes the other
    state.json               fetched-at times, the newest list accepted of each kind, the clock high-water mark

The tokens are the truth: they are re-verified (root -> trust list -> status key) whenever a file changes,
so a corrupted or hand-edited file is ignored rather than believed. Between changes, the verified forms are
kept in memory (verifier.filememo): a scan costs a few stat calls, not a file read and three signatures.
Files are read and written as verifier.cachefiles says: a symlink, FIFO or device is refused, not read;
every write goes to a temporary file moved into place, so a crash leaves the old file or the new one.

Marks (``Marks``): state.json records the (version, iat) of the newest trust list and the iat of the newest
status list accepted for each URI. A validly signed but older list copied back over a cache file is then
told apart from the current one: it may still report bad news (revoked, suspended) but can no longer prove
a credential good, and a sync or import older than the mark is refused as a rollback. If state.json is
missing, damaged or refused, no list can be shown current until the next sync rewrites it. The mark is per
URI, whatever the form: a JWT older than the CWT accepted before is as much a rollback as an older CWT. If
both forms of one list are on disk (a crash between writing one and removing the other, or a hand copy),
the one with the newer ``iat`` that verifies is used.

The high-water mark is the newest ``iat`` of any accepted trust or status list. Those lists were signed
after that moment, so a local clock earlier than it (beyond the tolerated skew) is wrong — rolled back
to make an expired credential look valid, or a dead RTC battery — and is not believed.
"""

from __future__ import annotations

from verifier.cache.folder import VerifierCache as VerifierCache
from verifier.cache.layout import status_file_name as status_file_name
from verifier.cache.root import load_root_certificate as load_root_certificate
from verifier.cache.state import STATE_LOST as STATE_LOST
from verifier.cache.state import Clock as Clock
from verifier.cache.state import Marks as Marks

__all__ = [
    "STATE_LOST",
    "Clock",
    "Marks",
    "VerifierCache",
    "load_root_certificate",
    "status_file_name",
]
