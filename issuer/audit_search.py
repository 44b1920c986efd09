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
from collections.abc import Mapping
from dataclasses import dataclass

from credential.passclaims import CHINA_STANDARD_TIME
from issuer.audit import PAGE, SCAN_PAGES, AuditScope
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
    next: int | None  # read on with before=this (every entry below it not looked at yet), None: the start reached
    looked_at: int  # how many entries this read looked at


def search_newest(store: Store, scope: AuditScope, wanted: AuditFilter, *, before: int | None = None,
                  limit: int = 50) -> NewestPage:
    """Up to ``limit`` entries with seq < ``before`` (None: from the head) that the scope and the filter
    admit, newest first."""
    limit = max(1, min(limit, 500))
    if wanted.record_id is not None:
        return _of_record(store, scope, wanted, before, limit)
    head = store.audit_head()
    last = 0 if head is None else head[0]
    top = last + 1 if before is None else min(before, last + 1)  # the seq to read below
    shown: list[AuditEntry] = []
    looked = 0
    for _ in range(SCAN_PAGES):
        if top <= 1:
            return NewestPage(shown, None, looked)
        low = max(0, top - 1 - PAGE)
        page = [e for e in store.list_audit(after=low, limit=top - 1 - low) if e.seq < top]
        districts = {} if scope.districts is None else store.record_districts(
            sorted({e.record_id for e in page if e.record_id}))
        for entry in reversed(page):
            looked += 1
            top = entry.seq
            if wanted.admits(entry) and scope.admits(entry, districts):
                shown.append(entry)
                if len(shown) == limit:
                    return NewestPage(shown, top if top > 1 else None, looked)
        if not page:
            top = low + 1
    return NewestPage(shown, top if top > 1 else None, looked)


def _of_record(store: Store, scope: AuditScope, wanted: AuditFilter, before: int | None,
               limit: int) -> NewestPage:
    """The record's entries through its index; a record outside the scope shows only the auditor's own."""
    assert wanted.record_id is not None
    districts = store.record_districts([wanted.record_id])
    shown: list[AuditEntry] = []
    looked = 0
    cursor = before
    for _ in range(SCAN_PAGES):
        page = store.audit_of_record(wanted.record_id, before=cursor, limit=PAGE)
        for entry in page:
            looked += 1
            cursor = entry.seq
            if wanted.admits(entry) and scope.admits(entry, districts):
                shown.append(entry)
                if len(shown) == limit:
                    return NewestPage(shown, cursor, looked)
        if len(page) < PAGE:
            return NewestPage(shown, None, looked)
    return NewestPage(shown, cursor, looked)
