"""A phone photo of a wallet's screen, made from the screen's image: on a grey desk, tilted, in perspective,
blurred and saved as a JPEG (web/tools/make_photos.py makes harsher ones for the decoder comparison)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageFilter

DESK = 170  # grey


def phone_photo(screen_png: Path, target: Path, *, angle: float = 7, blur: float = 1.2, quality: int = 70) -> Path:
    screen = Image.open(screen_png).convert("L")
    desk = Image.new("L", (screen.width + 240, screen.height + 240), DESK)  # 120 px of desk round the screen
    desk.paste(screen, (120, 120))
    tilted = desk.rotate(angle, expand=True, fillcolor=DESK, resample=Image.Resampling.BILINEAR)
    w, h = tilted.size
    skewed = tilted.transform((w, h), Image.Transform.QUAD, (30, 0, 0, h, w, h - 40, w - 20, 25), fillcolor=DESK)
    out = io.BytesIO()
    skewed.filter(ImageFilter.GaussianBlur(blur)).save(out, "JPEG", quality=quality)
    target.write_bytes(out.getvalue())
    return target
