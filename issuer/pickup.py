"""The resident's side of issuance: pickup offers (pre-authorized code + PIN), access tokens, c_nonces.

Secrets are stored only as SHA-256 hashes and compared in constant time. The PIN hash also covers the
code, so a PIN hash alone is worth nothing. Every PIN attempt is counted *before* it is compared, so
parallel guesses cannot outrun the limit; the attempt that reaches ``max_pin_attempts`` and fails burns
the code. Unknown, used, expired, burned code and wrong PIN all give an InvalidGrantError; a wrong PIN's
(WrongPinError) says how many attempts are left, which the resident needs and the open offer already shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from issuer.audit import AuditLog
from issuer.errors import (
    InvalidGrantError,
    InvalidNonceError,
    InvalidTokenError,
    MissingTxCodeError,
    OfferNotFoundError,
    WrongPinError,
)
from issuer.model import Offer, Record, configuration_ids
from issuer.settings import IssuerSettings
from issuer.store import Store, StoredOffer

MAX_SECRET_LENGTH = 128  # codes, tokens and nonces we issue are 32-43 characters
PIN_DIGITS = 6
WALLET = "wallet"  # the audit trail's actor for resident-side events


def secret_hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AccessGrant:
    record_id: str
    offer_id: str
    configuration_ids: tuple[str, ...]
    jkt: str | None = None  # DPoP (RFC 9449): the thumbprint of the key the token is bound to; None: a bearer token


class Pickup:
    def __init__(self, store: Store, settings: IssuerSettings, clock: Callable[[], int], audit: AuditLog) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._audit = audit

    def create_offer(self, record: Record) -> Offer:
        offer, stored = self.new_offer(record)
        self._store.insert_offer(stored)
        return offer

    def new_offer(self, record: Record) -> tuple[Offer, StoredOffer]:
        """A fresh offer for ``record`` and what the store keeps of it (hashes), not yet stored."""
        now = self._clock()
        code = secrets.token_urlsafe(32)
        pin = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"  # uniform over all PIN_DIGITS-digit strings
        offer = Offer(
            pre_authorized_code=code, tx_code=pin, record_id=record.id,
            expires_at=now + self._settings.offer_ttl, offer_id=secrets.token_urlsafe(16),
            configuration_ids=configuration_ids(record.permit.type),
        )
        return offer, StoredOffer(
            offer.offer_id, record.id, secret_hash(code), secret_hash(code, pin), code, offer.expires_at,
            offer.configuration_ids, "open", now,
        )

    def offer_by_id(self, offer_id: str) -> Offer:
        """The by-reference offer, while it can still be redeemed (the PIN is not in it)."""
        stored = self._store.get_offer(offer_id[:MAX_SECRET_LENGTH])
        if stored is None or stored.state != "open" or stored.pre_authorized_code is None \
                or stored.expires_at <= self._clock():
            raise OfferNotFoundError(offer_id[:MAX_SECRET_LENGTH])
        return Offer(stored.pre_authorized_code, "", stored.record_id, stored.expires_at, stored.offer_id,
                     stored.configuration_ids)

    def offer_known(self, offer_id: str) -> bool:
        """Whether this offer was ever made, in any state (redeemed, burned, cancelled, expired): the pickup
        page tells a link that is used up (410) from one that never existed (404)."""
        return 0 < len(offer_id) <= MAX_SECRET_LENGTH and self._store.get_offer(offer_id) is not None

    def redeem(self, pre_authorized_code: str, tx_code: str | None, *, dpop_jkt: str | None = None) -> str:
        """A fresh access token; ``dpop_jkt`` binds it to that key (kept with the grant, so it expires with it)."""
        if tx_code is None:
            raise MissingTxCodeError()
        if not pre_authorized_code or len(pre_authorized_code) > MAX_SECRET_LENGTH or len(tx_code) > 16:
            raise InvalidGrantError("invalid pre-authorized code or transaction code")
        now = self._clock()
        code_hash = secret_hash(pre_authorized_code)
        offer = self._store.get_offer_by_code_hash(code_hash)
        if offer is None or offer.state != "open" or offer.expires_at <= now:
            raise InvalidGrantError("invalid pre-authorized code or transaction code")
        attempts = self._store.increment("pin_attempts", code_hash, offer.expires_at - now, now)
        if attempts > self._settings.max_pin_attempts:
            raise InvalidGrantError("invalid pre-authorized code or transaction code")
        if not hmac.compare_digest(secret_hash(pre_authorized_code, tx_code), offer.tx_code_hash):
            left = self._settings.max_pin_attempts - attempts
            if left <= 0 and self._store.finish_offer(code_hash, state="burned", now=now):
                self._audit.append(officer=WALLET, action="offer_burned", record_id=offer.record_id,
                                   reason=f"{attempts} wrong PINs")
            raise WrongPinError(max(0, self._settings.max_pin_attempts - attempts))
        if not self._store.finish_offer(code_hash, state="redeemed", now=now):  # a concurrent redeem won
            raise InvalidGrantError("invalid pre-authorized code or transaction code")
        token = secrets.token_urlsafe(32)
        grant = {"record_id": offer.record_id, "offer_id": offer.offer_id,
                 "configuration_ids": list(offer.configuration_ids), "jkt": dpop_jkt}
        self._store.put_ephemeral("access_token", secret_hash(token), json.dumps(grant),
                                  self._settings.access_token_ttl, now)
        self._audit.append(officer=WALLET, action="offer_redeemed", record_id=offer.record_id,
                           reason=f"offer {offer.offer_id}")
        return token

    def grant(self, access_token: str) -> AccessGrant:
        if not access_token or len(access_token) > MAX_SECRET_LENGTH:
            raise InvalidTokenError("invalid or expired access token")
        value = self._store.get_ephemeral("access_token", secret_hash(access_token), self._clock())
        if value is None:
            raise InvalidTokenError("invalid or expired access token")
        data = json.loads(value)
        return AccessGrant(data["record_id"], data["offer_id"], tuple(data["configuration_ids"]), data.get("jkt"))

    def extend(self, access_token: str, ttl: int) -> None:
        """Keep a live access token valid ``ttl`` seconds from now: a deferred transaction is polled with it."""
        key = secret_hash(access_token[:MAX_SECRET_LENGTH])
        now = self._clock()
        value = self._store.get_ephemeral("access_token", key, now)
        if value is None:
            raise InvalidTokenError("invalid or expired access token")
        self._store.put_ephemeral("access_token", key, value, ttl, now)

    def new_nonce(self) -> str:
        nonce = secrets.token_urlsafe(24)
        self._store.put_ephemeral("c_nonce", secret_hash(nonce), "1", self._settings.nonce_ttl, self._clock())
        return nonce

    def consume_nonce(self, nonce: str) -> None:
        if not nonce or len(nonce) > MAX_SECRET_LENGTH or \
                self._store.take_ephemeral("c_nonce", secret_hash(nonce), self._clock()) is None:
            raise InvalidNonceError("unknown, used or expired c_nonce")
