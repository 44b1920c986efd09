"""QR size: characters and QR version at EC levels M and Q for the reference permit, ours and two peers.

The peers are built here from the same data: an EU-DCC-style HC1 encoding (CBOR with text claim names,
COSE_Sign1 ES256, zlib, base45) and a SMART-Health-Card-style JWS (JSON, raw DEFLATE, ES256, `shc:/` numeric).
"""

from __future__ import annotations

import json
import time
import zlib

import cbor2
import qrcode
import qrcode.constants

from bench.harness import Row, print_table, rows_payload, write_result
from credential import base45, cose, qrpass
from credential.encoding import b64url_encode, json_dumps
from credential.samples import sample_permit
from keys.signers import KeySigner

STATUS_URI = "https://jzz.example.gov.cn/statuslists/7"  # a realistic city-scale status list URI
LEVELS = {"M": qrcode.constants.ERROR_CORRECT_M, "Q": qrcode.constants.ERROR_CORRECT_Q}


def qr_version(text: str, level: str) -> int:
    code = qrcode.QRCode(error_correction=LEVELS[level])
    code.add_data(text)
    code.make(fit=True)
    return int(code.version)


def peer_claims() -> dict[str, object]:
    permit = sample_permit()
    holder = permit.holder
    return {
        "nam": {"fn": holder.name, "fnt": holder.name_pinyin},
        "sex": "M" if holder.sex == 1 else "F",
        "eth": "汉族",
        "dob": holder.birth_date.isoformat(),
        "cid": holder.citizen_id,
        "adr": holder.address,
        "no": permit.document_number,
        "is": permit.authority_name,
        "vf": permit.valid_from.isoformat(),
        "vu": permit.valid_until.isoformat(),
        "st": {"idx": 1234567, "uri": STATUS_URI},
    }


def dcc_style(signer: KeySigner, now: int) -> str:
    payload = cbor2.dumps({1: "CN", 6: now, 4: now + 365 * 86400, -260: {1: peer_claims()}})
    message = cose.sign1(payload, signer=signer, typ=0, kid=bytes(8)).encode()
    return "HC1:" + base45.b45encode(zlib.compress(message, 9))


def shc_style(signer: KeySigner, now: int) -> str:
    header = b64url_encode(json_dumps({"alg": "ES256", "zip": "DEF", "kid": signer.kid}))
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE, as SMART Health Cards require
    body = deflater.compress(json_dumps({"iss": "https://jzz.example.gov.cn", "nbf": now, "vc": peer_claims()}))
    payload = b64url_encode(body + deflater.flush())
    signing_input = f"{header}.{payload}"
    jws = signing_input + "." + b64url_encode(signer.sign(signing_input.encode("ascii")))
    return "shc:/" + "".join(f"{ord(c) - 45:02d}" for c in jws)


def run() -> list[Row]:
    now = int(time.time())
    issuer, holder = KeySigner.generate(), KeySigner.generate()
    cose_pass = qrpass.encode_pass(
        sample_permit(), signer=issuer, holder_key=holder.public_key, status_uri=STATUS_URI, status_idx=1234567, now=now
    )
    texts = {
        "epermit static": qrpass.pass_to_qr_text(cose_pass),
        "epermit live": qrpass.live_qr_text(cose_pass, holder_signer=holder, now=now),
        "EU-DCC style (HC1)": dcc_style(issuer, now),
        "SMART Health Card style": shc_style(issuer, now),
    }
    measured = {name: (len(text), qr_version(text, "M"), qr_version(text, "Q")) for name, text in texts.items()}
    print_table(
        "QR size for the reference permit (张伟, 18-digit ID, 34-character address)",
        ("encoding", "chars", "version @M", "version @Q"),
        [(name, *values) for name, values in measured.items()],
    )
    # Static <= 16: the holder key is an EC2 COSE_Key with both coordinates (33 bytes more than the compressed
    # form, which python-cwt and pycose cannot read); the live pass keeps DESIGN's version 18.
    rows = [
        Row("qr_static_version_M", measured["epermit static"][1], "QR version", "<= 16", measured["epermit static"][1] <= 16,
            against="DESIGN's limit: version 16 at level M"),
        Row("qr_live_version_M", measured["epermit live"][1], "QR version", "<= 18", measured["epermit live"][1] <= 18,
            against="DESIGN's limit: version 18 at level M"),
    ]
    write_result("qr_size", {"encodings": {k: dict(zip(("chars", "M", "Q"), v, strict=True)) for k, v in measured.items()},
                             "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
