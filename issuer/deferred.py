"""Deferred issuance (OpenID4VCI §9) and wallet notifications (§11), on the store's generic TTL primitives.

Approval. An officer may hand a resident a pickup code before the application is approved
(``IssuerService.create_offer(..., pending=True)``). The record then carries an ``approval`` marker whose
value is ``pending`` until an officer approves (the marker is removed) or denies (the record is revoked).
The marker outlives every offer, access token and transaction that could ask about it (``approval_ttl``).

Transactions. A credential request for a pending record stores the verified holder keys under a random
``transaction_id`` bound to the access token that asked (kept alive as long as the transaction); the wallet
polls with both. Exactly one poll takes the transaction once the record is approved (``take_ephemeral``).

Notifications. Each credential response carries a ``notification_id`` bound to its access token; the first
report of each event is written to the audit trail (``pickup_confirmed`` for ``credential_accepted``), so an
officer sees the pickup confirmed; repeated identical reports succeed without a second entry (idempotent).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from credential.jwk import PublicKey, load_public_jwk, public_jwk
from issuer.audit import AuditLog
from issuer.errors import InvalidNotificationIdError, InvalidTransactionIdError
from issuer.keyed import KeyedHash
from issuer.pickup import MAX_SECRET_LENGTH, WALLET, AccessGrant, Pickup
from issuer.settings import IssuerSettings
from issuer.store import Store

APPROVAL = "approval"  # key: record id; value: PENDING
TRANSACTION = "deferred_tx"  # key: keyed hash of the transaction id; value: JSON (see DeferredTransaction)
NOTIFICATION = "notification"  # key: keyed hash of the notification id; value: JSON (see Notice)
NOTIFICATION_SEEN = "notification_seen"  # counter per (notification, event): the audit entry is written once
PENDING = "pending"
EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")
_AUDIT_ACTION = {"credential_accepted": "pickup_confirmed", "credential_failure": "pickup_failed",
                 "credential_deleted": "pickup_deleted"}


@dataclass(frozen=True)
class DeferredTransaction:
    transaction_id: str
    record_id: str
    offer_id: str
    configuration_id: str
    holder_keys: tuple[PublicKey, ...]
    expires_at: int


@dataclass(frozen=True)
class Notice:
    """What a notification id stands for: one credential response."""

    record_id: str
    offer_id: str
    configuration_id: str


class Deferral:
    def __init__(self, store: Store, settings: IssuerSettings, clock: Callable[[], int], audit: AuditLog,
                 keyed: KeyedHash, pickup: Pickup) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._audit = audit
        self._keyed = keyed
        self._token_key = pickup.token_key  # transactions and notifications are bound to the token's keyed hash

    # --- approval ------------------------------------------------------------------------------------
    @property
    def transaction_ttl(self) -> int:
        """How long a wallet may poll: an approval is expected within an offer's lifetime."""
        return self._settings.offer_ttl

    @property
    def approval_ttl(self) -> int:
        # An offer made now can be redeemed until offer_ttl, its token defers within access_token_ttl, and
        # the transaction lives transaction_ttl more: the marker must outlive all of them.
        return self._settings.offer_ttl + self._settings.access_token_ttl + self.transaction_ttl

    def mark_pending(self, record_id: str) -> None:
        self._store.put_ephemeral(APPROVAL, record_id, PENDING, self.approval_ttl, self._clock())

    def is_pending(self, record_id: str) -> bool:
        return self._store.get_ephemeral(APPROVAL, record_id, self._clock()) == PENDING

    def clear_pending(self, record_id: str) -> bool:
        """Remove the marker; True for exactly one caller when the record was pending."""
        return self._store.take_ephemeral(APPROVAL, record_id, self._clock()) == PENDING

    # --- deferred transactions -----------------------------------------------------------------------
    def open_transaction(
        self, grant: AccessGrant, access_token: str, configuration_id: str, holder_keys: Sequence[PublicKey]
    ) -> DeferredTransaction:
        now = self._clock()
        transaction_id = secrets.token_urlsafe(24)
        value = {"record_id": grant.record_id, "offer_id": grant.offer_id, "configuration_id": configuration_id,
                 "token": self._token_key(access_token), "keys": [public_jwk(key) for key in holder_keys],
                 "expires_at": now + self.transaction_ttl}
        self._store.put_ephemeral(TRANSACTION, self._keyed.digest(TRANSACTION, transaction_id),
                                  json.dumps(value), self.transaction_ttl, now)
        return self._transaction(transaction_id, value)

    def peek(self, transaction_id: str, access_token: str) -> DeferredTransaction:
        """The transaction, left in place (still pending); InvalidTransactionIdError if not this token's."""
        key = self._key(transaction_id)
        return self._checked(transaction_id, access_token, self._store.get_ephemeral(TRANSACTION, key, self._clock()))

    def take(self, transaction_id: str, access_token: str) -> DeferredTransaction:
        """Remove and return it: exactly one concurrent caller gets it (the one that will deliver)."""
        peeked = self.peek(transaction_id, access_token)  # a foreign token must not destroy it
        value = self._store.take_ephemeral(TRANSACTION, self._key(transaction_id), self._clock())
        if value is None:
            raise InvalidTransactionIdError("the transaction was already used")
        return self._checked(peeked.transaction_id, access_token, value)

    def _key(self, transaction_id: str) -> str:
        if not transaction_id or len(transaction_id) > MAX_SECRET_LENGTH:
            raise InvalidTransactionIdError("unknown, used or expired transaction_id")
        return self._keyed.digest(TRANSACTION, transaction_id)

    def _checked(self, transaction_id: str, access_token: str, value: str | None) -> DeferredTransaction:
        if value is None:
            raise InvalidTransactionIdError("unknown, used or expired transaction_id")
        data: dict[str, Any] = json.loads(value)
        if data["token"] != self._token_key(access_token):
            raise InvalidTransactionIdError("the transaction_id was not issued to this access token")
        return self._transaction(transaction_id, data)

    @staticmethod
    def _transaction(transaction_id: str, data: dict[str, Any]) -> DeferredTransaction:
        return DeferredTransaction(
            transaction_id, data["record_id"], data["offer_id"], data["configuration_id"],
            tuple(load_public_jwk(jwk) for jwk in data["keys"]), int(data["expires_at"]),
        )

    # --- notifications -------------------------------------------------------------------------------
    def open_notification(self, grant: AccessGrant, access_token: str, configuration_id: str) -> str:
        notification_id, (kind, key, value, ttl) = self.new_notification(grant, access_token, configuration_id)
        self._store.put_ephemeral(kind, key, value, ttl, self._clock())
        return notification_id

    def new_notification(self, grant: AccessGrant, access_token: str,
                         configuration_id: str) -> tuple[str, tuple[str, str, str, int]]:
        """A notification id and the ephemeral value (kind, key, value, ttl) to put for it, not yet stored
        (a delivery puts it with its own values, in one step)."""
        notification_id = secrets.token_urlsafe(18)
        value = {"record_id": grant.record_id, "offer_id": grant.offer_id, "configuration_id": configuration_id,
                 "token": self._token_key(access_token)}
        # The access token gates every report; the id itself may outlive it a little.
        return notification_id, (NOTIFICATION, self._keyed.digest(NOTIFICATION, notification_id), json.dumps(value),
                                 self.transaction_ttl)

    def notify(self, access_token: str, notification_id: str, event: str, description: str | None) -> Notice:
        if event not in EVENTS:
            raise ValueError(f"unknown notification event {event!r}")
        if not notification_id or len(notification_id) > MAX_SECRET_LENGTH:
            raise InvalidNotificationIdError("unknown or expired notification_id")
        now = self._clock()
        key = self._keyed.digest(NOTIFICATION, notification_id)
        value = self._store.get_ephemeral(NOTIFICATION, key, now)
        if value is None:
            raise InvalidNotificationIdError("unknown or expired notification_id")
        data: dict[str, Any] = json.loads(value)
        if data["token"] != self._token_key(access_token):
            raise InvalidNotificationIdError("the notification_id was not issued to this access token")
        notice = Notice(data["record_id"], data["offer_id"], data["configuration_id"])
        if self._store.increment(NOTIFICATION_SEEN, f"{key}:{event}", self.transaction_ttl, now) == 1:
            text = f"offer {notice.offer_id} {notice.configuration_id}"
            if description:
                text += f": {description}"
            self._audit.append(officer=WALLET, action=_AUDIT_ACTION[event], record_id=notice.record_id, reason=text)
        return notice
