"""Signing at pickup: one SD-JWT VC + one QR pass per holder key, per core, vs 2 × raw ES256 sign."""

from __future__ import annotations

import datetime
import json
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from bench.harness import Row, compare, print_table, rows_payload, write_result
from credential import qrpass
from credential.passclaims import validity_window
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc
from keys.signers import KeySigner

ISS = "https://jzz.example.gov.cn"
STATUS_URI = ISS + "/statuslists/1"


def run() -> list[Row]:
    now = int(time.time())
    issuer, holder = KeySigner.generate(), KeySigner.generate()
    today = datetime.date.today()
    permit = sample_permit(valid_from=today, valid_until=today + datetime.timedelta(days=364))
    nbf, exp = validity_window(permit)

    def both_formats() -> None:
        issue_sd_jwt_vc(permit, issuer=ISS, signer=issuer, holder_key=holder.public_key, status_uri=STATUS_URI,
                        status_idx=7, now=now, exp=exp, nbf=nbf)
        qrpass.encode_pass(permit, signer=issuer, holder_key=holder.public_key, status_uri=STATUS_URI, status_idx=7,
                           now=now)

    raw_key = ec.generate_private_key(ec.SECP256R1())
    rates = compare({
        "raw ES256 sign": lambda: raw_key.sign(b"x" * 600, ec.ECDSA(hashes.SHA256())),
        "SD-JWT VC + QR pass": both_formats,
    })
    ratio = (rates["raw ES256 sign"].seconds_per_op * 2) / rates["SD-JWT VC + QR pass"].seconds_per_op
    print_table("Signing at pickup per core", ("operation", "ops/s"),
                [(n, f"{r.ops_per_second:,.0f}") for n, r in rates.items()])
    print(f"\nsigning at pickup: {ratio:.0%} of its limit (2 raw ES256 signs)")
    rows = [Row("pickup_signing_vs_2x_raw_sign", round(ratio, 3), "ratio", ">= 0.50", ratio >= 0.5,
                against="2 raw ES256 signs (cryptography)")]
    write_result("pickup_signing", {"ops_per_second": {k: v.ops_per_second for k, v in rates.items()},
                                    "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
