"""From an officer's upload (JPEG or PNG) to the portrait the credentials carry: a 96×120 colour WebP.

Every cap holds before the expensive step it guards: the upload's size before Pillow sees it, the format
by its first bytes, the pixel count from the header before any pixel is decoded (a decompression bomb is a
small file that claims a huge image: refused here, never inflated), and Pillow's own text-chunk limits
while decoding. The portrait is then made from the pixels alone: the EXIF orientation is applied and
every piece of metadata (EXIF with its GPS position, XMP, ICC, PNG text chunks, comments) stays behind,
since the new image is built from raw RGB bytes. The 4:5 frame is cut from the centre (an ID photo's
head and shoulders; the officer sees the preview before it is kept), resized with Lanczos and encoded at
the quality of docs/portrait.md, lowered step by step should a very detailed photo exceed the byte budget
that keeps the portrait QR code at version 25 or below at EC level M.
"""

from __future__ import annotations

import io
import struct
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from issuer.errors import InvalidRequestError

MAX_UPLOAD = 5 * 1024 * 1024  # a phone photo is 2-5 MB; an office scanner's JPEG less
# About 7,700 × 5,200: a camera's photo, not a bomb's claim. A PNG is decoded whole (4 bytes a pixel at most:
# 160 MB); a JPEG at 1/8 scale when that covers the portrait (draft), so a big one costs little.
MAX_PIXELS = 40_000_000
PORTRAIT_SIZE = (96, 120)  # 4:5, width × height (docs/portrait.md)
PORTRAIT_MEDIA_TYPE = "image/webp"
QUALITIES = (20, 15, 10, 5)  # the first is docs/portrait.md's choice; the rest only for very detailed photos
MAX_PORTRAIT_BYTES = 997  # byte mode, version 25, EC level M: the wallet's portrait code
_UPLOAD_FORMATS = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}


class PortraitRejectedError(InvalidRequestError):
    """The upload cannot become a portrait; ``reason`` is a stable code, the message says it in words."""

    error = "invalid_portrait"

    def __init__(self, reason: str, description: str) -> None:
        super().__init__(description)
        self.reason = reason


class PortraitTooLargeError(PortraitRejectedError):
    http_status = 413


def upload_format(upload: bytes) -> str:
    for magic, image_format in _UPLOAD_FORMATS.items():
        if upload.startswith(magic):
            return image_format
    raise PortraitRejectedError("not_an_image", "the upload is not a JPEG or PNG photo")


def make_portrait(upload: bytes) -> bytes:
    """The portrait file P for an uploaded JPEG or PNG photo; PortraitRejectedError for anything else."""
    if not isinstance(upload, bytes):
        raise PortraitRejectedError("not_an_image", "the upload is not a JPEG or PNG photo")
    if len(upload) > MAX_UPLOAD:
        raise PortraitTooLargeError("too_large", f"the photo is larger than {MAX_UPLOAD // (1024 * 1024)} MiB")
    image_format = upload_format(upload)
    pixels = _decoded(upload, image_format)
    return _encode(_framed(pixels))


def _decoded(upload: bytes, image_format: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload), formats=[image_format])  # reads the header only
            width, height = image.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise PortraitTooLargeError("too_many_pixels",
                                            f"the photo has more than {MAX_PIXELS:,} pixels ({width}×{height})")
            if image_format == "JPEG":  # decode at 1/2..1/8 scale when that still covers the portrait
                image.draft("RGB", (PORTRAIT_SIZE[0] * 2, PORTRAIT_SIZE[1] * 2))
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = _flattened(upright)
        if rgb.width < PORTRAIT_SIZE[0] or rgb.height < PORTRAIT_SIZE[1]:  # an enlarged thumbnail shows no face
            raise PortraitRejectedError("too_small", f"the photo is smaller than {PORTRAIT_SIZE[0]}×{PORTRAIT_SIZE[1]} "
                                                     "pixels: take a larger one")
    except PortraitRejectedError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PortraitTooLargeError("too_many_pixels", "the photo claims too many pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise PortraitRejectedError("unreadable", "the photo cannot be read as a JPEG or PNG image") from exc
    # Raw pixels only: nothing of the file (EXIF, GPS, XMP, ICC, text chunks) reaches the new image.
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def _flattened(image: Image.Image) -> Image.Image:
    """RGB, any transparency laid on white (a PNG cut-out keeps a light background, as ID photos have)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _framed(image: Image.Image) -> Image.Image:
    """The centred 4:5 frame, resized to PORTRAIT_SIZE."""
    width, height = image.size
    target_w, target_h = PORTRAIT_SIZE
    if width * target_h > height * target_w:  # wider than 4:5: cut the sides
        crop_w = max(1, height * target_w // target_h)
        box = ((width - crop_w) // 2, 0, (width - crop_w) // 2 + crop_w, height)
    else:  # taller: cut top and bottom evenly
        crop_h = max(1, width * target_h // target_w)
        box = (0, (height - crop_h) // 2, width, (height - crop_h) // 2 + crop_h)
    return image.resize(PORTRAIT_SIZE, Image.Resampling.LANCZOS, box=box)


def _encode(image: Image.Image) -> bytes:
    for quality in QUALITIES:
        out = io.BytesIO()
        image.save(out, "WEBP", quality=quality, method=6, exif=b"", icc_profile=None, xmp=b"")
        if len(out.getvalue()) <= MAX_PORTRAIT_BYTES:
            return out.getvalue()
    raise PortraitRejectedError("too_detailed", "the photo does not fit the portrait's size even at the lowest "
                                                "quality: take it against a plain background")
