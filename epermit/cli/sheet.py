"""What the officer takes away from a bulk issuance: a printable HTML sheet and/or an SMS gateway CSV.

The sheet never prints a PIN beside its QR (as the console's single pickup sheet,
issuer/http/console/templates/officer/sheet.html): first pages of tiles, one per resident — the pickup QR
(the https pickup page, issuer.model.pickup_url, which a phone's camera opens; an inline PNG data URI), the
credential type, name, document number and the citizen ID's last four (two 王敏 told apart), the offer's
expiry in Beijing time — then, from a new page, the PIN slips in the same order, each naming the document
number and the ID's last four. Whoever finds or photographs a tile cannot pick up with it. It holds
secrets until the pickups are done: print it, cut, hand the tiles and slips out separately, shred the rest
(the file is 0600).
The SMS file (``write_sms_csv``, one writer for bulk issuance and the compromise re-issue) has what a
gateway needs to text the resident — phone, pickup link, PIN; the offer URI too, for a gateway that sends
it to a wallet directly — and what the clerk needs to match a row to a record; it is written 0600, never
over an existing file, and with spreadsheet formulas neutralised.
Both can be *staged* (``StagedFile``): written whole and fsynced to a temporary name beside the target, then
put in place by ``publish`` (a rename: the file appears whole or not at all). `epermit issue` stages them
before it stores a single offer, so that an unwritable path or a full disk stops it with nothing issued.
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

from credential.model import CredentialType
from credential.passclaims import CHINA_STANDARD_TIME
from epermit.private_files import check_replaceable, publish_staged
from issuer.bulk import IssuedRow, Tick
from issuer.http.console.words import TYPES
from issuer.model import Offer, offer_uri, pickup_url
from issuer.qr import qr_data_uri


class StagedFile:
    """A file written whole to a temporary name beside ``target`` (0600, fsynced), not yet in place.
    ``publish`` renames it to the target (refusing an existing one unless ``overwrite``); ``discard`` removes
    it. Beside the target, so that the rename stays on one file system and a full disk shows up here."""

    def __init__(self, target: Path, text: str, *, overwrite: bool) -> None:
        self.target = target
        self.overwrite = overwrite
        check_replaceable(target, overwrite=overwrite)  # before the caller stores anything
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
        publish_staged(self.temporary, self.target, overwrite=self.overwrite)

    def discard(self) -> None:
        try:
            os.unlink(self.temporary)
        except FileNotFoundError:
            pass


def expiry_text(expires_at: int) -> str:
    """An offer's expiry as the bureau's clock reads it: ``2026-12-10 14:05+08:00`` (Beijing time; the
    offset makes it unambiguous for a gateway that parses it, ``datetime.fromisoformat`` reads it)."""
    return datetime.datetime.fromtimestamp(expires_at, CHINA_STANDARD_TIME).isoformat(sep=" ", timespec="minutes")


def sheet_heading(issued: Sequence[IssuedRow], title: str) -> str:
    """The sheet's title: the credential type(s) it hands out, in Chinese then English, and the batch."""
    return sheet_heading_of({row.credential_type for row in issued}, title)


def sheet_heading_of(kinds: set[CredentialType] | frozenset[CredentialType], title: str) -> str:
    words = [TYPES[t.slug] for t in CredentialType if t in kinds]
    zh = " / ".join(k[0] for k in words) or "证件"
    en = " / ".join(k[1].lower() for k in words) or "credential"
    return f"电子{zh}领取单 · Electronic {en} pickup sheet — {title}"


def pickup_tile(row: IssuedRow, public_url: str) -> str:
    """One tile of the sheet: the pickup QR and who it is for, never the PIN."""
    kind = TYPES[row.credential_type.slug]
    page = pickup_url(public_url, row.offer.offer_id)
    return (f'<div class="tile" data-testid="pickup-tile" data-line="{row.line}">'
            f'<p class="kind">电子{kind[0]} · {kind[1]}</p>'
            f'<img alt="pickup QR" src="{qr_data_uri(page, box_size=4)}">'
            f'<p class="name">{html.escape(row.name)}</p><p class="who">{_who(row)}</p>'
            f'<p class="small">有效至 Valid until {html.escape(expiry_text(row.offer.expires_at))} (北京时间 Beijing time)'
            f' · 第 {row.line} 行 line {row.line}</p></div>')


def pin_slip(row: IssuedRow) -> str:
    """One PIN slip: the PIN and the tile it belongs to (document number, the ID's last four), not the name."""
    kind = TYPES[row.credential_type.slug]
    return (f'<div class="slip" data-testid="pin-slip" data-line="{row.line}">'
            f'<p class="kind">取证密码 PIN · 电子{kind[0]} {kind[1]}</p>'
            f'<p class="pin">{html.escape(row.offer.tx_code)}</p><p class="who">{_who(row)}</p>'
            f'<p class="small">只在 epermit 钱包中输入，勿告诉他人；民警不会索要此密码。'
            f'Enter it only in the epermit wallet; officers never ask for it. · 第 {row.line} 行 line {row.line}</p></div>')


def _who(row: IssuedRow) -> str:
    return (f'<span class="doc">{html.escape(row.document_number)}</span> · '
            f'身份证尾号 ID …<span class="id4">{html.escape(row.citizen_id_last4)}</span>')


def sheet_html(issued: Sequence[IssuedRow], *, public_url: str, title: str, tick: Tick | None = None) -> str:
    """The printable sheet: first the pages of pickup tiles (QR, type, name, document number, the citizen
    ID's last four, expiry; never the PIN), then, from a new page, the PIN slips in the same order, each
    naming its tile's document number and citizen ID's last four (not the name). ``title`` names the batch
    (say, the CSV file); the heading adds the credential type. ``tick``: called per row."""
    tiles, slips = [], []
    for row in issued:
        tiles.append(pickup_tile(row, public_url))
        slips.append(pin_slip(row))
        if tick is not None:
            tick()
    kinds = {row.credential_type for row in issued}
    return sheet_top(kinds, title) + "".join(tiles) + sheet_middle(title) + "".join(slips) + SHEET_END


def sheet_top(kinds: set[CredentialType] | frozenset[CredentialType], title: str) -> str:
    """The sheet up to its first tile (the heading names the credential types it hands out)."""
    heading = html.escape(sheet_heading_of(kinds, title))
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{heading}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "PingFang SC", sans-serif; margin: 1cm; }}
.tiles, .slips {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 6mm; }}
.tile, .slip {{ border: 1px dashed #888; padding: 4mm; text-align: center; break-inside: avoid; }}
.tile img {{ width: 45mm; height: 45mm; image-rendering: pixelated; }}
.pin {{ font-size: 20pt; letter-spacing: 3pt; font-family: monospace; font-weight: bold; margin: 2mm; }}
.small {{ font-size: 8pt; color: #555; }} .name {{ font-size: 13pt; margin: 1mm; }}
.kind {{ font-size: 9pt; margin: 0 0 1mm; }} .who {{ font-size: 10pt; margin: 1mm; }}
#pin-slips {{ break-before: page; page-break-before: always; }}
@media screen {{ #pin-slips {{ border-top: 3px double #888; margin-top: 1cm; padding-top: 2mm; }} }}
.cut-line {{ font-size: 9pt; color: #555; }}
</style></head><body>
<section id="pickup-tiles">
<h1 id="sheet-title">{heading}</h1>
<p id="which-wallet">用手机相机扫描二维码，打开领取页面，点“用 epermit 钱包领取”，在钱包中输入另一页取证密码单上的密码。Scan the QR code with the phone's camera: the pickup page opens; tap “Pick up with the epermit wallet” and enter the PIN from the separate PIN slip.</p>
<p class="small">领取单与取证密码单分开保管、分开交付；剪开后按证件号码和身份证尾号配对。派发完毕后销毁。Keep and hand out the QR tiles and the PIN slips separately; match them by document number and the citizen ID's last four. Shred both after hand-out.</p>
<div class="tiles">"""


def sheet_middle(title: str) -> str:
    """Between the last tile and the first PIN slip: the slips start a page of their own."""
    return f"""</div>
</section>
<section id="pin-slips">
<h2>取证密码单 · PIN slips — {html.escape(title)} <span class="small">（另起一页打印 printed on pages of their own）</span></h2>
<p class="cut-line">✂ 沿虚线剪开，每位居民一张，与其领取二维码分开交付。Cut along the dashed lines: one slip per resident, handed over separately from their QR tile.</p>
<div class="slips">"""


SHEET_END = """</div>
</section>
</body></html>
"""


def stage_sheet(issued: Sequence[IssuedRow], path: Path, *, public_url: str, title: str,
                tick: Tick | None = None) -> StagedFile:
    return StagedFile(path, sheet_html(issued, public_url=public_url, title=title, tick=tick), overwrite=True)


def write_sheet(issued: Sequence[IssuedRow], path: Path, *, public_url: str, title: str) -> None:
    stage_sheet(issued, path, public_url=public_url, title=title).publish()


@dataclass(frozen=True)
class SmsRow:
    """One text to one resident: the link and the PIN (shown only here, once), and what identifies the row."""

    phone: str  # empty when the record has none on file (the clerk then calls or posts)
    record_id: str
    document_number: str
    name: str
    pickup_url: str  # the https pickup page: what the text message links to
    offer_uri: str
    pin: str
    expires_at: int  # unix seconds; written as a Beijing date and time (expiry_text)

    @classmethod
    def of_offer(cls, offer: Offer, *, public_url: str, phone: str, record_id: str, document_number: str,
                 name: str) -> SmsRow:
        return cls(phone, record_id, document_number, name, pickup_url(public_url, offer.offer_id),
                   offer_uri(public_url, offer.offer_id), offer.tx_code, offer.expires_at)

    @classmethod
    def of_bulk(cls, row: IssuedRow, public_url: str) -> SmsRow:
        return cls.of_offer(row.offer, public_url=public_url, phone=row.phone, record_id=row.record_id,
                            document_number=row.document_number, name=row.name)


SMS_COLUMNS = tuple(f.name for f in fields(SmsRow))


def sms_csv_text(rows: Iterable[SmsRow], *, header: bool = True) -> tuple[str, int]:
    """The SMS batch as CSV (header SMS_COLUMNS, unless ``header`` is false) and its row count."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(SMS_COLUMNS)
    written = 0
    for row in rows:
        values = [expiry_text(row.expires_at) if name == "expires_at" else getattr(row, name) for name in SMS_COLUMNS]
        writer.writerow([csv_safe(str(value)) for value in values])
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


def csv_safe(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
