"""Public keys as JWKs, RFC 7638 thumbprints and the key ids derived from them."""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from credential.encoding import b64url_decode, b64url_encode, json_dumps
from credential.errors import MalformedError

PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
KID_BYTES = 8


_P256_CURVE = ec.SECP256R1()  # a stateless curve description


@functools.lru_cache(maxsize=256)
def p256_point(point: bytes) -> ec.EllipticCurvePublicKey:
    """A parsed P-256 point, SEC 1 uncompressed (public keys are immutable): a holder key read again (the
    same holder scanned twice, a pass's key read by the pass and then by its proof, a cnf JWK) is not parsed
    and checked on the curve again. A bad point raises ValueError, which is never cached."""
    return ec.EllipticCurvePublicKey.from_encoded_point(_P256_CURVE, point)


def public_jwk(key: PublicKey) -> dict[str, str]:
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    if not isinstance(key.curve, ec.SECP256R1):
        raise MalformedError("only P-256 EC keys are supported")
    # SEC 1 uncompressed point: 0x04, x, y (32 bytes each); one call instead of public_numbers().
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return {"kty": "EC", "crv": "P-256", "x": b64url_encode(point[1:33]), "y": b64url_encode(point[33:])}


def load_public_jwk(jwk: Any) -> PublicKey:
    """Read a public JWK; private members, other curves and malformed coordinates are rejected."""
    if not isinstance(jwk, dict):
        raise MalformedError("JWK must be an object")
    if "d" in jwk:
        raise MalformedError("JWK carries a private key")
    # A key published for encryption must not verify signatures (RFC 7517 §4.2, §4.3).
    if jwk.get("use", "sig") != "sig":
        raise MalformedError("JWK is not a signature key (use)")
    if "key_ops" in jwk and (not isinstance(jwk["key_ops"], list) or "verify" not in jwk["key_ops"]):
        raise MalformedError("JWK is not a verification key (key_ops)")
    try:
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            x, y = b64url_decode(jwk["x"]), b64url_decode(jwk["y"])
            if len(x) != 32 or len(y) != 32:
                raise MalformedError("P-256 coordinates must be 32 bytes")
            return p256_point(b"\x04" + x + y)
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            x = b64url_decode(jwk["x"])
            if len(x) != 32:
                raise MalformedError("Ed25519 key must be 32 bytes")
            return ed25519.Ed25519PublicKey.from_public_bytes(x)
    except (KeyError, TypeError) as exc:
        raise MalformedError("JWK lacks its coordinates") from exc
    except ValueError as exc:  # a point not on the curve
        raise MalformedError("JWK is not a valid public key") from exc
    raise MalformedError("JWK must be an EC P-256 or OKP Ed25519 key")


def thumbprint(key: PublicKey) -> bytes:
    """RFC 7638: SHA-256 over the required members, lexicographically ordered, no white space."""
    jwk = public_jwk(key)
    required = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("crv", "kty", "x")
    return hashlib.sha256(json_dumps({name: jwk[name] for name in required})).digest()


def key_id(key: PublicKey) -> str:
    """The JOSE ``kid``: the first 8 thumbprint bytes, base64url; the QR pass carries the same 8 bytes."""
    return b64url_encode(thumbprint(key)[:KID_BYTES])


def kid_bytes(kid: str) -> bytes:
    raw = b64url_decode(kid)
    if len(raw) != KID_BYTES:
        raise MalformedError("kid must be 8 bytes")
    return raw


def kid_from_bytes(raw: bytes) -> str:
    if len(raw) != KID_BYTES:
        raise MalformedError("kid must be 8 bytes")
    return b64url_encode(raw)
