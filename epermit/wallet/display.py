"""The QR a wallet shows, as an image file or on a terminal: error correction M, as DESIGN §8 measures it.

"EP1:" and base45 are all in QR's alphanumeric set, so the encoder picks alphanumeric mode by itself.
"""

from __future__ import annotations

import io
from pathlib import Path

import qrcode
import qrcode.constants

from keys.keystore import write_private_file

QUIET_ZONE = 4


def qr_code(text: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    return code


def write_qr_png(text: str, path: Path, *, box_size: int = 6) -> int:
    """Write the QR as a PNG, readable by its owner only (a full pass is personal data); its QR version."""
    code = qr_code(text)
    code.box_size = box_size
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    write_private_file(path, out.getvalue(), overwrite=True)
    return int(code.version)


def terminal_qr(text: str) -> str:
    """The QR as text for a terminal (two rows per line with half blocks)."""
    out = io.StringIO()
    qr_code(text).print_ascii(out=out, invert=True)
    return out.getvalue()
