"""SQLite: the token request's redemption as one BEGIN IMMEDIATE transaction (Store.redeem_offer), and the
credential request's reads as one snapshot (Store.delivery_view).

The offer, its PIN attempt counter, the record's deliverability, the offer's new state, the audit entry and the
access token's grants commit together: one fsync of the WAL per token request instead of one per step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from issuer.model import AuditEntry, RecordState
from issuer.store import Deliverability, DeliveryView, EphemeralStep, Redemption, short_lived
from issuer.store.memory_ephemeral import MemoryEphemeral
from issuer.store.sqlite.audit import append_entry
from issuer.store.sqlite.db import SQLiteFile
from issuer.store.sqlite.ephemeral import count, live_value, put_value
from issuer.store.sqlite.offers import offer_from_row
from issuer.store.sqlite.records import record_from_row

PIN_ATTEMPTS = "pin_attempts"  # the counter kind, keyed by the code's hash (as issuer.pickup counted it before)


class SQLitePickup:
    _db: SQLiteFile
    _memory: MemoryEphemeral | None

    def redeem_offer(self, code_hash: str, tx_code_hash: str, *, now: int, max_attempts: int,
                     deliverable: Deliverability, redeemed: AuditEntry, burned: AuditEntry,
                     grants: Sequence[tuple[str, str, str, int]] = ()) -> Redemption:
        if any(not short_lived(kind) for kind, _, _, _ in grants):
            raise ValueError("an access token's grants are short-lived kinds")
        with self._db.write() as c:
            offer = offer_from_row(c.execute("SELECT * FROM offers WHERE code_hash = ?", (code_hash,)).fetchone())
            if offer is None or offer.state != "open" or offer.expires_at <= now:
                return Redemption("invalid")
            attempts = count(c, PIN_ATTEMPTS, code_hash, offer.expires_at - now, now)  # before the comparison
            if attempts > max_attempts:
                return Redemption("exhausted", attempts, offer=offer)
            if tx_code_hash != offer.tx_code_hash:  # keyed hashes: a timing difference says nothing of the PIN
                burn = attempts >= max_attempts
                if burn:
                    c.execute("UPDATE offers SET state = 'burned' WHERE code_hash = ?", (code_hash,))
                    append_entry(c, burned)
                return Redemption("wrong_pin", attempts, burn, offer)
            row = c.execute("SELECT * FROM records WHERE id = ?", (offer.record_id,)).fetchone()
            record = None if row is None else record_from_row(row)
            if record is None or record.state is not RecordState.ACTIVE \
                    or deliverable.authority_code not in ("", record.permit.authority_code) \
                    or record.permit.valid_until.isoformat() < deliverable.valid_until_from:
                return Redemption("undeliverable", attempts, offer=offer, record=record)
            c.execute("UPDATE offers SET state = 'redeemed' WHERE code_hash = ?", (code_hash,))
            append_entry(c, redeemed)
            if self._memory is None:  # in the same commit
                for kind, key, value, ttl in grants:
                    put_value(c, kind, key, value, ttl, now)
        if self._memory is not None:  # in memory, once the code is spent (short-lived kinds only)
            self._memory.step(EphemeralStep(puts=tuple(grants)), now)
        return Redemption("redeemed", attempts, offer=offer, record=record)

    def delivery_view(self, record_id: str, offer_id: str, ephemeral: Sequence[tuple[str, str]],
                      now: int) -> DeliveryView:
        def read(c: sqlite3.Connection) -> DeliveryView:
            row = c.execute("SELECT * FROM records WHERE id = ?", (record_id,)).fetchone()
            offer = offer_from_row(c.execute("SELECT * FROM offers WHERE offer_id = ?", (offer_id,)).fetchone())
            return DeliveryView(None if row is None else record_from_row(row), offer,
                                tuple(live_value(c, kind, key, now) for kind, key in ephemeral))

        return self._db.snapshot(read)
