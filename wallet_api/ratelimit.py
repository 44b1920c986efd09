"""Fixed-window rate limits counted in the issuer's store, so every wallet API instance shares them.

``Store.increment`` adds one and starts the count over ``rate_window`` seconds after its first step; a
request past the limit is refused with 429, ``Retry-After`` (the window: an upper bound on the wait) and a
JSON error. The client is the remote address as the WSGI server sees it: behind a reverse proxy, apply
werkzeug's ProxyFix (trusting exactly the proxy's hops) so that this is the resident's address.
"""

from __future__ import annotations

from flask import request

from issuer.errors import RateLimitedError
from issuer.keyed import RATE
from wallet_api.context import wallet_context


def client_key() -> str:
    return request.remote_addr or "unknown"


def enforce(kind: str, key: str, limit: int) -> None:
    """Count one request of ``kind`` for ``key``; RateLimitedError (429) once past ``limit`` in the window."""
    context = wallet_context()
    window = context.settings.rate_window
    # Keys are keyed hashes: no code or address is kept in clear (nor a hash of it that a copy of the store
    # could test guesses against), and every key has the same bounded length.
    digest = context.service.keyed.digest(RATE, kind, key)
    if context.service.store.increment(f"rate_{kind}", digest, window, context.clock()) > limit:
        raise RateLimitedError(f"too many {kind.replace('_', ' ')} requests; retry later", retry_after=window)
