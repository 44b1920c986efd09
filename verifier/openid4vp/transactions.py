"""The verifier's open presentation requests: state, nonce and what was asked, kept until answered or expired.

``TransactionStore`` is the interface (a plain-Python protocol: a server may keep transactions in its own
database); ``InMemoryTransactionStore`` is the bounded, thread-safe implementation for one process (the
employer demo). Rules every implementation keeps:
- ``take`` is single use: the first response for a state consumes it, a second one is
  UnknownTransactionError("used") — so a response (and its nonce) can never be replayed;
- a transaction past ``expires_at`` is never returned (UnknownTransactionError("expired"));
- the store is bounded: when full of live transactions ``put`` raises TransactionStoreFullError rather than
  forgetting an open one;
- time is a parameter (``now``, unix seconds).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from verifier.openid4vp.errors import TransactionStoreFullError, UnknownTransactionError

DEFAULT_MAX_TRANSACTIONS = 10_000


@dataclass(frozen=True)
class Transaction:
    """One request as the verifier sent it (verifier.openid4vp.request.new_request)."""

    state: str  # in the request object and echoed in the response
    request_id: str  # names the request object at the request_uri; not the state
    nonce: str  # the KB-JWT must carry it
    client_id: str  # with its prefix: the KB-JWT's aud
    response_uri: str
    dcql_query: dict[str, Any]
    request_object: str  # the signed JWT served at the request_uri
    created_at: int
    expires_at: int


class TransactionStore(Protocol):
    def put(self, transaction: Transaction, *, now: int) -> None:
        """Keep a new transaction; TransactionStoreFullError when the store is full."""
        ...

    def by_request_id(self, request_id: str, *, now: int) -> Transaction:
        """The open transaction whose request object is at ``request_id`` (not consumed)."""
        ...

    def take(self, state: str, *, now: int) -> Transaction:
        """Consume the open transaction of ``state``: exactly once (module docstring)."""
        ...


class InMemoryTransactionStore:
    """At most ``max_entries`` transactions (open ones, and spent states remembered until their expiry so
    that a replay says "used"); expired ones are dropped when room is needed."""

    def __init__(self, *, max_entries: int = DEFAULT_MAX_TRANSACTIONS) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._lock = threading.Lock()
        self._open: OrderedDict[str, Transaction] = OrderedDict()  # by state, oldest first
        self._by_request: dict[str, str] = {}  # request_id -> state
        self._spent: OrderedDict[str, int] = OrderedDict()  # state -> expires_at

    def _purge(self, now: int) -> None:
        for state in [s for s, t in self._open.items() if t.expires_at <= now]:
            self._by_request.pop(self._open.pop(state).request_id, None)
        for state in [s for s, expires in self._spent.items() if expires <= now]:
            del self._spent[state]

    def put(self, transaction: Transaction, *, now: int) -> None:
        with self._lock:
            if transaction.state in self._open or transaction.state in self._spent \
                    or transaction.request_id in self._by_request:
                raise ValueError("state and request_id must be fresh random values")
            if len(self._open) + len(self._spent) >= self._max:
                self._purge(now)
            if len(self._open) + len(self._spent) >= self._max and self._spent:
                self._spent.popitem(last=False)  # forgetting a spent state only turns "used" into "unknown"
            if len(self._open) >= self._max:
                raise TransactionStoreFullError(self._max)
            self._open[transaction.state] = transaction
            self._by_request[transaction.request_id] = transaction.state

    def _open_one(self, state: str | None, now: int) -> Transaction:
        transaction = None if state is None else self._open.get(state)
        if transaction is None:
            raise UnknownTransactionError("used" if state in self._spent else "unknown")
        if transaction.expires_at <= now:
            raise UnknownTransactionError("expired")
        return transaction

    def by_request_id(self, request_id: str, *, now: int) -> Transaction:
        with self._lock:
            return self._open_one(self._by_request.get(request_id), now)

    def take(self, state: str, *, now: int) -> Transaction:
        with self._lock:
            transaction = self._open_one(state, now)
            del self._open[state]
            self._by_request.pop(transaction.request_id, None)
            self._spent[state] = transaction.expires_at
            return transaction

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)


__all__ = ["DEFAULT_MAX_TRANSACTIONS", "InMemoryTransactionStore", "Transaction", "TransactionStore"]
