"""Read the QR codes in a photo or screenshot with zxing-cpp (DESIGN §9: it reads harsh photos in < 1 ms).

The verifier decodes QR images itself because generic phone camera apps mangle base45's "%" and space.
The file and its pixel count are bounded before anything is decoded (a decompression bomb stops here).
One frame may hold two symbols, the pass and the portrait code (credential.portraitcode): zxing-cpp returns
every symbol it finds, each with its raw bytes (a portrait code is binary: its text would be mangled).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from credential.errors import MalformedError, TooLargeError
from credential.portraitcode import is_portrait_code
from credential.qrpass import QR_PREFIX

if TYPE_CHECKING:  # Pillow and zxing-cpp load with the first image: a pasted QR text needs neither
    from PIL import Image

MAX_IMAGE_FILE = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a 48-megapixel phone photo downscaled once; more is not a scan


def _read(source: str | Path | bytes) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        try:
            with Path(source).open("rb") as handle:
                data = handle.read(MAX_IMAGE_FILE + 1)
        except OSError as exc:
            raise MalformedError(f"cannot read image: {exc.strerror or exc}") from exc
    if len(data) > MAX_IMAGE_FILE:
        raise TooLargeError("image file", MAX_IMAGE_FILE)
    return data


@dataclass(frozen=True)
class Symbol:
    text: str  # as zxing-cpp reads it (plain): the pass's base45 text
    raw: bytes  # the symbol's bytes as encoded: a portrait code's image


def decode_qr_symbols(source: str | Path | bytes) -> list[Symbol]:
    """Every QR symbol in an image file (path or bytes), in zxing-cpp's order; MalformedError if none."""
    data = _read(source)
    import zxingcpp
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = image.size  # read from the header, before any pixel is decoded
            if width * height > MAX_IMAGE_PIXELS:
                raise TooLargeError("image pixel count", MAX_IMAGE_PIXELS)
            image.load()
            if image.mode not in ("L", "RGB"):  # zxing-cpp reads luminance: grey is all it needs (a 1-bit or
                image = image.convert("L")      # palette QR to RGB cost more than the decode itself)
    except TooLargeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # Pillow's own, larger cap
        raise TooLargeError("image pixel count", MAX_IMAGE_PIXELS) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise MalformedError(f"not a readable image ({type(exc).__name__})") from exc
    barcodes = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode), text_mode=zxingcpp.TextMode.Plain
    )
    symbols = [Symbol(barcode.text, bytes(barcode.bytes)) for barcode in barcodes if barcode.valid and barcode.bytes]
    if not symbols:
        raise MalformedError("no QR code found")
    return symbols


def pass_text(symbols: list[Symbol]) -> str:
    """The text of the pass among a frame's symbols: an ``EP1:`` pass, else the first that is no portrait."""
    texts = [symbol.text for symbol in symbols if not is_portrait_code(symbol.raw)]
    if not texts:
        raise MalformedError("no pass QR code found (only a portrait code)")
    return next((text for text in texts if text.startswith(QR_PREFIX)), texts[0])


def portrait_codes(symbols: list[Symbol]) -> list[bytes]:
    """The raw bytes of every portrait code among a frame's symbols."""
    return [symbol.raw for symbol in symbols if is_portrait_code(symbol.raw)]


def decode_qr_image(source: str | Path | bytes) -> str:
    """The text of the pass QR code in an image file (path or bytes); an ``EP1:`` pass is preferred if several."""
    return pass_text(decode_qr_symbols(source))
