"""Redis: the token request's redemption as one Lua script (Store.redeem_offer); the credential request's reads
in one round trip (Store.delivery_view) and its index allocated and bound by one script (Store.allocate_delivered).

The offer, its PIN attempt counter, the record's deliverability, the offer's new state and the audit entry are
one script in the shard of the offer's district (where its record and the district's audit chain live); the
access token's grants, global, are written by the same script on one plain Redis that also keeps the short-lived
kinds, else right after it as a step of their own (on a cluster they may be in another slot; on an ephemeral
server, another server: docs/redis.md). A delivery's index is allocated from a list of the record's district and
bound in that shard, with what it remembers (kept beside the record's deliveries, read by delivery_view).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from issuer.errors import StoreUnavailableError
from issuer.model import GENESIS, AuditEntry, chained
from issuer.store import FILL_LIMIT, Deliverability, DeliveryView, Redemption, StatusListFullError, short_lived
from issuer.store.redis.audit import AUDIT_TRIES, audit_json, head_moved, written_now
from issuer.store.redis.client import as_str, guard, hash_fields, tagged
from issuer.store.redis.ephemeral import RedisEphemeral, live_value
from issuer.store.redis.offers import RedisOffers, offer_from_fields
from issuer.store.redis.records import record_from_fields
from issuer.store.redis.status import _ALLOCATION_CALLS, _CANDIDATES, RedisStatusLists

PIN_ATTEMPTS = "pin_attempts"  # the counter kind, keyed by the code's hash (as issuer.pickup counted it before)


class RedisPickup(RedisStatusLists, RedisOffers, RedisEphemeral):  # the lists' and offers' shard lookups
    _audit_heads: dict[str, tuple[int, str]]  # RedisAudit's: chain -> the head this process saw last

    def _kept_key(self, district: str, kind: str, key: str) -> str:
        """A durable value kept in a district's shard, beside the deliveries it is about."""
        return self._d(district, "eph", tagged(kind, key))

    @guard
    def redeem_offer(self, code_hash: str, tx_code_hash: str, *, now: int, max_attempts: int,
                     deliverable: Deliverability, redeemed: AuditEntry, burned: AuditEntry,
                     grants: Sequence[tuple[str, str, str, int]] = ()) -> Redemption:
        if any(not short_lived(kind) for kind, _, _, _ in grants):
            raise ValueError("an access token's grants are short-lived kinds")
        district = self._offer_shard("ocode", code_hash)
        if district is None:
            return Redemption("invalid")
        # The grants in the redemption's own script when they live on its server, and not on a cluster (where
        # they belong to the global shard's slot, not the offer's: they follow right after, as on an ephemeral
        # server).
        together = self._e is self._r and not hasattr(self._r, "get_nodes")
        keys = [self._d(district, "offer_code", code_hash), self._kept_cnt_key(district, code_hash),
                self._d(district, "audit", "head"), self._d(district, "audit")]
        grant_args: list[Any] = []
        if together:
            keys += [self._eph_key(kind, key) for kind, key, _, _ in grants]
            grant_args = [x for _, _, value, ttl in grants for x in (value, int(ttl))]
        seq, last = self._audit_heads.get(district, (0, ""))
        for _ in range(AUDIT_TRIES):  # compare-and-set on the chain's head, as RedisAudit._chained_run
            written = written_now()
            entries = [chained(e, seq=seq + 1, prev_hash=last or GENESIS, written=written) for e in (redeemed, burned)]
            reply = self._run("REDEEM_OFFER", keys, [
                self._s(district), now, tx_code_hash, max_attempts, deliverable.authority_code,
                deliverable.valid_until_from, seq, last, *(x for e in entries for x in (e.hash, audit_json(e))),
                *grant_args])
            if head_moved(reply):
                seq, last = int(reply[1]), as_str(reply[2])
                continue
            return self._redemption(reply, entries, grants, now, district=district, together=together)
        raise StoreUnavailableError("store unavailable: the audit chain head is contended")

    def _kept_cnt_key(self, district: str, code_hash: str) -> str:
        """The PIN attempts of a code: counted in the offer's shard, in the script that compares the PIN."""
        return self._d(district, "cnt", tagged(PIN_ATTEMPTS, code_hash))

    def _redemption(self, reply: list[Any], entries: list[AuditEntry], grants: Sequence[tuple[str, str, str, int]],
                    now: int, *, district: str, together: bool) -> Redemption:
        outcome = as_str(reply[0])
        if outcome == "invalid":
            return Redemption(outcome)
        attempts = int(reply[1])
        if outcome == "exhausted":
            return Redemption(outcome, attempts)
        if outcome == "wrong_pin":
            burned = bool(int(reply[2]))
            if burned:
                self._audit_heads[district] = (entries[1].seq, entries[1].hash)
            return Redemption(outcome, attempts, burned)
        offer_id = as_str(reply[2])
        offer = offer_from_fields(offer_id, hash_fields(reply[3]))
        record_fields = hash_fields(reply[4]) if outcome == "undeliverable" else {}  # parsed only to say why
        record = record_from_fields(offer.record_id, record_fields) if record_fields and offer else None
        if outcome == "redeemed":
            self._audit_heads[district] = (entries[0].seq, entries[0].hash)
            if not together and grants:  # once the code is spent (a failure here: a 503, the code spent)
                self._put_grants(grants, now)
        return Redemption(outcome, attempts, offer=offer, record=record)

    def _put_grants(self, grants: Sequence[tuple[str, str, str, int]], now: int) -> None:
        """The grants as one script of their own (EPHEMERAL_STEP's puts; SET: idempotent), in the global shard's
        slot; on the durable server it waits for replicas as every write there does."""
        keys = [self._eph_key(kind, key) for kind, key, _, _ in grants]
        args: list[Any] = [now, 0, 0, 0, len(grants), 0, *(x for _, _, value, ttl in grants for x in (value, int(ttl)))]
        if self._e is self._r:
            self._run("EPHEMERAL_STEP", keys, args)
        else:
            self._scripts["EPHEMERAL_STEP"](keys=keys, args=args, client=self._e)

    @guard
    def allocate_delivered(self, record_id: str, list_no: int, size: int, now: int, *, kid: str | None = None,
                           remember: tuple[str, str, int] | None = None) -> int | None:
        if remember is not None and short_lived(remember[0]):
            raise ValueError("what a delivery remembers is kept with it, on the durable server")
        district = self._record_shard(record_id)
        if district is None:
            return None  # never claimed: no record to bind to
        self._own_list(list_no, district)
        record = self._d(district, "record", record_id)
        keys = [self._d(district, "sl", list_no), self._d(district, "sl", list_no, "used"), record,
                self._d(district, "delivered", record_id),
                self._d(district, "signed", kid) if kid is not None else record,
                self._kept_key(district, remember[0], remember[1]) if remember is not None else record]
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

    def _own_list(self, list_no: int, district: str) -> None:
        """List ``list_no`` registered in ``district``'s shard (opening it there when no shard has it yet, or
        adopting the still-empty first list), else ValueError: its bits could not be set by the record's state
        changes."""
        if self._list_shard(list_no) != district:
            _, owner = self._register(list_no, district)
            if owner != district:
                raise ValueError(f"status list {list_no} is not in the shard of district {district}")

    @guard
    def delivery_view(self, record_id: str, offer_id: str, ephemeral: Sequence[tuple[str, str]],
                      now: int) -> DeliveryView:
        if any(short_lived(kind) for kind, _ in ephemeral):
            raise ValueError("a delivery view reads durable kinds (the short-lived may be on another server)")
        district = self._record_shard(record_id)
        if district is None:
            district = self._offer_shard("odist", offer_id) or ""
        # What a delivery remembered is in the record's shard, every other value in the global one: both read.
        places = [[self._eph_key(kind, key)] if not district else [self._kept_key(district, kind, key),
                                                                     self._eph_key(kind, key)]
                  for kind, key in ephemeral]
        pipe = self._r.pipeline(transaction=False)  # reads only: one round trip, no script needed
        pipe.hgetall(self._d(district, "record", record_id))
        pipe.hgetall(self._d(district, "offer", offer_id))
        for key in (k for keys in places for k in keys):
            pipe.get(key)
        record, offer, *stored = pipe.execute()
        values, at = [], 0
        for keys in places:
            live = (live_value(v, now) for v in stored[at:at + len(keys)])
            values.append(next((v for v in live if v is not None), None))
            at += len(keys)
        record_fields = hash_fields(record)
        return DeliveryView(record_from_fields(record_id, record_fields) if record_fields else None,
                            offer_from_fields(offer_id, hash_fields(offer)), tuple(values))
