"""One CSV row as an application: the permit its fields make, the resident's phone, the photo it names.

Columns: the application fields of credential.model.Permit.to_dict (``portrait_sha256`` may be empty) and
an optional ``phone`` for the SMS gateway file: a mainland mobile number (11 digits from 13 to 19, spaces
and hyphens allowed, an optional +86 or 86 in front), kept as its 11 digits. An optional ``portrait``
column names a photo file for the row (issuer.portrait.folder), made into the portrait at validation and
kept sealed with the record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable

from credential.errors import InvalidApplicationError
from credential.model import Permit
from issuer.bulk.rows import EXTRA, PHONE, CsvRow
from issuer.portrait.capture import PortraitRejectedError, make_portrait
from issuer.portrait.folder import PORTRAIT_COLUMN

MAX_FIELD = 400
INT_FIELDS = ("sex", "ethnicity")
MAINLAND_MOBILE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
ReadPortrait = Callable[[str], bytes]  # the bytes of the photo file a row names


def mainland_mobile(text: str) -> str:
    """``text`` as the 11 digits of a mainland mobile number (spaces, hyphens and +86 / 86 dropped); an
    empty text stays empty (no phone on file). InvalidApplicationError for anything else."""
    compact = text.replace(" ", "").replace("-", "")
    if not compact:
        return ""
    found = MAINLAND_MOBILE.fullmatch(compact) if compact.isascii() else None
    if found is None:
        raise InvalidApplicationError(PHONE, "not a mainland mobile number (11 digits from 13 to 19, "
                                             "optionally after +86)")
    return found.group(1)


def row_permit(row: CsvRow) -> tuple[Permit, str]:
    if EXTRA in row.fields:
        raise InvalidApplicationError("csv", "the row has a different number of fields than the header")
    fields: dict[str, object] = {}
    for key, value in row.fields.items():
        if len(value) > MAX_FIELD:
            raise InvalidApplicationError(key, f"longer than {MAX_FIELD} characters")
        fields[key] = value.strip()
    phone = mainland_mobile(str(fields.pop(PHONE, "")))
    fields.pop(PORTRAIT_COLUMN, None)  # the photo: with_portrait
    for key in INT_FIELDS:
        text = str(fields.get(key, ""))
        if text.isascii() and text.isdigit() and len(text) <= 3:
            fields[key] = int(text)
    if fields.get("portrait_sha256") == "":
        fields["portrait_sha256"] = None
    return Permit.from_dict(fields), phone


def with_portrait(permit: Permit, row: CsvRow, read_portrait: ReadPortrait | None) -> tuple[Permit, bytes | None]:
    """The permit with the digest of the portrait its row's photo gives, and that portrait (None: no photo)."""
    name = row.fields.get(PORTRAIT_COLUMN, "").strip()
    if not name:
        return permit, None
    if read_portrait is None:
        raise InvalidApplicationError(PORTRAIT_COLUMN, "photo files are read only from a CSV file on disk")
    if permit.holder.portrait_sha256 is not None:
        raise InvalidApplicationError(PORTRAIT_COLUMN, "give a photo or a portrait_sha256, not both")
    try:
        portrait = make_portrait(read_portrait(name))
    except PortraitRejectedError as exc:
        raise InvalidApplicationError(PORTRAIT_COLUMN, f"{name}: {exc}") from exc
    holder = dataclasses.replace(permit.holder, portrait_sha256=hashlib.sha256(portrait).digest())
    return dataclasses.replace(permit, holder=holder), portrait
