"""What the officer takes away from a bulk issuance: a printable HTML sheet and/or an SMS gateway CSV.

The sheet has one card per resident: the pickup QR (the offer URI, as an inline PNG data URI) and the PIN.
It holds secrets until the pickups are done: print it, hand the cards out, shred it (the file is 0600).
The SMS file (``write_sms_csv``, one writer for bulk issuance and the compromise re-issue) has what a
gateway needs to text the resident — phone, offer URI, PIN — and what the clerk needs to match a row to a
record; it is written 0600, never over an existing file, and with spreadsheet formulas neutralised.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from epermit.private_files import open_private
from issuer.bulk import IssuedRow
from issuer.model import Offer, offer_uri
from issuer.qr import qr_data_uri


def write_sheet(issued: Sequence[IssuedRow], path: Path, *, public_url: str, title: str) -> None:
    cards = []
    for row in issued:
        uri = offer_uri(public_url, row.offer.offer_id)
        cards.append(
            '<div class="card">'
            f'<img alt="pickup QR" src="{qr_data_uri(uri, box_size=4)}">'
            f'<p class="name">{html.escape(row.name)}</p>'
            f'<p>PIN <b class="pin">{html.escape(row.offer.tx_code)}</b></p>'
            f'<p class="small">line {row.line} · record {html.escape(row.record_id)}</p></div>'
        )
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "PingFang SC", sans-serif; margin: 1cm; }}
.cards {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 6mm; }}
.card {{ border: 1px dashed #888; padding: 4mm; text-align: center; break-inside: avoid; }}
.card img {{ width: 45mm; height: 45mm; image-rendering: pixelated; }}
.pin {{ font-size: 18pt; letter-spacing: 2pt; font-family: monospace; }}
.small {{ font-size: 8pt; color: #555; }} .name {{ font-size: 13pt; margin: 1mm; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>扫码领取电子居住证件，输入 PIN。Scan with the wallet, then enter the PIN. Shred this sheet after hand-out.</p>
<div class="cards">{"".join(cards)}</div>
</body></html>
"""
    with open_private(path) as out:
        out.write(page)


@dataclass(frozen=True)
class SmsRow:
    """One text to one resident: the link and the PIN (shown only here, once), and what identifies the row."""

    phone: str  # empty when the record has none on file (the clerk then calls or posts)
    record_id: str
    document_number: str
    name: str
    offer_uri: str
    pin: str
    expires_at: int

    @classmethod
    def of_offer(cls, offer: Offer, *, public_url: str, phone: str, record_id: str, document_number: str,
                 name: str) -> SmsRow:
        return cls(phone, record_id, document_number, name, offer_uri(public_url, offer.offer_id), offer.tx_code,
                   offer.expires_at)

    @classmethod
    def of_bulk(cls, row: IssuedRow, public_url: str) -> SmsRow:
        return cls.of_offer(row.offer, public_url=public_url, phone=row.phone, record_id=row.record_id,
                            document_number=row.document_number, name=row.name)


SMS_COLUMNS = tuple(f.name for f in fields(SmsRow))


def write_sms_csv(path: Path, rows: Iterable[SmsRow]) -> int:
    """The SMS batch as CSV (header SMS_COLUMNS), 0600, refusing to overwrite a file; returns the row count."""
    written = 0
    with open_private(path, exclusive=True) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SMS_COLUMNS)
        for row in rows:
            writer.writerow([_csv_safe(str(value)) for value in astuple(row)])
            written += 1
    return written


def _csv_safe(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
