"""The QR a wallet shows, as an image file or on a terminal: error correction M, as DESIGN §8 measures it.

"EP1:" and base45 are all in QR's alphanumeric set, so the encoder picks alphanumeric mode by itself.
The portrait code (credential.portraitcode) is binary, in byte mode, drawn beside the pass in one image so
that one camera frame holds both (docs/portrait.md).
"""

from __future__ import annotations

import io
from pathlib import Path

import qrcode
import qrcode.constants
import qrcode.util
from PIL import Image

from credential.portraitcode import encode_portrait_code
from keys.keystore import write_private_file

QUIET_ZONE = 4
# The largest portrait code a landlord's phone reads beside the pass in one frame (issue 18: Aadhaar's secure
# QR is version 30). Level M while it fits this, else L: a screen is flat and clean, L is enough there.
MAX_PORTRAIT_VERSION = 25


def qr_code(text: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(text)
    code.make(fit=True)
    return code


def portrait_qr_code(portrait: bytes) -> qrcode.QRCode:
    """The portrait code for P: byte mode, level M if that fits version MAX_PORTRAIT_VERSION, else L."""
    content = encode_portrait_code(portrait)
    for level in (qrcode.constants.ERROR_CORRECT_M, qrcode.constants.ERROR_CORRECT_L):
        code = qrcode.QRCode(error_correction=level, border=QUIET_ZONE)
        code.add_data(qrcode.util.QRData(content, mode=qrcode.util.MODE_8BIT_BYTE))
        code.make(fit=True)
        if code.version <= MAX_PORTRAIT_VERSION:
            break
    return code


def pass_and_portrait_image(text: str, portrait: bytes, *, box_size: int = 6) -> tuple[Image.Image, int, int]:
    """The pass and its portrait code side by side, with the same module size, on one white image (what the
    wallet's screen shows); also both QR versions."""
    pass_code, portrait_code = qr_code(text), portrait_qr_code(portrait)
    images = []
    for code in (pass_code, portrait_code):
        code.box_size = box_size
        images.append(code.make_image().get_image().convert("L"))
    width, height = images[0].width + images[1].width, max(image.height for image in images)
    canvas = Image.new("L", (width, height), 255)
    canvas.paste(images[0], (0, (height - images[0].height) // 2))
    canvas.paste(images[1], (images[0].width, (height - images[1].height) // 2))
    return canvas, int(pass_code.version), int(portrait_code.version)


def write_pass_and_portrait_png(text: str, portrait: bytes, path: Path, *, box_size: int = 6) -> tuple[int, int]:
    """One PNG (0600: it holds a face) with the pass and the portrait code; their QR versions."""
    image, pass_version, portrait_version = pass_and_portrait_image(text, portrait, box_size=box_size)
    out = io.BytesIO()
    image.save(out, format="PNG")
    write_private_file(path, out.getvalue(), overwrite=True)
    return pass_version, portrait_version


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
