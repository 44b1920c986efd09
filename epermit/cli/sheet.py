"""What the officer takes away from a bulk issuance: a printable HTML sheet and/or an SMS gateway CSV.

The sheet has one card per resident: the pickup QR (the offer URI, as an inline PNG data URI) and the PIN.
It holds secrets until the pickups are done: print it, hand the cards out, shred it (the file is 0600).
The SMS file (``write_sms_csv``, one writer for bulk issuance and the compromise re-issue) has what a
gateway needs to text the resident — phone, offer URI, PIN — and what the clerk needs to match a row to a
record; it is written 0600, never over an existing file, and with spreadsheet formulas neutralised.

Both can be *staged* (``StagedFile``): written whole and fsynced to a temporary name beside the target, then
put in place by ``publish`` (a rename: the file appears whole or not at all). `epermit issue` stages them
before it stores a single offer, so that an unwritable path or a full disk stops it with nothing issued.
"""

from __future__ import annotations

import csv
import html
import io
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from issuer.bulk import IssuedRow
from issuer.model import Offer, offer_uri
from issuer.qr import qr_data_uri


class StagedFile:
    """A file written whole to a temporary name beside ``target`` (0600, fsynced), not yet in place.
    ``publish`` renames it to the target (refusing an existing one unless ``overwrite``); ``discard`` removes
    it. Beside the target, so that the rename stays on one file system and a full disk shows up here."""

    def __init__(self, target: Path, text: str, *, overwrite: bool) -> None:
        self.target = target
        self.overwrite = overwrite
        # Whatever would stop the rename is refused now, before the caller stores anything.
        if os.path.lexists(target):
            if not overwrite:
                raise FileExistsError(f"{target} exists: refusing to overwrite it")
            if target.is_symlink() or not target.is_file():
                raise FileExistsError(f"{target} is not a regular file: refusing to replace it")
        self.temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.partial")
        fd = os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with open(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            self.discard()
            raise

    def publish(self) -> None:
        if self.overwrite:
            os.replace(self.temporary, self.target)
        else:
            try:
                os.link(self.temporary, self.target)  # fails on an existing target (no check-then-write race)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: check, then rename
                if os.path.lexists(self.target):
                    raise FileExistsError(f"{self.target} exists: refusing to overwrite it") from None
                os.rename(self.temporary, self.target)
            else:
                os.unlink(self.temporary)
        directory = os.open(self.target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the new name survives a power cut
        finally:
            os.close(directory)

    def discard(self) -> None:
        try:
            os.unlink(self.temporary)
        except FileNotFoundError:
            pass


def sheet_html(issued: Sequence[IssuedRow], *, public_url: str, title: str) -> str:
    """The printable sheet: one card per row, with the pickup QR and the PIN."""
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
    return page


def stage_sheet(issued: Sequence[IssuedRow], path: Path, *, public_url: str, title: str) -> StagedFile:
    return StagedFile(path, sheet_html(issued, public_url=public_url, title=title), overwrite=True)


def write_sheet(issued: Sequence[IssuedRow], path: Path, *, public_url: str, title: str) -> None:
    stage_sheet(issued, path, public_url=public_url, title=title).publish()


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


def sms_csv_text(rows: Iterable[SmsRow]) -> tuple[str, int]:
    """The SMS batch as CSV (header SMS_COLUMNS) and its row count."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SMS_COLUMNS)
    written = 0
    for row in rows:
        writer.writerow([_csv_safe(str(value)) for value in astuple(row)])
        written += 1
    return out.getvalue(), written


def stage_sms_csv(path: Path, rows: Iterable[SmsRow]) -> tuple[StagedFile, int]:
    """The SMS file staged (refusing an existing ``path`` now and when put in place); and its row count."""
    text, written = sms_csv_text(rows)
    return StagedFile(path, text, overwrite=False), written


def write_sms_csv(path: Path, rows: Iterable[SmsRow]) -> int:
    """The SMS batch as CSV (header SMS_COLUMNS), 0600, refusing to overwrite a file; returns the row count."""
    staged, written = stage_sms_csv(path, rows)
    staged.publish()
    return written


def _csv_safe(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
