"""The portrait code: byte mode or base45 (alphanumeric mode), QR versions at EC levels L and M, and whether
one image of the wallet's screen gives zxing-cpp both codes.

The portraits are the issuer's (issuer.portrait.capture on the vendored public-domain test photo: 96×120 WebP)
and, for comparison, the same photo at other sizes and formats. The pass beside it is the live basic view
of the sample permit with a portrait digest, as the wallet shows it. The frame check draws both codes side
by side (epermit.wallet.display) and reads them from the clean image and from phone-photo-like copies (tilt,
perspective, blur, JPEG). Sizes and counts only: no timing.

Run: python -m bench.portrait_code  (prints the table docs/portrait.md quotes; writes bench/results/portrait_code.json)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants
import qrcode.util

from credential.base45 import b45encode
from credential.errors import MalformedError
from credential.passclaims import PassView
from credential.qrpass import encode_pass, live_qr_text
from credential.samples import sample_permit
from epermit.wallet.display import pass_and_portrait_image
from keys import KeySigner
from tests.vectors.phone_photo import phone_photo
from tests.vectors.portrait_image import portrait_bytes
from verifier.qrimage import decode_qr_symbols

RESULT = Path(__file__).resolve().parent / "results" / "portrait_code.json"
LEVELS = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M}
AADHAAR_VERSION = 30  # UIDAI's secure QR code
VARIANTS = (("issuer", None, "WEBP", 20), ("72x90", (72, 90), "WEBP", 30), ("96x120", (96, 120), "WEBP", 30),
            ("96x120", (96, 120), "JPEG", 30), ("96x120", (96, 120), "AVIF", 30), ("120x150", (120, 150), "WEBP", 20))
PHOTOS = ((0, 0.0, 90), (7, 1.2, 70), (15, 1.0, 60), (4, 2.0, 50))  # tilt (degrees), blur (pixels), JPEG quality


def version(data: bytes | str, level: str) -> int | None:
    mode = qrcode.util.MODE_8BIT_BYTE if isinstance(data, bytes) else qrcode.util.MODE_ALPHA_NUM
    code = qrcode.QRCode(error_correction=LEVELS[level])
    code.add_data(qrcode.util.QRData(data if isinstance(data, bytes) else data.encode("ascii"), mode=mode))
    try:
        code.make(fit=True)
    except ValueError:  # more than version 40 holds
        return None
    return int(code.version)


def live_pass(portrait: bytes) -> str:
    signer, holder = KeySigner.generate(), KeySigner.generate()
    permit = sample_permit()
    permit = dataclasses.replace(permit, holder=dataclasses.replace(
        permit.holder, portrait_sha256=hashlib.sha256(portrait).digest()))
    cose = encode_pass(permit, signer=signer, holder_key=holder.public_key, status_uri="https://jzz.example.gov.cn/statuslists/7",
                       status_idx=123456, now=1_780_000_000, view=PassView.BASIC)
    return live_qr_text(cose, holder_signer=holder, now=1_780_000_100)


def frame_reads(text: str, portrait: bytes, folder: Path) -> list[dict[str, Any]]:
    image, _, _ = pass_and_portrait_image(text, portrait, box_size=4)
    screen = folder / "screen.png"
    image.save(screen)
    reads = []
    for n, (angle, blur, quality) in enumerate(PHOTOS):
        path = phone_photo(screen, folder / f"photo{n}.jpg", angle=angle, blur=blur, quality=quality)
        try:
            symbols = decode_qr_symbols(path)
        except MalformedError:
            symbols = []
        raws = [symbol.raw for symbol in symbols]
        reads.append({"angle": angle, "blur": blur, "quality": quality, "pass_read": text.encode("ascii") in raws, "portrait_read": portrait in raws})
    return reads


def main() -> None:
    rows = []
    for label, size, image_format, quality in VARIANTS:
        portrait = portrait_bytes(size=size, fmt=image_format, quality=quality)
        text = b45encode(portrait)
        rows.append({"portrait": label, "format": image_format, "quality": quality, "bytes": len(portrait),
                     "byte_L": version(portrait, "L"), "byte_M": version(portrait, "M"), "base45_chars": len(text),
                     "base45_L": version(text, "L"), "base45_M": version(text, "M")})
    issuer = portrait_bytes()
    text = live_pass(issuer)
    with tempfile.TemporaryDirectory() as tmp:
        reads = frame_reads(text, issuer, Path(tmp))
    result = {"aadhaar_version": AADHAAR_VERSION, "rows": rows,
              "live_basic_pass": {"chars": len(text), "M": version(text, "M")}, "frame": reads}
    RESULT.parent.mkdir(exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    print("| portrait | format | bytes | byte mode L / M | base45 chars | base45 L / M |")
    print("| --- | --- | ---: | --- | ---: | --- |")
    for r in rows:
        print(f"| {r['portrait']} | {r['format']} q{r['quality']} | {r['bytes']} | {r['byte_L']} / {r['byte_M']} | "
              f"{r['base45_chars']} | {r['base45_L']} / {r['base45_M']} |")
    print(f"live basic pass: {len(text)} chars, version {version(text, 'M')} at M")
    for read in reads:
        print(f"photo tilt {read['angle']}°, blur {read['blur']}, JPEG q{read['quality']}: pass read "
              f"{read['pass_read']}, portrait read {read['portrait_read']}")


if __name__ == "__main__":
    main()
