"""The test portrait (tests/vectors/portrait/README.md) and image files made from it, in memory."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.vectors_path import PORTRAIT_SOURCE


def source_image() -> Image.Image:
    with Image.open(PORTRAIT_SOURCE) as image:
        return image.convert("RGB")


def encoded(image: Image.Image, image_format: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def small_portrait(image_format: str = "JPEG", size: tuple[int, int] = (96, 120), **options: Any) -> bytes:
    """A compact portrait file like the issuer's (the issuer's own encoder is tested in tests/issuer)."""
    return encoded(source_image().resize(size, Image.Resampling.LANCZOS), image_format, **options)
