"""The QR pass: a CWT in COSE_Sign1, zlib, base45 behind "EP1:", and its live (anti-screenshot) form.

Static text = "EP1:" + base45(zlib(COSE_Sign1 pass (tag 18)))
Live text   = "EP1:" + base45(zlib([COSE_Sign1 pass (tag 18), COSE_Sign1 proof (tag 18)]))
The proof is signed by the holder's device key (the pass's cnf, an EC2 COSE_Key with x and y) over
{1: time, 2: nonce?} with external_aad = SHA-256(pass bytes): it is bound to this pass without carrying
its digest. Both messages are tagged and name their alg, as sent: COSE libraries (python-cwt, pycose)
refuse an untagged message or one without alg, and each costs a byte or three of the QR.
The permit's claim map and validity window are in credential.passclaims. Every string is NFC UTF-8.
The pass names its authority by code only: verify_pass takes the name from the trust-list entry of the key
that verified the signature, and refuses a pass whose authority code is not that key's.
A pass is in one of two views (credential.passclaims.PassView): the full card, or the basic one (name,
document, validity, authority, portrait digest); the permit map states which, and VerifiedPass says it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import cbor2

from credential.base45 import b45decode, b45encode
from credential.cose import (
    Sign1,
    algorithm_for_key,
    cbor_loads,
    cbor_loads_sign1s,
    cose_key,
    decode_sign1,
    encoded_length,
    load_cose_key,
    parse_sign1,
    sign1,
    verify_sign1,
)
from credential.encoding import inflate
from credential.errors import (
    BadSignatureError,
    InvalidClaimError,
    MalformedError,
    MissingClaimError,
    ReplayedError,
    TooLargeError,
    UnsupportedAlgorithmError,
    UntrustedIssuerError,
)
from credential.jose import Signer, check_time_claims
from credential.jwk import PublicKey, kid_bytes, kid_from_bytes
from credential.model import Permit
from credential.passclaims import BasicPermit, PassView, validity_window, view_claim, view_from_claim
from credential.statuslist import status_reference

QR_PREFIX = "EP1:"
MAX_QR_TEXT = 4096
MAX_INFLATED = 8192
MAX_NONCE = 64
TYP_PASS, TYP_PROOF = 65001, 65002  # RFC 9596 typ, private-use CoAP content formats
PASS_ALGORITHMS = ("ES256", "EdDSA")
CLAIM_EXP, CLAIM_NBF, CLAIM_IAT, CLAIM_CNF, CLAIM_STATUS, CLAIM_PERMIT = 4, 5, 6, 8, 65535, -70001
_PASS_CLAIMS = frozenset({CLAIM_EXP, CLAIM_NBF, CLAIM_IAT, CLAIM_CNF, CLAIM_STATUS, CLAIM_PERMIT})
PROOF_TIME, PROOF_NONCE = 1, 2
# An issuer signs with a handful of keys: their 8-byte kids are decoded once (errors are not cached).
_kid_bytes = functools.lru_cache(maxsize=64)(kid_bytes)


def encode_pass(
    permit: Permit, *, signer: Signer, holder_key: PublicKey, status_uri: str, status_idx: int, now: int,
    view: PassView = PassView.FULL,
) -> bytes:
    """The issuer-signed QR pass as COSE_Sign1 bytes (tag 18), in the full or the basic ``view``."""
    nbf, exp = validity_window(permit)
    status = {"status_list": {"idx": status_idx, "uri": status_uri}}
    status_reference(status)  # the same rules the verifier applies
    claims = {
        CLAIM_EXP: exp, CLAIM_NBF: nbf, CLAIM_IAT: now, CLAIM_CNF: {1: cose_key(holder_key)},
        CLAIM_STATUS: status, CLAIM_PERMIT: view_claim(permit, view),
    }
    message = sign1(cbor2.dumps(claims), signer=signer, typ=TYP_PASS, kid=_kid_bytes(signer.kid))
    return message.encode()


def pass_digest(cose_pass: bytes) -> bytes:
    """What a live proof is bound to: SHA-256 over the pass's exact COSE bytes."""
    return hashlib.sha256(cose_pass).digest()


def _qr_text(cbor_bytes: bytes) -> str:
    return QR_PREFIX + b45encode(zlib.compress(cbor_bytes, 9))


def pass_to_qr_text(cose_pass: bytes) -> str:
    decode_sign1(cose_pass, max_size=MAX_INFLATED)  # only a well-formed pass goes into a QR
    return _qr_text(cose_pass)


def live_qr_text(cose_pass: bytes, *, holder_signer: Signer, now: int, nonce: bytes | None = None) -> str:
    """The pass plus a fresh proof by the device key; the wallet regenerates it every 30 s."""
    message = decode_sign1(cose_pass, max_size=MAX_INFLATED)
    payload: dict[int, Any] = {PROOF_TIME: now}
    if nonce is not None:
        if not isinstance(nonce, bytes) or not 0 < len(nonce) <= MAX_NONCE:
            raise MalformedError(f"nonce must be 1..{MAX_NONCE} bytes")
        payload[PROOF_NONCE] = nonce
    proof = sign1(cbor2.dumps(payload), signer=holder_signer, typ=TYP_PROOF, external_aad=pass_digest(cose_pass))
    return _qr_text(cbor2.dumps([message.to_item(), proof.to_item()]))


@dataclass(frozen=True)
class DecodedQr:
    """A QR text taken apart; nothing in it is verified yet."""

    cose_pass: bytes  # the pass's exact COSE bytes (what pass_digest covers)
    kid: bytes  # 8 bytes: the issuer key the pass names
    protected: dict[int, Any]
    payload: dict[int, Any]  # the CWT claims, decoded but unchecked
    proof: bytes | None  # the live proof's COSE bytes; None for a static pass
    pass_message: Sign1 = field(repr=False)
    proof_message: Sign1 | None = field(repr=False, default=None)

    @property
    def live(self) -> bool:
        return self.proof is not None


def decode_qr_text(text: str) -> DecodedQr:
    """Bounds, prefix, base45, capped inflation and CBOR shape; no cryptography."""
    if not isinstance(text, str):
        raise MalformedError("QR content must be text")
    if len(text) > MAX_QR_TEXT:
        raise TooLargeError("QR text", MAX_QR_TEXT)
    if not text.startswith(QR_PREFIX):
        raise MalformedError(f"not an {QR_PREFIX} pass")
    data = inflate(b45decode(text[len(QR_PREFIX) :]), max_size=MAX_INFLATED)
    item = cbor_loads_sign1s(data, max_size=MAX_INFLATED)
    if isinstance(item, list | tuple):
        if len(item) != 2:
            raise MalformedError("a live pass is an array of pass and proof")
        pass_item, proof_item = item
        proof_message: Sign1 | None = parse_sign1(proof_item, require_tag=True, max_size=MAX_INFLATED)
    else:
        pass_item, proof_message = item, None
    message = parse_sign1(pass_item, require_tag=True, max_size=MAX_INFLATED)
    kid = message.kid
    if kid is None or len(kid) != 8:
        raise MalformedError("the pass must name an 8-byte kid")
    payload = cbor_loads(message.payload, max_size=MAX_INFLATED, max_depth=4)
    if not isinstance(payload, dict):
        raise MalformedError("the pass payload must be a CBOR map")
    # ``data`` is proven canonical, so it is exactly the pass, or array head (1 byte) + pass + proof: both are
    # sliced out, the proof's length being that of its one (preferred) encoding.
    if proof_message is None:
        cose_pass, proof = data, None
    else:
        split = len(data) - encoded_length(proof_message)
        cose_pass, proof = data[1:split], data[split:]
    return DecodedQr(cose_pass, kid, message.protected, payload, proof, message, proof_message)


class IssuingKey(Protocol):
    """What verify_pass needs of the key a pass names: credential.trustlist.TrustedKey is one."""

    @property
    def public_key(self) -> PublicKey: ...
    @property
    def authority_code(self) -> str: ...
    @property
    def authority_name(self) -> str: ...


@dataclass(frozen=True)
class VerifiedPass:
    permit: Permit | BasicPermit  # a BasicPermit for a basic pass (``view``)
    kid: str
    holder_key: PublicKey
    status_uri: str
    status_idx: int
    iat: int
    nbf: int
    exp: int

    @property
    def view(self) -> PassView:
        return PassView.BASIC if isinstance(self.permit, BasicPermit) else PassView.FULL


def _claims(payload: dict[int, Any]) -> None:
    for key in payload:
        if key not in _PASS_CLAIMS:
            raise InvalidClaimError(str(key), "unknown claim")
    for key, name in ((CLAIM_EXP, "exp"), (CLAIM_NBF, "nbf"), (CLAIM_IAT, "iat"), (CLAIM_CNF, "cnf"),
                      (CLAIM_STATUS, "status"), (CLAIM_PERMIT, "permit")):
        if key not in payload:
            raise MissingClaimError(name)


def _holder_key(cnf: object) -> PublicKey:
    # type() first: the exact type cbor2 decodes maps to spares the ABC check (a Python-level call).
    if not (type(cnf) is dict or isinstance(cnf, Mapping)) or cnf.keys() != {1}:
        raise InvalidClaimError("cnf", "must hold exactly one COSE_Key")
    try:
        return load_cose_key(cnf[1])
    except MalformedError as exc:
        raise InvalidClaimError("cnf", exc.reason) from exc


def verify_pass(decoded: DecodedQr, *, resolve_key: Callable[[str], IssuingKey], now: int) -> VerifiedPass:
    """Issuer signature (key from the caller's trust list only), then claims, then validity at ``now``, then
    the authority: the permit's authority code must be the signing key's (UntrustedIssuerError otherwise: a
    key of one authority signing for another), and its name is the one the trust list gives that key."""
    kid = kid_from_bytes(decoded.kid)
    issuing_key = resolve_key(kid)  # raises UntrustedIssuerError for a kid the verifier does not trust
    verify_sign1(decoded.pass_message, issuing_key.public_key, typ=TYP_PASS, algorithms=PASS_ALGORITHMS)
    payload = decoded.payload
    _claims(payload)
    times = {"exp": payload[CLAIM_EXP], "nbf": payload[CLAIM_NBF], "iat": payload[CLAIM_IAT]}
    check_time_claims(times, now=now, require=("iat", "nbf", "exp"))
    holder_key = _holder_key(payload[CLAIM_CNF])
    status_uri, status_idx = status_reference(payload[CLAIM_STATUS])
    permit = view_from_claim(payload[CLAIM_PERMIT], nbf=times["nbf"], exp=times["exp"],
                             authority_name=issuing_key.authority_name)
    if permit.authority_code != issuing_key.authority_code:
        raise UntrustedIssuerError(
            kid, f"key of authority {issuing_key.authority_code} may not sign for authority {permit.authority_code}"
        )
    return VerifiedPass(
        permit, kid, holder_key, status_uri, status_idx, times["iat"], times["nbf"], times["exp"]
    )


def verify_live_proof(
    decoded: DecodedQr, holder_key: PublicKey, *, now: int, window: int = 60, nonce: bytes | None = None
) -> int:
    """Check the live proof against the pass's holder key; return its time. Any failure is REPLAYED."""
    proof = decoded.proof_message
    if proof is None:
        raise ReplayedError("no live proof with this pass")
    algorithm = algorithm_for_key(holder_key)
    try:
        # The proof names its alg; the one the cnf key implies is the only one accepted.
        verify_sign1(proof, holder_key, typ=TYP_PROOF, algorithms=(algorithm,),
                     external_aad=pass_digest(decoded.cose_pass))
    except UnsupportedAlgorithmError as exc:  # none named (an earlier wallet), or not the holder key's
        raise ReplayedError(f"proof algorithm {exc.alg!r} is not the holder key's {algorithm}") from exc
    except BadSignatureError as exc:  # a screenshot of another pass's proof, or another device's key
        raise ReplayedError("proof not by the holder key for this pass") from exc
    payload = cbor_loads(proof.payload, max_size=MAX_INFLATED, max_depth=1)
    if not isinstance(payload, dict) or not set(payload) <= {PROOF_TIME, PROOF_NONCE}:
        raise MalformedError("the proof payload must be {1: time, 2: nonce}")
    proof_time = payload.get(PROOF_TIME)
    if type(proof_time) is not int:
        raise InvalidClaimError("proof time", "must be an integer")
    if abs(proof_time - now) > window:
        raise ReplayedError(f"proof time {proof_time} is more than {window} s from now")
    if nonce is not None:
        proof_nonce = payload.get(PROOF_NONCE)
        if not isinstance(proof_nonce, bytes) or not hmac.compare_digest(proof_nonce, nonce):
            raise ReplayedError("proof does not carry this verifier's nonce")
    return proof_time
