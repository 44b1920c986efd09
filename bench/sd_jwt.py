"""SD-JWT VC issue and verify+KB per core: against raw ES256 and against the sd-jwt reference library.

Both libraries do the same work: the same 12 personal claims as disclosures, the same key binding.
"""

from __future__ import annotations

import datetime
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from bench.harness import Row, compare, print_table, rows_payload, write_result
from credential.jwk import PublicKey, public_jwk
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc, present, verify_sd_jwt_vc
from keys.signers import KeySigner

ISS = "https://jzz.example.gov.cn"
STATUS_URI = ISS + "/statuslists/1"
AUD = "https://landlord.example"


def private_jwk(signer: KeySigner) -> JWK:
    numbers = signer.private_key.private_numbers()  # type: ignore[union-attr]
    from credential.encoding import b64url_encode

    return JWK(**public_jwk(signer.public_key), d=b64url_encode(numbers.private_value.to_bytes(32, "big")))


def run() -> list[Row]:
    now = int(time.time())
    issuer, holder = KeySigner.generate(), KeySigner.generate()
    permit = sample_permit(valid_from=datetime.date.today(), valid_until=datetime.date.today() + datetime.timedelta(days=365))
    exp = now + 365 * 86400

    def ours_issue() -> str:
        return issue_sd_jwt_vc(permit, issuer=ISS, signer=issuer, holder_key=holder.public_key,
                               status_uri=STATUS_URI, status_idx=42, now=now, exp=exp)

    issued = ours_issue()
    presentation = present(issued, disclose=None, holder_signer=holder, aud=AUD, nonce="n-1", now=now)
    keys: dict[str, PublicKey] = {issuer.kid: issuer.public_key}

    def ours_verify() -> object:
        return verify_sd_jwt_vc(presentation, resolve_key=keys.__getitem__, now=now, require_key_binding=True,
                                aud=AUD, nonce="n-1")

    ours_claims = verify_sd_jwt_vc(issued, resolve_key=keys.__getitem__, now=now, require_key_binding=False).claims
    visible = {"iss", "vct", "iat", "nbf", "exp", "cnf", "status"}
    peer_claims: dict[Any, Any] = {k: v for k, v in ours_claims.items() if k in visible}
    peer_claims.update({SDObj(k): v for k, v in ours_claims.items() if k not in visible})
    issuer_jwk, holder_jwk = private_jwk(issuer), private_jwk(holder)
    issuer_public = JWK(**public_jwk(issuer.public_key))

    def peer_issue() -> str:
        result: str = SDJWTIssuer(peer_claims, issuer_jwk, holder_jwk, add_decoy_claims=True,
                                  extra_header_parameters={"typ": "dc+sd-jwt", "kid": issuer.kid}).sd_jwt_issuance
        return result

    peer_holder = SDJWTHolder(peer_issue())
    peer_holder.create_presentation({k.value: True for k in peer_claims if isinstance(k, SDObj)}, nonce="n-1",
                                    aud=AUD, holder_key=holder_jwk)
    peer_presentation = peer_holder.sd_jwt_presentation

    def peer_verify() -> object:
        return SDJWTVerifier(peer_presentation, lambda iss, header: issuer_public, expected_aud=AUD,
                             expected_nonce="n-1").get_verified_payload()

    raw_key = ec.generate_private_key(ec.SECP256R1())
    message = b"x" * 300
    raw_sig = raw_key.sign(message, ec.ECDSA(hashes.SHA256()))
    rates = compare({
        "raw ES256 sign": lambda: raw_key.sign(message, ec.ECDSA(hashes.SHA256())),
        "raw ES256 verify": lambda: raw_key.public_key().verify(raw_sig, message, ec.ECDSA(hashes.SHA256())),
        "epermit issue": ours_issue,
        "sd-jwt reference issue": peer_issue,
        "epermit verify+KB": ours_verify,
        "sd-jwt reference verify+KB": peer_verify,
    })
    print_table("SD-JWT VC per core (ops/s, median of interleaved rounds)", ("operation", "ops/s"),
                [(name, f"{rate.ops_per_second:,.0f}") for name, rate in rates.items()])
    issue_vs_peer = rates["epermit issue"].ops_per_second / rates["sd-jwt reference issue"].ops_per_second
    verify_vs_peer = rates["epermit verify+KB"].ops_per_second / rates["sd-jwt reference verify+KB"].ops_per_second
    # verify+KB checks two signatures; issuing makes one.
    verify_vs_raw = rates["epermit verify+KB"].ops_per_second / (rates["raw ES256 verify"].ops_per_second / 2)
    issue_vs_raw = rates["epermit issue"].ops_per_second / rates["raw ES256 sign"].ops_per_second
    print(f"\nissue: {issue_vs_peer:.1f}x the reference library, {issue_vs_raw:.0%} of raw ES256 sign")
    print(f"verify+KB: {verify_vs_peer:.1f}x the reference library, {verify_vs_raw:.0%} of 2 x raw ES256 verify")
    rows = [
        Row("sdjwt_issue_vs_reference", round(issue_vs_peer, 2), "x", ">= 3x", issue_vs_peer >= 3,
            against="the sd-jwt reference library (Python), same claims, decoys on"),
        Row("sdjwt_verify_kb_vs_reference", round(verify_vs_peer, 2), "x", ">= 2x", verify_vs_peer >= 2,
            against="the sd-jwt reference library (Python), every claim disclosed, with KB-JWT"),
        Row("sdjwt_verify_kb_vs_2x_raw_verify", round(verify_vs_raw, 3), "ratio", "(reported)", True,
            against="2 raw ES256 verifies (cryptography)"),
        Row("sdjwt_issue_vs_raw_sign", round(issue_vs_raw, 3), "ratio", "(reported)", True,
            against="1 raw ES256 sign (cryptography)"),
    ]
    write_result("sd_jwt", {"ops_per_second": {k: v.ops_per_second for k, v in rates.items()},
                            "summary": rows_payload(rows)})
    return rows


if __name__ == "__main__":
    print(json.dumps(rows_payload(run()), indent=2))
