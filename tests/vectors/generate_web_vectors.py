"""Shared test vectors for the Python verifier and the browser verifier page (tests/web).

``generate(out, base_url=..., now=...)`` writes, with real keys made for the occasion:
- ``vectors.json``: [{"name", "qr_text", "png"}] and one QR PNG per vector; a vector scanned with a portrait
  code also has "portrait_code" (base64 of the symbol's bytes), and its PNG shows both codes side by side;
- ``root.json`` (the root public JWK, as /verify/root.json serves it), ``trustlist.jwt``,
  ``statuslists.json`` (the aggregation), and ``statuslists/1.jwt`` with its CWT form ``statuslists/1.cwt``
  (the same list, signed by the same key).
Every vector is judged at ``now``; the answers both verifiers must give are in web_expectations.json,
next to this file. Run as a script to write a set into a directory:
``python -m tests.vectors.generate_web_vectors OUT [BASE_URL]``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import json
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2
import qrcode
from cryptography.hazmat.primitives.serialization import Encoding

from credential.base45 import b45decode, b45encode
from credential.cose import sign1
from credential.jwk import kid_bytes, public_jwk
from credential.model import Permit
from credential.passclaims import PassView
from credential.qrpass import (
    CLAIM_CNF,
    CLAIM_PERMIT,
    QR_PREFIX,
    TYP_PASS,
    TYP_PROOF,
    encode_pass,
    live_qr_text,
    pass_digest,
    pass_to_qr_text,
)
from credential.samples import sample_permit
from credential.statuslist import (
    INVALID,
    SUSPENDED,
    StatusList,
    aggregation_document,
    sign_status_list_cwt,
    sign_status_list_token,
)
from epermit.wallet.display import pass_and_portrait_image
from keys import KeyRing, KeySigner, Purpose
from tests.conftest import T0
from tests.vectors.portrait_image import portrait_bytes

EXPECTATIONS = Path(__file__).with_name("web_expectations.json")
HOUR, DAY = 3600, 86400
LIST_SIZE = 1 << 12
AUTHORITY = ("110105", "北京市公安局朝阳分局")  # the trust list's: the name every verifier shows (no pass carries it)
FOREIGN_AUTHORITY = "310101"  # 上海市公安局黄浦分局: not the authority of any key in the trust list


@dataclass(frozen=True)
class VectorSet:
    directory: Path
    base_url: str
    now: int
    root_pem: bytes
    trust_token: str
    status_uri: str
    status_token: str
    vectors: dict[str, str]  # name -> QR text
    status_cwt: bytes = b""  # the status list in its CWT form
    portraits: dict[str, bytes] = dataclasses.field(default_factory=dict)  # name -> portrait code scanned with it

    def expectations(self) -> dict[str, dict[str, Any]]:
        return load_expectations()


def load_expectations() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(EXPECTATIONS.read_text("utf-8"))
    return data


def _tampered(text: str, old: bytes, new: bytes) -> str:
    """The same pass with one signed string changed in place (still well-formed CBOR, so BAD_SIGNATURE)."""
    data = zlib.decompress(b45decode(text[len(QR_PREFIX):]))
    assert data.count(old) == 1 and len(old) == len(new)
    return QR_PREFIX + b45encode(zlib.compress(data.replace(old, new), 9))


def _resigned_with_name(cose_pass: bytes, signer: KeySigner) -> str:
    """The same pass with the retired key 12 (the authority's name) put back, signed again: MALFORMED."""
    claims = cbor2.loads(cbor2.loads(cose_pass).value[2])
    claims[CLAIM_PERMIT][12] = AUTHORITY[1]
    return pass_to_qr_text(sign1(cbor2.dumps(claims), signer=signer, typ=TYP_PASS, kid=kid_bytes(signer.kid)).encode())


def _with_compressed_holder_key(cose_pass: bytes, signer: KeySigner) -> str:
    """The same pass with its cnf key in the compressed form (y as a sign bit), signed again: MALFORMED."""
    claims = cbor2.loads(cbor2.loads(cose_pass).value[2])
    key = claims[CLAIM_CNF][1]
    key[-3] = bool(key[-3][-1] & 1)
    return pass_to_qr_text(sign1(cbor2.dumps(claims), signer=signer, typ=TYP_PASS, kid=kid_bytes(signer.kid)).encode())


def _live_with_proof(cose_pass: bytes, holder: KeySigner, at: int, *, protected: dict[int, Any],
                     tag: bool) -> str:
    """A live text whose proof, signed by the right holder key over the right pass, has this protected header
    and tagging: the earlier form (no alg, untagged) must be refused by both verifiers."""
    protected_bytes, payload = cbor2.dumps(protected), cbor2.dumps({1: at})
    signature = holder.sign(cbor2.dumps(["Signature1", protected_bytes, pass_digest(cose_pass), payload]))
    body = [protected_bytes, {}, payload, signature]
    proof = cbor2.CBORTag(18, body) if tag else body
    return QR_PREFIX + b45encode(zlib.compress(cbor2.dumps([cbor2.loads(cose_pass), proof]), 9))


def _resigned_permit_map(cose_pass: bytes, signer: KeySigner, edit: dict[int, Any], drop: tuple[int, ...] = ()) -> str:
    """The same pass with fields of its permit map set (``edit``) or removed (``drop``), signed again."""
    claims = cbor2.loads(cbor2.loads(cose_pass).value[2])
    claims[CLAIM_PERMIT].update(edit)
    for key in drop:
        del claims[CLAIM_PERMIT][key]
    return pass_to_qr_text(sign1(cbor2.dumps(claims), signer=signer, typ=TYP_PASS, kid=kid_bytes(signer.kid)).encode())


def _png(text: str, path: Path) -> None:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    code.add_data(text, optimize=0)
    code.make(fit=True)
    code.make_image(fill_color="black", back_color="white").save(str(path))


def _png_with_portrait(text: str, portrait: bytes, path: Path) -> None:
    image, _, _ = pass_and_portrait_image(text, portrait, box_size=4)
    image.save(str(path))


def generate(out: Path, *, base_url: str, now: int = T0) -> VectorSet:
    out.mkdir(parents=True, exist_ok=True)
    ring = KeyRing.generate(authority_code=AUTHORITY[0], authority_name=AUTHORITY[1], now=now - 30 * DAY)
    stranger = KeyRing.generate(authority_code=AUTHORITY[0], authority_name=AUTHORITY[1], now=now - 30 * DAY)
    credential_signer = ring.signer_for(Purpose.CREDENTIAL, now=now)
    holder = KeySigner.generate()
    status_uri = f"{base_url}/statuslists/1"
    today = datetime.datetime.fromtimestamp(now, datetime.timezone(datetime.timedelta(hours=8))).date()
    permit = sample_permit(valid_from=today - datetime.timedelta(days=150),
                           valid_until=today + datetime.timedelta(days=200))
    expired = sample_permit(valid_from=today - datetime.timedelta(days=400),
                            valid_until=today - datetime.timedelta(days=2))
    foreign = dataclasses.replace(permit, authority_code=FOREIGN_AUTHORITY, authority_name="上海市公安局黄浦分局")
    face, other_face = portrait_bytes(), portrait_bytes(seed=1)
    with_face = dataclasses.replace(permit, holder=dataclasses.replace(permit.holder,
                                                                       portrait_sha256=hashlib.sha256(face).digest()))

    def cose(idx: int, *, which: Permit = permit, signer: KeySigner | None = None, uri: str = status_uri,
             view: PassView = PassView.FULL) -> bytes:
        return encode_pass(which, signer=signer or credential_signer, holder_key=holder.public_key,
                           status_uri=uri, status_idx=idx, now=now - 10 * DAY, view=view)

    def live(idx: int, at: int, view: PassView = PassView.FULL, which: Permit = permit) -> str:
        return live_qr_text(cose(idx, view=view, which=which), holder_signer=holder, now=at)

    statuses = StatusList(LIST_SIZE, 2)
    statuses.set(9, INVALID)
    statuses.set(10, SUSPENDED)
    vectors = {
        "valid_live": live(7, now - 5),
        "valid_static": pass_to_qr_text(cose(8)),
        "revoked": live(9, now - 5),
        "suspended": pass_to_qr_text(cose(10)),
        "expired": pass_to_qr_text(cose(11, which=expired)),
        "tampered": _tampered(pass_to_qr_text(cose(12)), b"ZHANG WEI", b"ZHANG WEN"),
        "replayed": live(13, now - 10 * 60),
        "wrong_issuer": pass_to_qr_text(cose(14, signer=stranger.signer_for(Purpose.CREDENTIAL, now=now))),
        "status_unknown": pass_to_qr_text(cose(15, uri=f"{base_url}/statuslists/99")),
        "malformed": QR_PREFIX + "NOT A PASS",
        "authority_name_carried": _resigned_with_name(cose(16), credential_signer),
        "foreign_authority": pass_to_qr_text(cose(17, which=foreign)),  # our key, another authority's permit
        "compressed_holder_key": _with_compressed_holder_key(cose(18), credential_signer),
        "proof_without_alg": _live_with_proof(cose(19), holder, now - 5, protected={16: TYP_PROOF}, tag=True),
        "untagged_proof": _live_with_proof(cose(20), holder, now - 5, protected={1: -7, 16: TYP_PROOF}, tag=False),
        "basic_live": live(21, now - 5, PassView.BASIC),
        "basic_revoked": pass_to_qr_text(cose(9, view=PassView.BASIC)),  # the same index as "revoked"
        # Revoked, and its live proof is also stale: the worst true fact about the credential wins (REVOKED).
        "revoked_and_stale_proof": live(9, now - 10 * 60),
        # States the basic view, carries the citizen ID; states nothing (full), lacks the personal fields.
        "basic_with_personal_data": _resigned_permit_map(cose(22, view=PassView.BASIC), credential_signer,
                                                         {7: int(permit.holder.citizen_id[:17])}),
        "full_without_personal_data": _resigned_permit_map(cose(23, view=PassView.BASIC), credential_signer, {},
                                                           drop=(14,)),
        # The pass signs SHA-256(face): scanned with that face, with another one, with none; a face beside a
        # pass that signs none; another face beside a revoked pass (REVOKED keeps its meaning).
        "portrait_verified": live(24, now - 5, PassView.BASIC, with_face),
        "portrait_mismatch": live(25, now - 5, PassView.BASIC, with_face),
        "portrait_absent": live(26, now - 5, PassView.BASIC, with_face),
        "portrait_unsigned": live(27, now - 5, PassView.BASIC),
        "portrait_revoked_mismatch": live(9, now - 5, PassView.BASIC, with_face),
        "portrait_forged_pass": _tampered(live(28, now - 5, PassView.FULL, with_face), b"ZHANG WEI", b"ZHANG WEN"),
    }
    portraits = {"portrait_verified": face, "portrait_mismatch": other_face, "portrait_unsigned": face,
                 "portrait_revoked_mismatch": other_face, "portrait_forged_pass": face}
    trust_token = ring.trust_list_token(issuer=base_url, now=now - HOUR, version=now - HOUR,
                                        status_lists=[status_uri], aggregation_uri=f"{base_url}/statuslists")
    status_signer = ring.signer_for(Purpose.STATUS, now=now)
    list_claims: dict[str, Any] = {"uri": status_uri, "signer": status_signer, "now": now - 3 * HOUR, "ttl": 300,
                                   "exp": now + 7 * DAY, "aggregation_uri": f"{base_url}/statuslists"}
    status_token = sign_status_list_token(statuses, **list_claims)
    status_cwt = sign_status_list_cwt(statuses, **list_claims)
    (out / "statuslists").mkdir(exist_ok=True)
    (out / "statuslists" / "1.jwt").write_text(status_token, "ascii")
    (out / "statuslists" / "1.cwt").write_bytes(status_cwt)
    (out / "trustlist.jwt").write_text(trust_token, "ascii")
    (out / "statuslists.json").write_text(json.dumps(aggregation_document([status_uri])), "utf-8")
    (out / "root.json").write_text(json.dumps({"jwk": public_jwk(ring.root.public_key)}), "utf-8")
    listing = []
    for name, text in vectors.items():
        entry: dict[str, Any] = {"name": name, "qr_text": text, "png": f"{name}.png"}
        if name in portraits:
            _png_with_portrait(text, portraits[name], out / f"{name}.png")
            entry["portrait_code"] = base64.b64encode(portraits[name]).decode("ascii")
        else:
            _png(text, out / f"{name}.png")
        listing.append(entry)
    (out / "vectors.json").write_text(json.dumps({"now": now, "vectors": listing}, ensure_ascii=False), "utf-8")
    return VectorSet(out, base_url, now, ring.root_certificate.public_bytes(Encoding.PEM), trust_token,
                     status_uri, status_token, vectors, status_cwt, portraits)


def replace_base(vectors: VectorSet, **changes: Any) -> VectorSet:
    return dataclasses.replace(vectors, **changes)


if __name__ == "__main__":  # pragma: no cover - a convenience for people, the tests call generate()
    target = Path(sys.argv[1])
    generate(target, base_url=sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:8080")
    print(f"wrote {target}")
