"""Redis: pickup offers (keyed hashes only), redeemed or burned exactly once (by script).

An offer lives in its record's district shard (a state change of the record cancels it in the same script);
the global shard knows which district holds each offer id (``odist``) and each code (``ocode``), claimed
before the offer is written.
"""

from __future__ import annotations

import json
from typing import Any

from issuer.errors import StateConflictError
from issuer.store import StoredOffer
from issuer.store.redis.client import CACHED, RedisKeyspace, as_str, flat, guard, hash_fields

_CLAIM = "CLAIM"


def offer_from_fields(offer_id: str, f: dict[str, str]) -> StoredOffer | None:
    if not f:
        return None
    return StoredOffer(offer_id, f["record_id"], f["code_hash"], f["tx_code_hash"], int(f["expires_at"]), tuple(json.loads(f["configuration_ids"])), f["state"],
                       int(f["created_at"]))


class RedisOffers(RedisKeyspace):
    _offer_shards: dict[tuple[str, str], str]

    @guard
    def insert_offer(self, offer: StoredOffer) -> None:
        fields: dict[str, Any] = {
            "record_id": offer.record_id, "code_hash": offer.code_hash, "tx_code_hash": offer.tx_code_hash,
            "expires_at": offer.expires_at, "configuration_ids": json.dumps(list(offer.configuration_ids)),
            "state": offer.state, "created_at": offer.created_at}
        district = self._record_shard(offer.record_id) or ""
        claim = json.dumps({"records": [], "offers": [[offer.offer_id, district, offer.code_hash]]})
        if int(self._run(_CLAIM, [self._k("rdist"), self._k("districts"), self._k("odist"), self._k("ocode")],
                         [self._p, claim])) != 1:
            raise StateConflictError("offer id or code already exists")
        keys = [self._d(district, "offer", offer.offer_id), self._d(district, "offer_code", offer.code_hash),
                self._d(district, "offers_of", offer.record_id)]
        if not self._run("INSERT_OFFER", keys, [offer.offer_id, *flat(fields)]):
            raise StateConflictError("offer id or code already exists")

    def _offer_shard(self, index: str, key: str) -> str | None:
        """The district of an offer id (``odist``) or a code (``ocode``), remembered: a claim never moves (the
        token request reads the offer by its code, then redeems it: one look-up)."""
        found = self._offer_shards.get((index, key))
        if found is None:
            value = self._r.hget(self._k(index), key)
            if value is None:
                return None
            found = as_str(value)
            if len(self._offer_shards) >= CACHED:
                self._offer_shards.clear()
            self._offer_shards[(index, key)] = found
        return found

    @guard
    def get_offer(self, offer_id: str) -> StoredOffer | None:
        district = self._offer_shard("odist", offer_id)
        if district is None:
            return None
        return offer_from_fields(offer_id, hash_fields(self._r.hgetall(self._d(district, "offer", offer_id))))

    @guard
    def get_offer_by_code_hash(self, code_hash: str) -> StoredOffer | None:
        district = self._offer_shard("ocode", code_hash)
        if district is None:
            return None
        reply = self._run("OFFER_BY_CODE", [self._d(district, "offer_code", code_hash)], [self._s(district)])
        return None if not reply else offer_from_fields(as_str(reply[0]), hash_fields(reply[1:]))

    @guard
    def offers_of_record(self, record_id: str) -> list[StoredOffer]:
        district = self._record_shard(record_id) or ""
        found = self._run("OFFERS_OF_RECORD", [self._d(district, "offers_of", record_id)], [self._s(district)])
        offers = [offer_from_fields(as_str(reply[0]), hash_fields(reply[1:])) for reply in found]
        return sorted((o for o in offers if o is not None), key=lambda o: (o.created_at, o.offer_id))

    @guard
    def finish_offer(self, code_hash: str, *, state: str, now: int) -> bool:
        if state not in ("redeemed", "burned"):
            raise ValueError(f"an offer cannot finish as {state!r}")
        district = self._offer_shard("ocode", code_hash)
        if district is None:
            return False
        return bool(self._run("FINISH_OFFER", [self._d(district, "offer_code", code_hash)],
                              [self._s(district), state, now]))
