"""The auditor's view of the log: newest first, filtered by record, officer, action and date, a page at a time.

The scope is the auditor's (issuer.audit.AuditScope: its districts' records and its own entries, or all of
them for the bureau's auditor); the filters narrow it further. A record filter reads that record's entries
through the per-record index (Store.audit_of_record). The other filters walk the log backwards from the
head, page by page, and look at no more than ``SCAN_PAGES`` pages per read: the answer's ``next`` says where
to go on (``before``), so a rare match in a long log costs several reads, never one unbounded one.
The seqs are dense (1 to the head: a gap is a broken chain, which the chain check names), so the page
below ``before`` is ``list_audit(after=before - 1 - PAGE)``.

Dates are days in Beijing time (the bureau's), inclusive at both ends.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from credential.passclaims import CHINA_STANDARD_TIME
from issuer.audit import PAGE, SCAN_PAGES, AuditScope
from issuer.audit_cursor import AuditCursor, merged
from issuer.errors import InvalidRequestError
from issuer.model import AuditEntry, is_officer_id
from issuer.store import Store

MAX_ACTION = 64


@dataclass(frozen=True)
class AuditFilter:
    record_id: str | None = None
    officer: str | None = None
    action: str | None = None
    since: datetime.date | None = None  # Beijing days, inclusive
    until: datetime.date | None = None

    def __post_init__(self) -> None:
        if self.officer is not None and not (is_officer_id(self.officer) or self.officer == "-"):
            raise InvalidRequestError("officer must be an officer id")
        if self.action is not None and (len(self.action) > MAX_ACTION or not self.action.replace("_", "").isalnum()
                                        or not self.action.isascii()):
            raise InvalidRequestError("action must be an action name such as revoke")
        if self.record_id is not None and (not self.record_id or len(self.record_id) > 200):
            raise InvalidRequestError("record must be a record id")
        if self.since is not None and self.until is not None and self.until < self.since:
            raise InvalidRequestError("the end date is before the start date")

    @property
    def empty(self) -> bool:
        return all(v is None for v in (self.record_id, self.officer, self.action, self.since, self.until))

    def bounds(self) -> tuple[int | None, int | None]:
        """The filter's dates as [start, end) in epoch seconds."""
        def start(day: datetime.date) -> int:
            return int(datetime.datetime.combine(day, datetime.time(), CHINA_STANDARD_TIME).timestamp())
        last = self.until is None or self.until == datetime.date.max  # no day after it: no end
        return (None if self.since is None else start(self.since),
                None if last or self.until is None else start(self.until + datetime.timedelta(days=1)))

    def admits(self, entry: AuditEntry) -> bool:
        low, high = self.bounds()
        return ((self.record_id is None or entry.record_id == self.record_id)
                and (self.officer is None or entry.officer == self.officer)
                and (self.action is None or entry.action == self.action)
                and (low is None or entry.time >= low) and (high is None or entry.time < high))


def filter_from_query(args: Mapping[str, str]) -> AuditFilter:
    """The officer API's filter parameters (record, officer, action, since, until as YYYY-MM-DD);
    InvalidRequestError for a malformed one."""
    def day(name: str) -> datetime.date | None:
        text = args.get(name)
        if text is None:
            return None
        try:
            if len(text) == 10:  # fromisoformat also takes 20260501 and week dates: one spelling only
                return datetime.date.fromisoformat(text)
        except ValueError:
            pass
        raise InvalidRequestError(f"{name} must be a date YYYY-MM-DD")
    return AuditFilter(args.get("record"), args.get("officer"), args.get("action"), day("since"), day("until"))


@dataclass(frozen=True)
class NewestPage:
    entries: list[AuditEntry]  # newest first
    next: AuditCursor | None  # read on with before=this (every entry below it not looked at yet), None: the start
    looked_at: int  # how many entries this read looked at


def search_newest(store: Store, scope: AuditScope, wanted: AuditFilter, *, before: int | AuditCursor | None = None,
                  limit: int = 50) -> NewestPage:
    """Up to ``limit`` entries below ``before`` (per chain; an integer: the global chain's seq; None or a
    chain it does not name: from the head) that the scope and the filter admit, newest first, every chain's
    merged by time (issuer.audit_cursor)."""
    limit = max(1, min(limit, 500))
    cursor = None if before is None else AuditCursor.at(before)
    if wanted.record_id is not None:
        return _of_record(store, scope, wanted, cursor, limit)
    tops: dict[str, int] = {}
    for chain in store.audit_chains():
        head = store.audit_head(chain)
        last = 0 if head is None else head[0]
        tops[chain] = last + 1 if cursor is None else min(cursor.get(chain, last + 1), last + 1)
    streams = {chain: _below(store, chain, top) for chain, top in tops.items()}
    shown: list[AuditEntry] = []
    looked = 0
    flow = merged(streams, newest_first=True)
    for _ in range(SCAN_PAGES):
        page = list(itertools.islice(flow, PAGE))
        districts = {} if scope.districts is None else store.record_districts(
            sorted({e.record_id for _, e in page if e.record_id}))
        for chain, entry in page:
            looked += 1
            tops[chain] = entry.seq
            if wanted.admits(entry) and scope.admits(entry, districts):
                shown.append(entry)
                if len(shown) == limit:
                    return NewestPage(shown, _go_on(tops), looked)
        if len(page) < PAGE:
            return NewestPage(shown, None, looked)
    return NewestPage(shown, _go_on(tops), looked)


def _below(store: Store, chain: str, top: int) -> Iterator[AuditEntry]:
    """The chain's entries with seq < ``top``, newest first, a PAGE at a time (the seqs are dense)."""
    while top > 1:
        low = max(0, top - 1 - PAGE)
        found = [e for e in store.list_audit(after=low, limit=top - 1 - low, chain=chain) if e.seq < top]
        yield from reversed(found)
        top = low + 1


def _go_on(tops: Mapping[str, int]) -> AuditCursor | None:
    """Where the next read starts; None when every chain was read down to its first entry."""
    return AuditCursor.of(tops) if any(top > 1 for top in tops.values()) else None


def _of_record(store: Store, scope: AuditScope, wanted: AuditFilter, before: AuditCursor | None,
               limit: int) -> NewestPage:
    """The record's entries through its index (in its chain: its district's shard's); a record outside the
    scope shows only the auditor's own."""
    assert wanted.record_id is not None
    districts = store.record_districts([wanted.record_id])
    district = districts.get(wanted.record_id)
    chain = "" if district is None else store.shard_of(district)
    shown: list[AuditEntry] = []
    looked = 0
    named = -1 if before is None else before.get(chain, -1)  # -1: the cursor does not name the chain
    if 0 <= named <= 1:
        return NewestPage([], None, 0)  # the cursor stands at the start of the record's chain
    top = None if named < 0 else named

    def go_on() -> AuditCursor | None:
        return None if top is None else AuditCursor.of({chain: top})
    for _ in range(SCAN_PAGES):
        page = store.audit_of_record(wanted.record_id, before=top, limit=PAGE)
        for entry in page:
            looked += 1
            top = entry.seq
            if wanted.admits(entry) and scope.admits(entry, districts):
                shown.append(entry)
                if len(shown) == limit:
                    return NewestPage(shown, go_on(), looked)
        if len(page) < PAGE:
            return NewestPage(shown, None, looked)
    return NewestPage(shown, go_on(), looked)
