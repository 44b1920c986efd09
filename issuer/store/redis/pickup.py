"""Redis: the token request's redemption as one Lua script (Store.redeem_offer); the credential request's reads
in one round trip (Store.delivery_view) and its index allocated and bound by one script (Store.allocate_delivered).

The offer, its PIN attempt counter, the record's deliverability, the offer's new state and the audit entry are
one script on the durable server; the access token's grants are written by the same script when the short-lived
kinds live on that server, else right after it on the ephemeral one (docs/redis.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from issuer.errors import StoreUnavailableError
from issuer.model import GENESIS, AuditEntry, chained
from issuer.store import FILL_LIMIT, Deliverability, DeliveryView, Redemption, StatusListFullError, short_lived
from issuer.store.redis.audit import AUDIT_TRIES, audit_json, head_moved
from issuer.store.redis.client import as_str, guard, hash_fields
from issuer.store.redis.ephemeral import RedisEphemeral, live_value
from issuer.store.redis.offers import offer_from_fields
from issuer.store.redis.records import record_from_fields
from issuer.store.redis.status import _ALLOCATION_CALLS, _CANDIDATES

PIN_ATTEMPTS = "pin_attempts"  # the counter kind, keyed by the code's hash (as issuer.pickup counted it before)


class RedisPickup(RedisEphemeral):
    _audit_head: tuple[int, str]  # RedisAudit's: the head this process saw last

    @guard
    def redeem_offer(self, code_hash: str, tx_code_hash: str, *, now: int, max_attempts: int,
                     deliverable: Deliverability, redeemed: AuditEntry, burned: AuditEntry,
                     grants: Sequence[tuple[str, str, str, int]] = ()) -> Redemption:
        if any(not short_lived(kind) for kind, _, _, _ in grants):
            raise ValueError("an access token's grants are short-lived kinds")
        # The grants in the redemption's own script when they live on its server, and not on a cluster (where
        # they may belong to another slot than the offer's: they follow right after, as on an ephemeral server).
        together = self._e is self._r and not hasattr(self._r, "get_nodes")
        keys = [self._k("offer_code", code_hash), self._cnt_key(PIN_ATTEMPTS, code_hash), self._k("audit", "head"),
                self._k("audit")]
        grant_args: list[Any] = []
        if together:
            keys += [self._eph_key(kind, key) for kind, key, _, _ in grants]
            grant_args = [x for _, _, value, ttl in grants for x in (value, int(ttl))]
        seq, last = self._audit_head
        for _ in range(AUDIT_TRIES):  # compare-and-set on the audit head, as RedisAudit._chained_run
            entries = [chained(e, seq=seq + 1, prev_hash=last or GENESIS) for e in (redeemed, burned)]
            reply = self._run("REDEEM_OFFER", keys, [
                self._p, now, tx_code_hash, max_attempts, deliverable.authority_code, deliverable.valid_until_from,
                seq, last, *(x for e in entries for x in (e.hash, audit_json(e))), *grant_args])
            if head_moved(reply):
                seq, last = int(reply[1]), as_str(reply[2])
                continue
            return self._redemption(reply, entries, grants, now, together=together)
        raise StoreUnavailableError("store unavailable: the audit chain head is contended")

    def _redemption(self, reply: list[Any], entries: list[AuditEntry], grants: Sequence[tuple[str, str, str, int]],
                    now: int, *, together: bool) -> Redemption:
        outcome = as_str(reply[0])
        if outcome == "invalid":
            return Redemption(outcome)
        attempts = int(reply[1])
        if outcome == "exhausted":
            return Redemption(outcome, attempts)
        if outcome == "wrong_pin":
            burned = bool(int(reply[2]))
            if burned:
                self._audit_head = (entries[1].seq, entries[1].hash)
            return Redemption(outcome, attempts, burned)
        offer_id = as_str(reply[2])
        offer = offer_from_fields(offer_id, hash_fields(reply[3]))
        record_fields = hash_fields(reply[4]) if outcome == "undeliverable" else {}  # parsed only to say why
        record = record_from_fields(offer.record_id, record_fields) if record_fields and offer else None
        if outcome == "redeemed":
            self._audit_head = (entries[0].seq, entries[0].hash)
            if not together:  # on the ephemeral server, once the code is spent (a failure here: a 503, code spent)
                pipe = self._e.pipeline(transaction=False)
                for kind, key, value, ttl in grants:
                    pipe.set(self._eph_key(kind, key), f"{now + ttl}|{value}", ex=max(int(ttl), 1))
                pipe.execute()
        return Redemption(outcome, attempts, offer=offer, record=record)

    @guard
    def allocate_delivered(self, record_id: str, list_no: int, size: int, now: int, *, kid: str | None = None,
                           remember: tuple[str, str, int] | None = None) -> int | None:
        if remember is not None and short_lived(remember[0]):
            raise ValueError("what a delivery remembers is kept with it, on the durable server")
        keys = [self._k("sl", list_no), self._k("sl", "numbers"), self._k("sl", list_no, "used"),
                self._k("record", record_id), self._k("delivered", record_id),
                self._k("signed", kid) if kid is not None else self._k("record", record_id),
                self._eph_key(remember[0], remember[1]) if remember is not None else self._k("record", record_id)]
        for _ in range(_ALLOCATION_CALLS):
            candidates = [secrets.randbits(48) for _ in range(_CANDIDATES)]
            idx = int(self._run("ALLOCATE_DELIVERED", keys, [
                int(list_no), size, repr(FILL_LIMIT), "" if kid is None else record_id, kid or "", now,
                "" if remember is None else int(remember[2]), *candidates]))
            if idx == -3:
                return None
            if idx == -1:
                raise StatusListFullError(list_no)
            if idx >= 0:
                return idx
        raise StatusListFullError(list_no)

    @guard
    def delivery_view(self, record_id: str, offer_id: str, ephemeral: Sequence[tuple[str, str]],
                      now: int) -> DeliveryView:
        if any(short_lived(kind) for kind, _ in ephemeral):
            raise ValueError("a delivery view reads durable kinds (the short-lived may be on another server)")
        pipe = self._r.pipeline(transaction=False)  # reads only: one round trip, no script needed
        pipe.hgetall(self._k("record", record_id))
        pipe.hgetall(self._k("offer", offer_id))
        for kind, key in ephemeral:
            pipe.get(self._eph_key(kind, key))
        record, offer, *values = pipe.execute()
        record_fields = hash_fields(record)
        return DeliveryView(record_from_fields(record_id, record_fields) if record_fields else None,
                            offer_from_fields(offer_id, hash_fields(offer)),
                            tuple(live_value(v, now) for v in values))
