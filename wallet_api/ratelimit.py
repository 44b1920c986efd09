"""Fixed-window rate limits counted in the issuer's store, so every wallet API instance shares them.

``Store.increment`` adds one and starts the count over ``rate_window`` seconds after its first step; a
request past the limit is refused with 429, ``Retry-After`` (the window: an upper bound on the wait) and a
JSON error. The client is the remote address as the WSGI server sees it: behind a reverse proxy, apply
werkzeug's ProxyFix (trusting exactly the proxy's hops) so that this is the resident's address.

A request that counts several limits counts them in one store step (``enforce_all``), and one that also
writes a short-lived value hands its counts to that write (``counted``: the nonce endpoint), so that a
limit costs no store call of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from flask import request

from issuer.errors import RateLimitedError
from issuer.keyed import RATE
from issuer.store import EphemeralStep
from wallet_api.context import wallet_context

Count = tuple[str, str, int, int]  # the store's counter: kind, keyed key, window, limit


def client_key() -> str:
    return request.remote_addr or "unknown"


def counted(kind: str, key: str, limit: int) -> Count:
    """The store's counter of one request of ``kind`` for ``key``, refused once past ``limit`` in the window."""
    context = wallet_context()
    # Keys are keyed hashes: no code or address is kept in clear (nor a hash of it that a copy of the store
    # could test guesses against), and every key has the same bounded length.
    return f"rate_{kind}", context.service.keyed.digest(RATE, kind, key), context.settings.rate_window, limit


def limited(count: Count) -> NoReturn:
    """RateLimitedError (429): ``count`` passed its limit."""
    raise RateLimitedError.past(count[0], count[2])


def refused(counts: Sequence[Count], results: Sequence[int]) -> None:
    """RateLimitedError (429) for the first count past its limit."""
    for count, result in zip(counts, results, strict=True):
        if result > count[3]:
            limited(count)


def enforce_all(counts: Sequence[Count]) -> None:
    """Count one request against each of ``counts`` in one store step; RateLimitedError once past a limit."""
    context = wallet_context()
    result = context.service.store.ephemeral_step(EphemeralStep(counts=tuple(counts)), context.clock())
    refused(counts, result.counts)


def enforce(kind: str, key: str, limit: int) -> None:
    """Count one request of ``kind`` for ``key``; RateLimitedError (429) once past ``limit`` in the window."""
    enforce_all([counted(kind, key, limit)])
