"""Portrait formats: bytes per variant (size, colour, format, quality) and the QR version that carries them.

The test portrait (tests/vectors/portrait/, NASA, public domain) is resized with Lanczos as the issuer
does (issuer/portrait.py) and encoded with Pillow in JPEG (optimised Huffman tables), WebP (method 6) and
AVIF, greyscale and colour. Each file gets its PSNR in dB (the luma of the decoded file against the luma
of the resized image before encoding: formats' "quality" numbers do not mean the same thing, this does)
and its QR version in byte mode at EC levels L and M (the wallet's portrait code; version 25 holds 1,273
bytes at L and 997 at M). Sizes and fidelity only: no timing.

Run: python -m bench.portrait_formats  (prints the table docs/portrait.md quotes; writes bench/results/portrait_formats.json)
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import PIL
import qrcode
import qrcode.constants
from PIL import Image, ImageChops, features

SOURCE = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "portrait" / "astronaut-face.png"
RESULT = Path(__file__).resolve().parent / "results" / "portrait_formats.json"
SIZES = ((72, 90), (96, 120), (120, 150))
QUALITIES = (10, 20, 30, 40, 50, 60)
LEVELS = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M}


def qr_version(data: bytes, level: str) -> int | None:
    code = qrcode.QRCode(error_correction=LEVELS[level])
    code.add_data(data, optimize=0)  # bytes: byte mode
    try:
        code.make(fit=True)
    except ValueError:  # more than version 40 holds
        return None
    return int(code.version)


def encode(image: Image.Image, image_format: str, quality: int) -> bytes:
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": quality}
    if image_format == "JPEG":
        options.update(optimize=True)
    elif image_format == "WEBP":
        options.update(method=6)
    image.save(out, image_format, **options)
    return out.getvalue()


def psnr(reference: Image.Image, data: bytes) -> float:
    """Peak signal-to-noise ratio of the decoded luma against the reference's, in dB (higher is closer)."""
    with Image.open(io.BytesIO(data)) as decoded:
        difference = ImageChops.difference(reference.convert("L"), decoded.convert("L"))
    mse = _mse(difference)
    return 99.0 if mse == 0 else 10 * math.log10(255 * 255 / mse)


def _mse(difference: Image.Image) -> float:
    histogram = difference.histogram()
    return sum(count * value * value for value, count in enumerate(histogram)) / (difference.width * difference.height)


def run() -> list[dict[str, Any]]:
    formats = ["JPEG", "WEBP"] + (["AVIF"] if features.check("avif") else [])
    with Image.open(SOURCE) as source:
        colour = source.convert("RGB")
    rows: list[dict[str, Any]] = []
    for width, height in SIZES:
        resized = colour.resize((width, height), Image.Resampling.LANCZOS)
        for mode, image in (("colour", resized), ("grey", resized.convert("L"))):
            for image_format in formats:
                for quality in QUALITIES:
                    data = encode(image, image_format, quality)
                    rows.append({"size": f"{width}x{height}", "mode": mode, "format": image_format,
                                 "quality": quality, "bytes": len(data), "psnr": round(psnr(image, data), 1),
                                 "qr_L": qr_version(data, "L"), "qr_M": qr_version(data, "M")})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| size | mode | format | " + " | ".join(f"q{q}" for q in QUALITIES) + " |",
             "|---|---|---|" + "---:|" * len(QUALITIES)]
    keys = sorted({(r["size"], r["mode"], r["format"]) for r in rows},
                  key=lambda k: (int(k[0].split("x")[0]), k[1], k[2]))
    for size, mode, image_format in keys:
        cells = []
        for quality in QUALITIES:
            row = next(r for r in rows if (r["size"], r["mode"], r["format"], r["quality"])
                       == (size, mode, image_format, quality))
            cells.append(f"{row['bytes']} {row['psnr']} dB v{row['qr_L'] or '-'}/{row['qr_M'] or '-'}")
        lines.append(f"| {size} | {mode} | {image_format} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    rows = run()
    RESULT.write_text(json.dumps({"pillow": PIL.__version__, "rows": rows}, indent=1) + "\n", encoding="utf-8")
    print("bytes, PSNR of the luma, QR version in byte mode at EC L / EC M ('-': over version 40)\n")
    print(table(rows))


if __name__ == "__main__":
    main()
