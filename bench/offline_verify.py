"""Offline verification per core, as a ratio of what no implementation can avoid for the same bytes.

- live QR text → result (issuer signature + holder proof + status lookup) vs its floor: 2 raw ES256 verifies
  with cryptography + base45 decode + zlib inflate + one CBOR decode of the same live text (the target row);
  also reported against 2 × raw ES256 verify alone;
- static QR text → result vs 1 × raw ES256 verify;
- QR photo → result vs (the same PNG bytes opened with Pillow and read by zxing-cpp as we call it: QR only,
  plain text) + 1 raw verify. Like with like: the reference scans no format we do not scan.
"""

from __future__ import annotations

import io
import json
import tempfile
import time
import zlib
from pathlib import Path

import cbor2
import zxingcpp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image

from bench.harness import Row, compare, print_table, rows_payload, write_result
from credential import qrpass
from credential.base45 import b45decode
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from credential.statuslist import StatusList, sign_status_list_token
from epermit.wallet.display import qr_code
from keys import KeyRing, KeySigner, Purpose
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.qrimage import decode_qr_image
from verifier.verify import verify

ISS = "https://jzz.example.gov.cn"
STATUS_URI = ISS + "/statuslists/1"


def prepared_cache(directory: Path, keyring: KeyRing, now: int) -> VerifierCache:
    cache = VerifierCache(directory)
    cache.pin_root(keyring.root_certificate.public_bytes(Encoding.PEM))
    trust = keyring.trust_list_token(issuer=ISS, now=now, version=now, status_lists=[STATUS_URI],
                                     aggregation_uri=ISS + "/statuslists")
    cache.accept_trust_list(trust, now)
    status = sign_status_list_token(StatusList(1 << 20), uri=STATUS_URI,
                                    signer=keyring.signer_for(Purpose.STATUS, now=now), now=now,
                                    ttl=300, exp=now + 86400)
    cache.accept_status_list(STATUS_URI, status, now)
    return cache


def run() -> list[Row]:
    now = int(time.time())
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now - 86400)
    holder = KeySigner.generate()
    permit = sample_permit()
    cose_pass = qrpass.encode_pass(permit, signer=keyring.signer_for(Purpose.CREDENTIAL, now=now),
                                   holder_key=holder.public_key,
                                   status_uri=STATUS_URI, status_idx=4242, now=now)
    live = qrpass.live_qr_text(cose_pass, holder_signer=holder, now=now)
    static = qrpass.pass_to_qr_text(cose_pass)
    image = qr_code(static).make_image().get_image()
    photo = io.BytesIO()
    image.save(photo, format="PNG")
    photo_bytes = photo.getvalue()
    raw_key = ec.generate_private_key(ec.SECP256R1())
    raw_public = raw_key.public_key()
    message = b"x" * 600
    raw_sig = raw_key.sign(message, ec.ECDSA(hashes.SHA256()))
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)

    def raw_verify() -> None:
        raw_public.verify(raw_sig, message, ec.ECDSA(hashes.SHA256()))

    def live_floor() -> None:
        raw_public.verify(raw_sig, message, ec.ECDSA(hashes.SHA256()))
        raw_public.verify(raw_sig, message, ec.ECDSA(hashes.SHA256()))
        cbor2.loads(zlib.decompress(b45decode(live[len(qrpass.QR_PREFIX):])))

    def photo_decode() -> None:
        pil = Image.open(io.BytesIO(photo_bytes))
        pil.load()
        zxingcpp.read_barcodes(pil, formats=qr_only, text_mode=zxingcpp.TextMode.Plain)

    with tempfile.TemporaryDirectory() as tmp:
        cache = prepared_cache(Path(tmp), keyring, now)
        policy = Policy()
        for text, expected_live in ((live, True), (static, False)):
            result = verify(text, cache, policy=policy, now=now)
            assert result.result == "VALID" and result.live is expected_live, result
        rates = compare({
            "raw ES256 verify": raw_verify,
            "live floor (2 verifies + base45 + inflate + CBOR)": live_floor,
            "PNG open + zxing-cpp QR-only decode": photo_decode,
            "live QR text -> result": lambda: verify(live, cache, policy=policy, now=now),
            "static QR text -> result": lambda: verify(static, cache, policy=policy, now=now),
            "QR photo -> result": lambda: verify(decode_qr_image(photo_bytes), cache, policy=policy, now=now),
        })
    raw = rates["raw ES256 verify"].seconds_per_op
    live_op = rates["live QR text -> result"].seconds_per_op
    floor_ratio = rates["live floor (2 verifies + base45 + inflate + CBOR)"].seconds_per_op / live_op
    live_ratio = (2 * raw) / live_op
    static_ratio = raw / rates["static QR text -> result"].seconds_per_op
    photo_limit = rates["PNG open + zxing-cpp QR-only decode"].seconds_per_op + raw
    photo_ratio = photo_limit / rates["QR photo -> result"].seconds_per_op
    print_table("Offline verification per core", ("operation", "ops/s", "ms/op"),
                [(n, f"{r.ops_per_second:,.0f}", f"{r.seconds_per_op * 1000:.3f}") for n, r in rates.items()])
    print(f"\nlive: {floor_ratio:.0%} of its floor, {live_ratio:.0%} of 2 raw verifies; static: {static_ratio:.0%} of 1 raw verify; "
          f"photo: {photo_ratio:.0%} of (decode + 1 raw verify)")
    rows = [
        Row("verify_live_vs_floor", round(floor_ratio, 3), "ratio", ">= 0.80", floor_ratio >= 0.8,
            against="2 raw ES256 verifies + base45 + inflate + CBOR decode of the same text"),
        Row("verify_live_vs_2x_raw", round(live_ratio, 3), "ratio", "(reported)", True,
            against="2 raw ES256 verifies (cryptography, loaded key)"),
        Row("verify_static_vs_1x_raw", round(static_ratio, 3), "ratio", "(reported)", True,
            against="1 raw ES256 verify (cryptography, loaded key)"),
        Row("verify_photo_vs_decode_plus_raw", round(photo_ratio, 3), "ratio", "(reported)", True,
            against="Pillow open + zxing-cpp QR-only plain decode of the same PNG + 1 raw verify"),
    ]
    write_result("offline_verify", {"ops_per_second": {k: v.ops_per_second for k, v in rates.items()},
                                    "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
