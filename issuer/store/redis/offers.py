"""Redis: pickup offers (keyed hashes only), redeemed or burned exactly once (by script)."""

from __future__ import annotations

import json
from typing import Any

from issuer.errors import StateConflictError
from issuer.store import StoredOffer
from issuer.store.redis.client import RedisKeyspace, as_str, flat, guard, hash_fields


def offer_from_fields(offer_id: str, f: dict[str, str]) -> StoredOffer | None:
    if not f:
        return None
    return StoredOffer(offer_id, f["record_id"], f["code_hash"], f["tx_code_hash"], int(f["expires_at"]), tuple(json.loads(f["configuration_ids"])), f["state"],
                       int(f["created_at"]))


class RedisOffers(RedisKeyspace):
    @guard
    def insert_offer(self, offer: StoredOffer) -> None:
        fields: dict[str, Any] = {
            "record_id": offer.record_id, "code_hash": offer.code_hash, "tx_code_hash": offer.tx_code_hash,
            "expires_at": offer.expires_at, "configuration_ids": json.dumps(list(offer.configuration_ids)),
            "state": offer.state, "created_at": offer.created_at}
        keys = [self._k("offer", offer.offer_id), self._k("offer_code", offer.code_hash),
                self._k("offers_of", offer.record_id)]
        if not self._run("INSERT_OFFER", keys, [offer.offer_id, *flat(fields)]):
            raise StateConflictError("offer id or code already exists")

    @guard
    def get_offer(self, offer_id: str) -> StoredOffer | None:
        return offer_from_fields(offer_id, hash_fields(self._r.hgetall(self._k("offer", offer_id))))

    @guard
    def get_offer_by_code_hash(self, code_hash: str) -> StoredOffer | None:
        reply = self._run("OFFER_BY_CODE", [self._k("offer_code", code_hash)], [self._p])
        return None if not reply else offer_from_fields(as_str(reply[0]), hash_fields(reply[1:]))

    @guard
    def offers_of_record(self, record_id: str) -> list[StoredOffer]:
        found = self._run("OFFERS_OF_RECORD", [self._k("offers_of", record_id)], [self._p])
        offers = [offer_from_fields(as_str(reply[0]), hash_fields(reply[1:])) for reply in found]
        return sorted((o for o in offers if o is not None), key=lambda o: (o.created_at, o.offer_id))

    @guard
    def finish_offer(self, code_hash: str, *, state: str, now: int) -> bool:
        if state not in ("redeemed", "burned"):
            raise ValueError(f"an offer cannot finish as {state!r}")
        return bool(self._run("FINISH_OFFER", [self._k("offer_code", code_hash)], [self._p, state, now]))
