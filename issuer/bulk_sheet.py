"""What the officer takes away from a bulk issuance: a printable HTML sheet and/or an SMS gateway CSV.

The sheet has one card per resident: the pickup QR (the offer URI, as an inline PNG data URI) and the PIN.
It holds secrets until the pickups are done: print it, hand the cards out, shred it (the file is 0600).
The SMS file has phone, offer URI and PIN for a gateway that texts the resident (who then scans or taps).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path

from issuer.bulk import IssuedRow
from issuer.http.records import offer_json


def qr_png_data_uri(text: str) -> str:
    import qrcode  # server extra; loaded only when a sheet is written

    image = qrcode.make(text, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _private_file(path: Path) -> io.TextIOWrapper:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return open(fd, "w", encoding="utf-8", newline="")


def write_sheet(issued: Sequence[IssuedRow], path: Path, *, public_url: str, title: str) -> None:
    cards = []
    for row in issued:
        uri = offer_json(row.offer, public_url)["offer_uri"]
        cards.append(
            '<div class="card">'
            f'<img alt="pickup QR" src="{qr_png_data_uri(uri)}">'
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
    with _private_file(path) as out:
        out.write(page)


def write_sms_csv(issued: Sequence[IssuedRow], path: Path, *, public_url: str) -> int:
    """phone,offer_uri,pin,expires_at for every row with a phone; returns how many rows were written."""
    written = 0
    with _private_file(path) as out:
        writer = csv.writer(out)
        writer.writerow(["phone", "offer_uri", "pin", "expires_at"])
        for row in issued:
            if row.phone:
                writer.writerow([row.phone, offer_json(row.offer, public_url)["offer_uri"], row.offer.tx_code,
                                 row.offer.expires_at])
                written += 1
    return written
