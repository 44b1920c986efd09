"""The login's open OpenID4VP requests kept in the issuer's Store (both back ends), not in one process's memory.

verifier.openid4vp.TransactionStore over the Store's ephemeral values, so that any worker can serve the
request object and receive the answer of a request another one started. Keys are keyed hashes of the
state and request id (issuer.keyed: the store never holds a value an attacker could answer with); the
rules of the protocol hold: ``take`` is single use (a spent state is remembered as "used" until the
request's own expiry), an expired transaction is never returned, and every value expires by itself.
"""

from __future__ import annotations

from typing import Any

from credential.encoding import json_dumps, json_loads
from issuer.keyed import KeyedHash
from issuer.store import Store
from verifier.openid4vp import Transaction, UnknownTransactionError

OPEN = "vp_login_open"  # state digest -> the transaction (JSON)
BY_REQUEST = "vp_login_request"  # request id digest -> the state
SPENT = "vp_login_spent"  # state digest -> "1" once answered
MAX_TRANSACTION = 64 * 1024


def _to_json(transaction: Transaction) -> str:
    return json_dumps({name: getattr(transaction, name) for name in Transaction.__dataclass_fields__}).decode()


def _from_json(text: str) -> Transaction:
    data: Any = json_loads(text.encode(), max_size=MAX_TRANSACTION)
    return Transaction(**data)


class StoreTransactions:
    def __init__(self, store: Store, keyed: KeyedHash) -> None:
        self._store = store
        self._keyed = keyed

    def _key(self, kind: str, value: str) -> str:
        return self._keyed.digest(kind, value)

    def put(self, transaction: Transaction, *, now: int) -> None:
        ttl = transaction.expires_at - now
        if ttl <= 0:
            raise ValueError("the transaction has already expired")
        self._store.put_ephemeral(OPEN, self._key(OPEN, transaction.state), _to_json(transaction), ttl, now)
        self._store.put_ephemeral(BY_REQUEST, self._key(BY_REQUEST, transaction.request_id), transaction.state,
                                  ttl, now)

    def by_request_id(self, request_id: str, *, now: int) -> Transaction:
        state = self._store.get_ephemeral(BY_REQUEST, self._key(BY_REQUEST, request_id), now)
        text = None if state is None else self._store.get_ephemeral(OPEN, self._key(OPEN, state), now)
        if state is None or text is None:
            raise UnknownTransactionError("unknown")
        return self._live(_from_json(text), now)

    def take(self, state: str, *, now: int) -> Transaction:
        key = self._key(OPEN, state)
        text = self._store.take_ephemeral(OPEN, key, now)  # exactly one concurrent caller gets it
        if text is None:
            spent = self._store.get_ephemeral(SPENT, self._key(SPENT, state), now)
            raise UnknownTransactionError("used" if spent is not None else "unknown")
        transaction = _from_json(text)
        if transaction.expires_at > now:
            self._store.put_ephemeral(SPENT, self._key(SPENT, state), "1", transaction.expires_at - now, now)
        return self._live(transaction, now)

    @staticmethod
    def _live(transaction: Transaction, now: int) -> Transaction:
        if transaction.expires_at <= now:
            raise UnknownTransactionError("expired")
        return transaction
