"""Photo-like QR images for the decoder comparison: rotated, blurred, low-contrast, noisy, perspective.

python web/tools/make_photos.py OUT_DIR  (uses the shared test vectors' QR texts; writes .rgba + index.json)
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageEnhance, ImageFilter

from tests.vectors.generate_web_vectors import generate


def distortions(img: Image.Image, rng: random.Random) -> dict[str, Image.Image]:
    base = img.convert("L")
    w, h = base.size
    canvas = Image.new("L", (w + 200, h + 200), 200)
    canvas.paste(base, (100, 100))
    out = {"clean": canvas}
    out["rot17"] = canvas.rotate(17, expand=True, fillcolor=200)
    out["rot45"] = canvas.rotate(45, expand=True, fillcolor=200)
    out["blur2"] = canvas.filter(ImageFilter.GaussianBlur(2))
    out["blur3.5"] = canvas.filter(ImageFilter.GaussianBlur(3.5))
    out["lowcontrast"] = ImageEnhance.Contrast(canvas).enhance(0.25)
    out["dark_low"] = ImageEnhance.Brightness(ImageEnhance.Contrast(canvas).enhance(0.3)).enhance(0.45)
    noisy = canvas.copy()
    px = noisy.load()
    for y in range(noisy.size[1]):
        for x in range(noisy.size[0]):
            px[x, y] = max(0, min(255, px[x, y] + int(rng.gauss(0, 45))))
    out["noise45"] = noisy
    cw, ch = canvas.size
    out["perspective"] = canvas.transform((cw, ch), Image.Transform.QUAD,
                                          (40, 0, 0, ch, cw, ch - 60, cw - 30, 30), fillcolor=200)
    out["small"] = canvas.resize((cw * 2 // 5, ch * 2 // 5), Image.Resampling.BILINEAR)
    out["rot_blur_low"] = ImageEnhance.Contrast(canvas.rotate(8, expand=True, fillcolor=200)
                                                .filter(ImageFilter.GaussianBlur(1.5))).enhance(0.4)
    return out


def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)  # noqa: S311 - reproducible image noise, not a secret
    with tempfile.TemporaryDirectory() as tmp:
        vectors = generate(Path(tmp), base_url="http://127.0.0.1:8080")
        index = []
        for name in ("valid_live", "valid_static", "revoked"):
            img = Image.open(Path(tmp) / f"{name}.png")
            for kind, photo in distortions(img, rng).items():
                rgba = photo.convert("RGBA")
                stem = f"{name}-{kind}"
                (target / f"{stem}.rgba").write_bytes(rgba.tobytes())
                rgba.convert("RGB").save(target / f"{stem}.jpg", quality=80)
                index.append({"file": f"{stem}.rgba", "jpg": f"{stem}.jpg", "width": rgba.width,
                              "height": rgba.height, "text": vectors.vectors[name], "kind": kind})
    (target / "index.json").write_text(json.dumps(index), "utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
