"""QR code images of what the issuer hands out (pickup offers), as PNG bytes or a data: URI for a page.

One home for every QR the issuer side draws — the console's pickup sheet, the bulk sheet, the wallet API's
offer image, the command-line wallet — so that they share one error-correction level and quiet zone.
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.constants

QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks


def qr_png(text: str, *, box_size: int = 8) -> bytes:
    """``text`` as a QR code PNG at error-correction level M, the smallest version that holds it."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return out.getvalue()


def qr_svg(text: str) -> bytes:
    """The same code as an SVG document (one path: sharp at any print size)."""
    import qrcode.image.svg

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out)
    return out.getvalue()


def qr_terminal(text: str) -> str:
    """The same code drawn with block characters, for a terminal (dark on light: invert on a dark screen)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    out = io.StringIO()
    code.print_ascii(out=out, invert=True)
    return out.getvalue()


def qr_data_uri(text: str, *, box_size: int = 6) -> str:
    """The same PNG as a ``data:`` URI for an HTML page (the console's CSP allows ``img-src data:``)."""
    return "data:image/png;base64," + base64.b64encode(qr_png(text, box_size=box_size)).decode("ascii")
