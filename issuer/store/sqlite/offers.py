"""SQLite: pickup offers (keyed hashes only), redeemed or burned exactly once."""

from __future__ import annotations

import json
import sqlite3

from issuer.store import StoredOffer
from issuer.store.sqlite.db import SQLiteFile


def offer_from_row(row: sqlite3.Row | None) -> StoredOffer | None:
    if row is None:
        return None
    return StoredOffer(
        row["offer_id"], row["record_id"], row["code_hash"], row["tx_code_hash"], row["expires_at"],
        tuple(json.loads(row["configuration_ids"])), row["state"], row["created_at"],
    )


# Columns named: a file migrated from schema 2 still has the (emptied) pre_authorized_code column.
INSERT_OFFER = ("INSERT INTO offers (offer_id, record_id, code_hash, tx_code_hash, expires_at, configuration_ids, "
                "state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def offer_row(offer: StoredOffer) -> tuple[object, ...]:
    return (offer.offer_id, offer.record_id, offer.code_hash, offer.tx_code_hash, offer.expires_at,
            json.dumps(list(offer.configuration_ids)), offer.state, offer.created_at)


class SQLiteOffers:
    _db: SQLiteFile

    def insert_offer(self, offer: StoredOffer) -> None:
        with self._db.write() as c:
            c.execute(INSERT_OFFER, offer_row(offer))

    def get_offer(self, offer_id: str) -> StoredOffer | None:
        return offer_from_row(self._db.row("SELECT * FROM offers WHERE offer_id = ?", (offer_id,)))

    def get_offer_by_code_hash(self, code_hash: str) -> StoredOffer | None:
        return offer_from_row(self._db.row("SELECT * FROM offers WHERE code_hash = ?", (code_hash,)))

    def offers_of_record(self, record_id: str) -> list[StoredOffer]:
        rows = self._db.rows("SELECT * FROM offers WHERE record_id = ? ORDER BY created_at, rowid", (record_id,))
        return [offer for offer in map(offer_from_row, rows) if offer is not None]

    def finish_offer(self, code_hash: str, *, state: str, now: int) -> bool:
        if state not in ("redeemed", "burned"):
            raise ValueError(f"an offer cannot finish as {state!r}")
        with self._db.write() as c:
            return c.execute(
                "UPDATE offers SET state = ? WHERE code_hash = ? AND state = 'open' AND expires_at > ?",
                (state, code_hash, now),
            ).rowcount == 1
