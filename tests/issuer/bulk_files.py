"""Large application files for the streamed bulk tests: ``count`` cards of distinct fictitious holders."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

from credential.citizen_id import citizen_id_check_digit
from credential.model import APPLICATION_FIELDS, CredentialType
from credential.samples import sample_permit

from .office import HOME

COLUMNS = [*APPLICATION_FIELDS, "phone"]


def today() -> datetime.date:
    return datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()


def card_row(n: int, day: datetime.date, *, address: str | None = None) -> list[str]:
    base = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=day,
                         valid_until=day + datetime.timedelta(days=364)).to_dict()
    birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=n // 500)
    first17 = f"410102{birth:%Y%m%d}{2 * (n % 500) + 1:03d}"  # odd sequence: male, like the sample holder
    fields = {**base, "birth_date": birth.isoformat(), "citizen_id": first17 + citizen_id_check_digit(first17),
              "document_number": f"DJK-{HOME}-2026-{n + 1:06d}", "phone": f"138{n:08d}", "district": HOME}
    if address is not None:
        fields["address"] = address
    return ["" if fields[c] is None else str(fields[c]) for c in COLUMNS]


def write_cards(path: Path, count: int, *, address: str | None = None, bad: dict[int, list[str]] | None = None,
                first: int = 0) -> Path:
    """``count`` data rows (holders ``first`` onwards); ``bad``: data row number -> the row written there instead."""
    day = today()
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for n in range(count):
            writer.writerow((bad or {}).get(n) or card_row(first + n, day, address=address))
    return path
