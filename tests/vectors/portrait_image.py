"""Portraits for the portrait-code tests: seed 0 is the public-domain test portrait (tests/portrait_support,
NASA's astronaut photo vendored in tests/vectors/portrait/), any other seed a face-like picture drawn with
Pillow (shapes, shading and noise, so that it compresses as a photo does): another person, for a mismatch.

``portrait_bytes()`` is P as the issuer produces it (issuer.portrait.capture: 96×120 WebP, under 997 bytes);
other sizes and formats are for measuring.
"""

from __future__ import annotations

import io
import random
from typing import cast

from PIL import Image, ImageDraw, ImageFilter

from issuer.portrait.capture import make_portrait
from tests.portrait_support import source_image


def _drawn(seed: int) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", (240, 300), (96 + seed % 40, 120, 150))
    draw = ImageDraw.Draw(image)
    draw.ellipse((50, 40, 190, 230), fill=(224, 180, 150))  # face
    draw.ellipse((40, 20, 200, 110), fill=(40, 30, 25))  # hair
    for x in (90, 150):
        draw.ellipse((x - 12, 120, x + 12, 136), fill=(250, 250, 250))
        draw.ellipse((x - 5, 122, x + 5, 134), fill=(50, 40, 30))
    draw.polygon([(120, 135), (110, 175), (130, 175)], fill=(200, 150, 125))
    draw.arc((90, 175, 150, 210), 20, 160, fill=(150, 60, 60), width=5)
    draw.rectangle((30, 240, 210, 300), fill=(30, 50, 90))  # shoulders
    pixels = image.load()
    assert pixels is not None
    for _ in range(6000):
        x, y = rng.randrange(240), rng.randrange(300)
        r, g, b = cast(tuple[int, int, int], pixels[x, y])  # an RGB image's pixel
        d = rng.randint(-25, 25)
        pixels[x, y] = (max(0, min(255, r + d)), max(0, min(255, g + d)), max(0, min(255, b + d)))
    return image.filter(ImageFilter.GaussianBlur(1.2))


def _source(seed: int) -> Image.Image:
    return source_image() if seed == 0 else _drawn(seed)


def upload(seed: int = 0) -> bytes:
    """The photo an officer would upload (PNG)."""
    out = io.BytesIO()
    _source(seed).save(out, "PNG")
    return out.getvalue()


def portrait_bytes(*, seed: int = 0, size: tuple[int, int] | None = None, fmt: str = "WEBP",
                   quality: int = 30) -> bytes:
    """A small portrait file P, as the issuer makes it unless ``size`` asks for another; another ``seed``
    gives another face (for a mismatch)."""
    if size is None:
        return make_portrait(upload(seed))
    image = _source(seed).resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, fmt, quality=quality)
    return out.getvalue()
