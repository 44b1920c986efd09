"""The resident's side of issuance: pickup offers (pre-authorized code + PIN), access tokens, c_nonces.

Secrets reach the store only as keyed hashes (issuer.keyed: HMAC under the store secret, which is not in
the store) and are compared in constant time; the PIN's hash also covers the code. The offer id in the
pickup QR is 256 bits random and the code is derived from it, so the by-reference offer can be served
while the store holds neither. Every PIN attempt is counted *before* it is compared, so parallel guesses
cannot outrun the limit; the attempt that reaches ``max_pin_attempts`` and fails burns the code. Unknown,
used, expired, burned code and wrong PIN all give an InvalidGrantError; a wrong PIN's (WrongPinError) says
how many attempts are left, which the resident needs and the open offer already shows. A right PIN for a record
that cannot be delivered now (``deliverable`` refuses) is refused *without* spending the code.

An access token delivers each configuration of its offer once (``delivery``: one credential request, a
batch of keys counting as one); then it is spent for issuance, and serves only the notification and
deferred endpoints until it expires.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from issuer.audit import AuditLog
from issuer.errors import (
    InvalidGrantError,
    InvalidNonceError,
    InvalidTokenError,
    MissingTxCodeError,
    OfferNotFoundError,
    RateLimitedError,
    StateConflictError,
    WrongPinError,
)
from issuer.keyed import ACCESS_TOKEN, C_NONCE, CODE, DELIVERY, OFFER_ID, PRE_AUTHORIZED_CODE, TX_CODE, KeyedHash
from issuer.model import Offer, Record, configuration_ids
from issuer.settings import IssuerSettings
from issuer.store import Deliverability, EphemeralStep, Store, StoredOffer

MAX_SECRET_LENGTH = 128  # codes, tokens and nonces we issue are 32-43 characters
PIN_DIGITS = 6
WALLET = "wallet"  # the audit trail's actor for resident-side events
_INVALID_GRANT = "invalid pre-authorized code or transaction code"


@dataclass(frozen=True)
class AccessGrant:
    record_id: str
    offer_id: str  # the offer's reference in the store (its keyed id), never the id of the wallet's URL
    configuration_ids: tuple[str, ...]
    jkt: str | None = None  # DPoP (RFC 9449): the thumbprint of the key the token is bound to; None: a bearer token


class Pickup:
    def __init__(self, store: Store, settings: IssuerSettings, clock: Callable[[], int], audit: AuditLog,
                 keyed: KeyedHash) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._audit = audit
        self._keyed = keyed

    @property
    def delivery_ttl(self) -> int:
        # A delivery right is worth nothing without its live access token (checked first), so it may outlive
        # the token's longest life: redeemed, then extended by a deferred request (Deferral.transaction_ttl).
        return self._settings.access_token_ttl + self._settings.offer_ttl

    def create_offer(self, record: Record) -> Offer:
        offer, stored = self.new_offer(record)
        self._store.insert_offer(stored)
        return offer

    def new_offer(self, record: Record) -> tuple[Offer, StoredOffer]:
        """A fresh offer for ``record`` and what the store keeps of it (keyed hashes), not yet stored."""
        now = self._clock()
        offer_id = secrets.token_urlsafe(32)
        code = self._keyed.derive(PRE_AUTHORIZED_CODE, offer_id)
        pin = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"  # uniform over all PIN_DIGITS-digit strings
        ref = self._keyed.digest(OFFER_ID, offer_id)
        offer = Offer(
            pre_authorized_code=code, tx_code=pin, record_id=record.id,
            expires_at=now + self._settings.offer_ttl, offer_id=offer_id,
            configuration_ids=configuration_ids(record.permit.type), ref=ref,
        )
        return offer, StoredOffer(
            ref, record.id, self._keyed.digest(CODE, code), self._keyed.digest(TX_CODE, code, pin),
            offer.expires_at, offer.configuration_ids, "open", now,
        )

    def offer_by_id(self, offer_id: str) -> Offer:
        """The by-reference offer, while it can still be redeemed (the PIN is not in it; the code is derived)."""
        if not offer_id or len(offer_id) > MAX_SECRET_LENGTH:
            raise OfferNotFoundError(offer_id[:MAX_SECRET_LENGTH])
        ref = self._keyed.digest(OFFER_ID, offer_id)
        stored = self._store.get_offer(ref)
        if stored is None or stored.state != "open" or stored.expires_at <= self._clock():
            raise OfferNotFoundError(offer_id)
        return Offer(self._keyed.derive(PRE_AUTHORIZED_CODE, offer_id), "", stored.record_id, stored.expires_at,
                     offer_id, stored.configuration_ids, ref)

    def offer_known(self, offer_id: str) -> bool:
        """Whether this offer was ever made, in any state (redeemed, burned, cancelled, expired): the pickup
        page tells a link that is used up (410) from one that never existed (404)."""
        return 0 < len(offer_id) <= MAX_SECRET_LENGTH and \
            self._store.get_offer(self._keyed.digest(OFFER_ID, offer_id)) is not None

    def redeem(self, pre_authorized_code: str, tx_code: str | None, *, deliverable: Callable[[str], None] =
               lambda record_id: None, dpop_jkt: str | None = None, rule: Deliverability | None = None) -> str:
        """An access token for the right code and PIN, in one store step (Store.redeem_offer). ``rule``: what
        the store checks of the record before it spends the code (None: that it is ACTIVE only); a refused record
        is then handed to ``deliverable(record_id)``, which raises the StateConflictError that says why (the
        code stays unspent). ``dpop_jkt`` binds the token to that key (kept with the grant, so it expires with
        it)."""
        if tx_code is None:
            raise MissingTxCodeError()
        if not pre_authorized_code or len(pre_authorized_code) > MAX_SECRET_LENGTH or len(tx_code) > 16:
            raise InvalidGrantError(_INVALID_GRANT)
        now = self._clock()
        code_hash = self._keyed.digest(CODE, pre_authorized_code)
        offer = self._store.get_offer_by_code_hash(code_hash)  # a read: what the audit entries name
        if offer is None or offer.state != "open" or offer.expires_at <= now:
            raise InvalidGrantError(_INVALID_GRANT)
        token = secrets.token_urlsafe(32)
        grant = {"record_id": offer.record_id, "offer_id": offer.offer_id,
                 "configuration_ids": list(offer.configuration_ids), "jkt": dpop_jkt}
        grants = [(ACCESS_TOKEN, self._keyed.digest(ACCESS_TOKEN, token), json.dumps(grant),
                   self._settings.access_token_ttl)]
        grants += [(DELIVERY, self._keyed.digest(DELIVERY, token, configuration_id), "1", self.delivery_ttl)
                   for configuration_id in offer.configuration_ids]
        limit = self._settings.max_pin_attempts
        # Counting, comparing, burning or redeeming with its entry, and the grants: one store step.
        result = self._store.redeem_offer(
            code_hash, self._keyed.digest(TX_CODE, pre_authorized_code, tx_code), now=now, max_attempts=limit,
            deliverable=rule or Deliverability("", ""), grants=grants,
            redeemed=self._audit.entry(officer=WALLET, action="offer_redeemed", record_id=offer.record_id,
                                       reason=f"offer {offer.offer_id}"),
            burned=self._audit.entry(officer=WALLET, action="offer_burned", record_id=offer.record_id,
                                     reason=f"{limit} wrong PINs"))
        if result.outcome == "wrong_pin":
            raise WrongPinError(max(0, limit - result.attempts))
        if result.outcome == "undeliverable":  # the right PIN: only now may the answer say more than "invalid"
            try:
                deliverable(offer.record_id)
            except StateConflictError as exc:
                raise InvalidGrantError(f"the credential cannot be picked up now: {exc}") from exc
            raise InvalidGrantError("the credential cannot be picked up now")
        if result.outcome != "redeemed":  # invalid since the read (a concurrent redeem won), or exhausted
            raise InvalidGrantError(_INVALID_GRANT)
        return token

    def token_key(self, access_token: str) -> str:
        """What the store keeps of an access token (deferred transactions and notifications are bound to it)."""
        return self._keyed.digest(ACCESS_TOKEN, access_token[:MAX_SECRET_LENGTH])

    def grant(self, access_token: str) -> AccessGrant:
        if not access_token or len(access_token) > MAX_SECRET_LENGTH:
            raise InvalidTokenError("invalid or expired access token")
        value = self._store.get_ephemeral(ACCESS_TOKEN, self.token_key(access_token), self._clock())
        if value is None:
            raise InvalidTokenError("invalid or expired access token")
        data = json.loads(value)
        return AccessGrant(data["record_id"], data["offer_id"], tuple(data["configuration_ids"]), data.get("jkt"))

    @contextmanager
    def delivery(self, access_token: str, configuration_id: str, *, nonces: Sequence[str] = (),
                 puts: Sequence[tuple[str, str, str, int]] = ()) -> Iterator[None]:
        """Spend the token's one delivery of ``configuration_id`` (exactly one concurrent caller gets it:
        else InvalidTokenError) and the c_nonces the key proofs carry (each once: else InvalidNonceError), in
        one store step that also puts the short-lived values ``puts`` (the response's notification id); all or
        nothing: a refused nonce leaves the delivery, and a spent delivery the nonces. If the body fails, the
        delivery is given back, so a refused or failed request costs the resident nothing but its nonces."""
        now = self._clock()
        key = self._keyed.digest(DELIVERY, access_token[:MAX_SECRET_LENGTH], configuration_id)
        nonce_keys = tuple((C_NONCE, self._nonce_key(nonce)) for nonce in dict.fromkeys(nonces))
        result = self._store.ephemeral_step(EphemeralStep(takes=(*nonce_keys, (DELIVERY, key)), puts=tuple(puts)),
                                            now)
        if result.taken is None:  # which one was missing: a read, only on this refusal
            if any(self._store.get_ephemeral(kind, k, now) is None for kind, k in nonce_keys):
                raise InvalidNonceError("unknown, used or expired c_nonce")
            raise InvalidTokenError("the access token has already delivered this credential configuration")
        try:
            yield
        except BaseException:
            self._store.put_ephemeral(DELIVERY, key, "1", self.delivery_ttl, self._clock())
            raise

    def extend(self, access_token: str, ttl: int) -> None:
        """Keep a live access token valid ``ttl`` seconds from now: a deferred transaction is polled with it."""
        key = self.token_key(access_token)
        now = self._clock()
        value = self._store.get_ephemeral(ACCESS_TOKEN, key, now)
        if value is None:
            raise InvalidTokenError("invalid or expired access token")
        self._store.put_ephemeral(ACCESS_TOKEN, key, value, ttl, now)

    def new_nonce(self, *, counts: Sequence[tuple[str, str, int, int]] = ()) -> str:
        """A fresh c_nonce, stored in the same step that counts ``counts`` (kind, key, window, limit: the
        caller's rate limits); RateLimitedError, and nothing stored, once a count passes its limit."""
        nonce = secrets.token_urlsafe(24)
        result = self._store.ephemeral_step(EphemeralStep(
            counts=tuple(counts), puts=((C_NONCE, self._keyed.digest(C_NONCE, nonce), "1", self._settings.nonce_ttl),)),
            self._clock())
        for (kind, _, window, limit), count in zip(counts, result.counts, strict=True):
            if count > limit:
                raise RateLimitedError.past(kind, window)
        return nonce

    def _nonce_key(self, nonce: str) -> str:
        if not nonce or len(nonce) > MAX_SECRET_LENGTH:
            raise InvalidNonceError("unknown, used or expired c_nonce")
        return self._keyed.digest(C_NONCE, nonce)

    def consume_nonce(self, nonce: str) -> None:
        if self._store.take_ephemeral(C_NONCE, self._nonce_key(nonce), self._clock()) is None:
            raise InvalidNonceError("unknown, used or expired c_nonce")
