"""A record's history as the record page shows it: its audit entries, its offers, the pickups and the validity.

Everything here is read through per-record indexes (Store.audit_of_record, Store.offers_of_record,
Store.delivered), never by scanning the audit log: the page is opened many times a day and the log holds
every action of every office. The entries are read newest first, a page at a time (``before``).

The validity: an endorsement (签注) made before the permit ends starts the day after it, so until that day
the validity *in force* is the previous one, and the resident's phone holds the previous one until the new
pickup is redeemed. The endorse entry says both periods (``valid A to B, was C to D``; entries written before
it said the previous period only say ``valid A to B``).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from issuer.model import OK, Action, AuditEntry, Record
from issuer.store import Store, StoredOffer

HISTORY_PAGE = 100
DELIVER_ACTIONS = ("deliver",)  # the wallet picked credentials up (a deferred one is delivered the same way)
_ENDORSED = re.compile(r"valid (\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})(?:, was (\d{4}-\d{2}-\d{2}) to "
                       r"(\d{4}-\d{2}-\d{2}))?")
_STATUS = re.compile(r"\b\d+/\d+\b")


@dataclass(frozen=True)
class Period:
    valid_from: datetime.date | None  # None: not known (an endorsement entry written before it said so)
    valid_until: datetime.date


@dataclass(frozen=True)
class Endorsement:
    """The last endorsement: when, by whom, the new period and the one before it."""

    seq: int
    time: int
    officer: str
    endorsed: Period
    previous: Period | None


@dataclass(frozen=True)
class Pickup:
    """One pickup (an offer redeemed) as the resident's wallet fetched it: when (its last delivery), how many
    credentials (one status index per holder key, shared by the formats) and in how many formats (the SD-JWT
    VC and the QR passes: one delivery each)."""

    seq: int
    time: int
    credentials: int
    formats: int


@dataclass(frozen=True)
class RecordHistory:
    record: Record
    entries: list[AuditEntry]  # newest first, at most HISTORY_PAGE
    older: int | None  # read on with before=this seq, or None: the first entry is shown
    offers: list[StoredOffer]  # newest first
    delivered: int  # every credential delivered for the record (also those retired by a re-delivery)
    pickups: list[Pickup]  # newest first, among ``entries``
    endorsement: Endorsement | None  # the last one, among ``entries``

    def open_offers(self, now: int) -> list[StoredOffer]:
        return [offer for offer in self.offers if offer.state == "open" and offer.expires_at > now]

    def in_force(self, today: datetime.date) -> Period:
        """The validity in force today: the previous period while an early endorsement has not started yet."""
        permit = self.record.permit
        endorsement = self.endorsement
        if endorsement is not None and today < permit.valid_from:
            previous = endorsement.previous
            if previous is not None:
                return previous
            return Period(None, permit.valid_from - datetime.timedelta(days=1))
        return Period(permit.valid_from, permit.valid_until)

    def endorsed_picked_up(self) -> bool | None:
        """Whether the resident picked up after the last endorsement (None: no endorsement)."""
        if self.endorsement is None:
            return None
        return any(p.seq > self.endorsement.seq for p in self.pickups)


def offer_state(offer: StoredOffer, now: int) -> str:
    """The offer's state as the page says it: an open offer past its time is "expired"."""
    return "expired" if offer.state == "open" and offer.expires_at <= now else offer.state


def endorsement_of(entry: AuditEntry) -> Endorsement | None:
    if entry.action != Action.ENDORSE.value or entry.outcome != OK:
        return None
    found = _ENDORSED.match(entry.reason)
    if found is None:
        return None
    new_from, new_until, old_from, old_until = found.groups()
    previous = None if old_until is None else Period(datetime.date.fromisoformat(old_from),
                                                      datetime.date.fromisoformat(old_until))
    return Endorsement(entry.seq, entry.time, entry.officer,
                       Period(datetime.date.fromisoformat(new_from), datetime.date.fromisoformat(new_until)), previous)


def pickups_of(entries: list[AuditEntry]) -> list[Pickup]:
    """The deliveries among ``entries`` (newest first) grouped by their offer (``offer REF; status N/I ...``,
    issuer.service.deliver), newest first."""
    grouped: dict[str, list[AuditEntry]] = {}
    for entry in entries:
        if entry.action in DELIVER_ACTIONS and entry.outcome == OK:
            grouped.setdefault(entry.reason.partition("; status ")[0], []).append(entry)
    pickups = []
    for deliveries in grouped.values():
        indices = {i for e in deliveries for i in _STATUS.findall(e.reason.partition("; status ")[2])}
        pickups.append(Pickup(deliveries[0].seq, deliveries[0].time, len(indices), len(deliveries)))
    return sorted(pickups, key=lambda p: p.seq, reverse=True)


def record_history(store: Store, record: Record, *, before: int | None = None) -> RecordHistory:
    """One page of the record's history (``before``: the entries older than that seq)."""
    read = store.audit_of_record(record.id, before=before, limit=HISTORY_PAGE + 1)
    entries = read[:HISTORY_PAGE]
    older = entries[-1].seq if len(read) > HISTORY_PAGE else None
    endorsements = [e for e in map(endorsement_of, entries) if e is not None]
    pickups = pickups_of(entries)
    offers = sorted(store.offers_of_record(record.id), key=lambda o: o.created_at, reverse=True)
    return RecordHistory(record, entries, older, offers, len(store.delivered(record.id)), pickups,
                         endorsements[0] if endorsements else None)


def masked_citizen_id(citizen_id: str) -> str:
    """110101********1234: the region and the last four (the check digit and the sex) stay readable."""
    return citizen_id[:6] + "*" * max(0, len(citizen_id) - 10) + citizen_id[-4:]
