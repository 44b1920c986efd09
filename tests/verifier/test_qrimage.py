"""decode_qr_image(): real PNG/JPEG images made with qrcode, read back with zxing-cpp."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
import qrcode
from PIL import Image

from credential.errors import MalformedError, TooLargeError
from tests.verifier.conftest import World
from verifier.qrimage import MAX_IMAGE_FILE, decode_qr_image


def test_png_made_with_qrcode_decodes_to_the_same_text(world: World, tmp_path: Path) -> None:
    text = world.live_qr()
    path = tmp_path / "pass.png"
    qrcode.make(text).save(path)
    assert decode_qr_image(path) == text
    assert decode_qr_image(str(path)) == text
    assert decode_qr_image(path.read_bytes()) == text


def test_jpeg_photo_like_image(world: World, tmp_path: Path) -> None:
    text = world.static_qr()
    png = io.BytesIO()
    qrcode.make(text).save(png)
    image = Image.open(io.BytesIO(png.getvalue())).convert("RGB").rotate(8, expand=True, fillcolor="white")
    path = tmp_path / "photo.jpg"
    image.resize((image.width // 2, image.height // 2)).save(path, quality=60)
    assert decode_qr_image(path) == text


def test_image_without_a_qr_code(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(path)
    with pytest.raises(MalformedError, match="no QR code found"):
        decode_qr_image(path)


def test_not_an_image_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MalformedError):
        decode_qr_image(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(MalformedError):
        decode_qr_image(tmp_path / "nothing.png")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels and holds none: the cap must act on the header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_size_caps() -> None:
    with pytest.raises(TooLargeError):
        decode_qr_image(b"\0" * (MAX_IMAGE_FILE + 1))
    with pytest.raises(TooLargeError):  # beyond Pillow's own bomb limit
        decode_qr_image(png_header_only(50_000, 50_000))
    with pytest.raises(TooLargeError, match="pixel"):  # below Pillow's 89 Mpx, above our 40 Mpx
        decode_qr_image(png_header_only(7_000, 7_000))
    with pytest.raises(MalformedError):  # a small declared size passes the cap, then fails to decode
        decode_qr_image(png_header_only(100, 100))
