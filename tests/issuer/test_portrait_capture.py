"""From an upload to the portrait the credentials carry: caps before decoding, metadata gone, the format."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin

from credential.portrait import media_type_of
from issuer.portrait.capture import (
    MAX_PIXELS,
    MAX_PORTRAIT_BYTES,
    MAX_UPLOAD,
    PORTRAIT_SIZE,
    PortraitRejectedError,
    PortraitTooLargeError,
    make_portrait,
)
from tests.portrait_support import encoded, source_image


def jpeg_with_exif(orientation: int = 1, *, rotated: Image.Image | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "CameraMaker"  # Make
    gps = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 50.0)}  # 北京 (the GPS IFD)
    exif[0x8825] = gps
    return encoded(rotated if rotated is not None else source_image(), "JPEG", quality=90, exif=exif.tobytes())


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int, height: int) -> bytes:
    """A tiny file whose header claims width × height pixels (the IDAT inflates to a few zero rows only)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\0" * (width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")


def test_a_photo_becomes_a_small_webp_of_the_chosen_size() -> None:
    portrait = make_portrait(encoded(source_image(), "PNG"))
    assert media_type_of(portrait) == "image/webp"
    assert len(portrait) <= MAX_PORTRAIT_BYTES
    with Image.open(io.BytesIO(portrait)) as image:
        assert image.size == PORTRAIT_SIZE and image.mode == "RGB"


def test_exif_with_gps_is_stripped_and_the_orientation_applied() -> None:
    upright = source_image()
    upload = jpeg_with_exif(6, rotated=upright.transpose(Image.Transpose.ROTATE_90))  # stored turned, EXIF says so
    assert b"CameraMaker" in upload
    portrait = make_portrait(upload)
    assert b"Exif" not in portrait and b"CameraMaker" not in portrait and b"XMP" not in portrait
    with Image.open(io.BytesIO(portrait)) as image:
        assert not image.getexif() and "icc_profile" not in image.info and image.size == PORTRAIT_SIZE
        # The orientation was applied: the result is the upright face, close to the portrait of the upright photo.
        reference = Image.open(io.BytesIO(make_portrait(encoded(upright, "PNG")))).convert("L")
        difference = sum(abs(a - b) for a, b in zip(image.convert("L").tobytes(), reference.tobytes(), strict=True))
        assert difference / (PORTRAIT_SIZE[0] * PORTRAIT_SIZE[1]) < 12


def test_png_text_chunks_and_icc_profiles_are_stripped() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "SECRET-AUTHOR")
    info.add_itxt("Location", "北京市朝阳区 SECRET-PLACE", zip=True)
    upload = encoded(source_image(), "PNG", pnginfo=info, icc_profile=b"\0" * 128)
    assert b"SECRET-AUTHOR" in upload
    portrait = make_portrait(upload)
    assert b"SECRET" not in portrait
    with Image.open(io.BytesIO(portrait)) as image:
        assert image.info.keys() <= {"loop", "background", "duration", "timestamp"}  # WebP decoder defaults only


def test_transparency_is_laid_on_white() -> None:
    cut_out = source_image().convert("RGBA")
    cut_out.putalpha(0)
    with Image.open(io.BytesIO(make_portrait(encoded(cut_out, "PNG")))) as image:
        assert min(image.convert("L").tobytes()) > 200


def test_too_large_an_upload_is_refused_before_decoding() -> None:
    with pytest.raises(PortraitTooLargeError) as refused:
        make_portrait(b"\xff\xd8\xff" + bytes(MAX_UPLOAD))
    assert refused.value.reason == "too_large" and refused.value.http_status == 413


def test_too_many_pixels_is_refused_from_the_header() -> None:
    side = int(MAX_PIXELS ** 0.5) + 10
    with pytest.raises(PortraitTooLargeError) as refused:
        make_portrait(bomb_png(side, side))
    assert refused.value.reason == "too_many_pixels"


def test_a_decompression_bomb_is_refused_without_inflating_it() -> None:
    bomb = bomb_png(60_000, 60_000)  # 3.6 gigapixels in a few hundred bytes
    assert len(bomb) < 2000
    with pytest.raises(PortraitTooLargeError):
        make_portrait(bomb)


@pytest.mark.parametrize("upload", [
    pytest.param(b"", id="empty"),
    pytest.param(b"GIF89a" + bytes(100), id="gif"),
    pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
    pytest.param(b"\xff\xd8\xff" + b"not really a jpeg" * 20, id="broken jpeg"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, id="broken png"),
    pytest.param(encoded(source_image(), "WEBP"), id="webp is not an upload format"),
])
def test_what_is_not_a_jpeg_or_png_photo_is_refused(upload: bytes) -> None:
    with pytest.raises(PortraitRejectedError) as refused:
        make_portrait(upload)
    assert refused.value.reason in ("not_an_image", "unreadable")
    assert refused.value.http_status == 400


def test_a_photo_smaller_than_the_portrait_is_refused() -> None:
    with pytest.raises(PortraitRejectedError) as refused:
        make_portrait(encoded(source_image().resize((80, 100)), "JPEG"))
    assert refused.value.reason == "too_small"


def test_a_huge_png_text_chunk_is_refused() -> None:
    base = encoded(source_image(), "PNG")
    flood = png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * (64 * 1024 * 1024), 9))
    upload = base[:33] + flood + base[33:]  # after IHDR
    assert len(upload) < MAX_UPLOAD
    with pytest.raises(PortraitRejectedError) as refused:
        make_portrait(upload)
    assert refused.value.reason == "unreadable"  # Pillow's text-chunk limit, while decoding
