"""The rejected rows of a bulk issuance as a CSV file the clerk corrects and submits again as it is.

One row per rejected application: ``line`` (its line in the submitted file), the row's own columns as read
(the submitted file's header, in its order), then ``reason_zh`` and ``reason_en`` — why, in words for a
window clerk (issuer.http.console.words says the field's reasons; the bulk-only ones are here), not the
validator's message. issuer.bulk.read_table ignores ``line``, ``reason_zh`` and ``reason_en``, so the
corrected file goes back to `epermit issue --csv` unchanged. The file holds personal data: 0600, never
through a link; it replaces an earlier one of the same name (the clerk resubmits, then gets the new rest).
Cells starting with = + - @ get an apostrophe (a spreadsheet would run them as formulas); read_table drops it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from credential.errors import InvalidApplicationError
from epermit.cli.sheet import csv_safe
from epermit.private_files import write_private
from issuer.bulk import PHONE, REJECTION_COLUMNS, BadRow
from issuer.errors import ForbiddenError
from issuer.http.console.words import FIELDS, Words, reason_words
from issuer.rules import BureauRuleError

# Reasons only bulk issuance gives (the console's form cannot make them).
_FIELD_REASONS: dict[str, Words] = {
    PHONE: ("手机号码：应为11位大陆手机号（13-19开头），可带 +86。",
            "Mobile phone: 11 digits starting 13 to 19, optionally after +86."),
    "csv": ("本行的列数与表头不符（多了或少了逗号）。", "The row has more or fewer columns than the header."),
}
_REPEATED_NUMBER: Words = ("证件号码：与文件中前面一行重复。", "Document no.: repeats an earlier row of the file.")
_RULES: dict[str, Words] = {
    "validity_too_long": ("有效期超过规定期限。", "The validity is longer than the bureau allows."),
    "already_registered": ("此人已有同类有效证件。", "The holder already has a live document of this type."),
    "registration_required": ("此人没有有效的居住登记卡，不能办理居住证。",
                              "The holder has no valid registration card: no residence permit yet."),
    "registration_too_short": ("居住登记未满规定期限，须所长在控制台审批。",
                               "Registered too recently: a supervisor must approve it in the console."),
    "foreign_authority": ("签发机关不是本局。", "The issuing authority is not this bureau."),
}
_FORBIDDEN: Words = ("辖区不在柜员或签发民警的辖区内。",
                     "The district is not one of the clerk's or the issuing officer's districts.")


def rejection_words(bad: BadRow) -> Words:
    """Why ``bad`` was refused, as (zh, en) sentences a clerk can act on."""
    cause = bad.cause
    if isinstance(cause, InvalidApplicationError):
        reason = str(cause).removeprefix(f"{cause.field}: ")
        if cause.field in _FIELD_REASONS:
            return _FIELD_REASONS[cause.field]
        if cause.field == "document_number" and "repeats an earlier row" in reason:
            return _REPEATED_NUMBER
        label = FIELDS.get(cause.field, (cause.field, cause.field))
        zh, en = reason_words(reason)
        return f"{label[0]}：{zh}", f"{label[1]}: {en}"
    if isinstance(cause, BureauRuleError) and cause.rule in _RULES:
        return _RULES[cause.rule]
    if isinstance(cause, ForbiddenError):
        if "district" in str(cause):
            return _FORBIDDEN
        return (f"柜员或签发民警无此权限（{cause}）。", f"The clerk or the issuing officer may not do this ({cause}).")
    return f"无法办理：{bad.reason}", f"Refused: {bad.reason}"


def rejected_header(header: Sequence[str]) -> str:
    return _lines([[REJECTION_COLUMNS[0], *header, *REJECTION_COLUMNS[1:]]])


def rejected_lines(header: Sequence[str], bad: Sequence[BadRow]) -> str:
    lines = []
    for row in bad:
        zh, en = rejection_words(row)
        lines.append([csv_safe(str(row.line)), *(csv_safe(row.fields.get(h, "")) for h in header), csv_safe(zh),
                      csv_safe(en)])
    return _lines(lines)


def _lines(rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def rejected_csv_text(header: Sequence[str], bad: Sequence[BadRow]) -> str:
    return rejected_header(header) + rejected_lines(header, bad)


def write_rejected_csv(path: Path, header: Sequence[str], bad: Sequence[BadRow]) -> None:
    """The rejected rows (0600), replacing a file of that name."""
    write_private(path, rejected_csv_text(header, bad))
