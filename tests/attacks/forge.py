"""An attacker's workbench: tokens and QR texts built byte by byte from real keys, nothing mocked.

Each helper makes exactly one thing wrong, so that a test shows which rule rejects it.
"""

from __future__ import annotations

import zlib
from typing import Any

import cbor2

from credential.base45 import b45encode
from credential.encoding import b64url_decode, b64url_encode, json_dumps
from credential.jose import P256_ORDER, Signer
from credential.qrpass import QR_PREFIX


def raw(signer: Signer) -> Signer:
    """The bare key behind a signer: an attacker holding a stolen key signs whatever they like, so forgeries
    bypass the key ring's purpose guard (keys/purpose.py), which protects the issuer from its own mistakes."""
    inner = getattr(signer, "inner", None)
    return signer if inner is None else raw(inner)


def jws(header: dict[str, Any], payload: dict[str, Any] | bytes, signer: Signer | None,
        signature: bytes | None = None) -> str:
    """A compact JWS with exactly this header (nothing added); signed by ``signer`` or carrying ``signature``."""
    body = payload if isinstance(payload, bytes) else json_dumps(payload)
    signing_input = f"{b64url_encode(json_dumps(header))}.{b64url_encode(body)}".encode("ascii")
    if signature is None:
        assert signer is not None
        signature = raw(signer).sign(signing_input)
    return signing_input.decode("ascii") + "." + b64url_encode(signature)


def raw_jws(header_json: bytes, payload_json: bytes, signer: Signer) -> str:
    """A compact JWS over hand-written JSON text (duplicate keys, deep nesting): signed for real."""
    signing_input = f"{b64url_encode(header_json)}.{b64url_encode(payload_json)}".encode("ascii")
    return signing_input.decode("ascii") + "." + b64url_encode(raw(signer).sign(signing_input))


def split_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    import json

    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), b64url_decode(signature)


def resign(token: str, signer: Signer, *, header: dict[str, Any] | None = None,
           payload: dict[str, Any] | None = None) -> str:
    """The same JWT with header and/or payload edits merged in (None values delete), re-signed by ``signer``."""
    old_header, old_payload, _ = split_jwt(token)
    for target, edits in ((old_header, header), (old_payload, payload)):
        for name, value in (edits or {}).items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
    return jws(old_header, old_payload, signer)


def malleate_p1363(signature: bytes) -> bytes:
    """ECDSA's second valid signature of the same message: (r, n - s)."""
    r, s = signature[:32], int.from_bytes(signature[32:], "big")
    return r + (P256_ORDER - s).to_bytes(32, "big")


def qr_text(item: Any, *, level: int = 9) -> str:
    """An EP1: QR text around any CBOR item (or raw bytes, compressed as they are)."""
    data = item if isinstance(item, bytes) else cbor2.dumps(item)
    return QR_PREFIX + b45encode(zlib.compress(data, level))


def qr_text_of_zlib(compressed: bytes) -> str:
    return QR_PREFIX + b45encode(compressed)


def cose_sign1(protected: dict[int, Any], payload: bytes, signer: Signer | None, *, signature: bytes | None = None,
               external_aad: bytes = b"", unprotected: dict[Any, Any] | None = None, tag: bool = True) -> Any:
    """A COSE_Sign1 item with exactly this protected header, signed for real over the RFC 9052 Sig_structure."""
    protected_bytes = cbor2.dumps(protected)
    if signature is None:
        assert signer is not None
        signature = raw(signer).sign(cbor2.dumps(["Signature1", protected_bytes, external_aad, payload]))
    body = [protected_bytes, unprotected or {}, payload, signature]
    return cbor2.CBORTag(18, body) if tag else body


def pass_parts(cose_pass: bytes) -> tuple[dict[int, Any], dict[int, Any]]:
    """(protected header, CWT claims) of a genuine pass, to be edited and re-signed."""
    protected, _, payload, _ = cbor2.loads(cose_pass).value
    return cbor2.loads(protected), cbor2.loads(payload)


def cbor_map_with_pairs(pairs: list[tuple[Any, Any]]) -> bytes:
    """A definite-length CBOR map written pair by pair, so that a key may repeat (cbor2 cannot encode that)."""
    assert len(pairs) < 24
    return bytes([0xA0 + len(pairs)]) + b"".join(cbor2.dumps(k) + cbor2.dumps(v) for k, v in pairs)


def zlib_of_zeros(size: int, chunk: int = 1 << 20) -> bytes:
    """zlib level 9 of ``size`` zero bytes, streamed: a deflate bomb about 1000 times smaller than it inflates."""
    compressor = zlib.compressobj(9)
    out = bytearray()
    block = bytes(min(chunk, size))
    remaining = size
    while remaining:
        step = min(remaining, len(block))
        out += compressor.compress(block[:step])
        remaining -= step
    out += compressor.flush()
    return bytes(out)
