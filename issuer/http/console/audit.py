"""The auditor's page at /officer/audit: the audit log of the auditor's districts, newest first, filtered by
record, officer, action and date range, a page at a time, with the chain's head and the chain check.

The scope and the filters are the desk's (OfficerDesk.audit_search: an auditor reads the entries of its
districts' records and its own, the bureau's auditor everything). The filters are a GET form (record ids,
officer ids, action names and dates are not personal data), so a filtered page can be bookmarked; the chain
check is a POST, since it reads the whole log. The heads are read on every view, every chain's together in
one anchor (issuer.audit_anchor): an auditor notes it and later checks the chains against it.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint, request

from issuer.audit import Anchor, ChainReport
from issuer.audit_cursor import AuditCursor
from issuer.audit_search import AuditFilter, NewestPage
from issuer.errors import AuditChainError, IssuerError
from issuer.http.console.display import officer_names
from issuer.http.console.ui import ConsoleUi
from issuer.http.console.words import ACTIONS, OUTCOMES, Words, entry_reason_words
from issuer.model import Action, Officer, Role

MAX_FIELD = 200
PAGE_SIZE = 50
BAD_DATE: Words = ("日期无效，请按 年-月-日 填写。", "Not a valid date (YYYY-MM-DD).")
# What the chain check found, by the end of AuditChainError.problem (issuer.audit.verify_chain), in words.
CHAIN_PROBLEMS: tuple[tuple[str, Words], ...] = (
    ("cut off", ("先前记下的锚点条目已不存在：日志末尾被截断。", "The anchored entry is gone: the log was cut off.")),
    ("rewritten", ("与先前记下的锚点不符：日志被改写。", "Differs from the anchor noted earlier: rewritten.")),
    ("edited", ("条目内容与其哈希不符：被修改。", "Its content does not match its hash: edited.")),
    ("inserted, deleted or reordered", ("与前一条不衔接：有条目被插入、删除或重排。",
                                        "Does not link to the entry before it: inserted, deleted or reordered.")),
    ("reordered or inserted", ("序号错位：有条目被重排或插入。", "Out of order: reordered or inserted.")),
    ("deleted", ("序号缺失：有条目被删除。", "Missing: deleted.")),
)


def chain_problem(exc: AuditChainError) -> Words:
    for ending, words in CHAIN_PROBLEMS:
        if exc.problem.endswith(ending):
            return words
    return exc.problem, exc.problem


ANCHOR_FORMAT: Words = ("锚点格式为 序号:哈希（64位十六进制小写）。", "An anchor is SEQ:HASH (64 lower-case hex digits).")


def query_filter(args: dict[str, str]) -> tuple[AuditFilter, dict[str, Words]]:
    """The page's filter from its query, and the words for each field that could not be read (left out)."""
    errors: dict[str, Words] = {}

    def text(name: str) -> str | None:
        value = args.get(name, "").strip()[:MAX_FIELD]
        return value or None

    def day(name: str) -> datetime.date | None:
        value = text(name)
        if value is None:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            errors[name] = BAD_DATE
            return None

    since, until = day("since"), day("until")
    if since is not None and until is not None and until < since:
        errors["until"] = ("截止日期早于起始日期。", "The end date is before the start date.")
        until = None
    action = text("action")
    if action is not None and action not in ACTIONS and action not in {a.value for a in Action}:
        errors["action"] = ("请从列表中选择。", "Choose one from the list.")
        action = None
    officer = text("officer")
    try:
        return AuditFilter(text("record"), officer, action, since, until), errors
    except IssuerError:
        errors["officer"] = ("警号格式不对。", "Not an officer id.")
        return AuditFilter(text("record"), None, action, since, until), errors


def query_cursor(text: str) -> AuditCursor | None:
    """A ``before`` query parameter (a page's next), or None when absent or not one (then the newest page)."""
    try:
        return AuditCursor.parse(text) if text else None
    except IssuerError:
        return None


def register_audit_routes(bp: Blueprint, ui: ConsoleUi) -> None:
    desk = ui.desk

    def audit_page(officer: Officer, status: int = 200, **context: Any) -> tuple[str, int]:
        args = {k: v for k, v in request.args.items() if isinstance(v, str)}
        wanted, errors = query_filter(args)
        found: NewestPage = desk.audit_search(officer, wanted, before=query_cursor(args.get("before", "")),
                                              limit=PAGE_SIZE)
        head = desk.audit_head(officer)
        kept = {k: args[k] for k in ("record", "officer", "action", "since", "until") if args.get(k)}
        return ui.page("audit.html", 400 if errors and status == 200 else status, officer=officer, found=found,
                       head=head, filters=kept, errors=errors,
                       error=" ".join(" ".join(words) for words in errors.values()) or context.pop("error", None),
                       actions=ACTIONS, outcomes=OUTCOMES, reason_words=entry_reason_words,
                       names=officer_names(desk, (e.officer for e in found.entries)),
                       bureau=officer.role is Role.BUREAU_AUDITOR, **context)

    @bp.get("/audit")
    @ui.signed_in
    def audit(officer: Officer) -> Any:
        try:
            return audit_page(officer)
        except IssuerError as exc:
            return ui.failed(officer, exc)

    @bp.post("/audit/check")
    @ui.signed_in
    def check_chain(officer: Officer) -> Any:
        """The chain check of the whole log (and the anchor, when one is given): the page again with the
        verdict; nothing is written."""
        given = request.form.get("anchor", "").strip()[:MAX_FIELD]
        try:
            expect = Anchor.parse(given) if given else None
        except IssuerError:
            return audit_page(officer, 400, error=" ".join(ANCHOR_FORMAT), anchor=given)
        report: ChainReport | None = None
        broken: AuditChainError | None = None
        try:
            report = desk.audit_chain(officer, expect=expect)
        except AuditChainError as exc:
            broken = exc
        except IssuerError as exc:
            return ui.failed(officer, exc)
        return audit_page(officer, 200, report=report, broken=broken, anchor=given, checked=True,
                          problem=None if broken is None else chain_problem(broken))
