"""Signers over private keys held in this process (the HSM signer lives in keys/pkcs11_signer.py)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from credential.jwk import PublicKey, key_id
from keys.errors import KeyManagementError

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class KeySigner:
    """Implements credential.jose.Signer for an in-memory P-256 or Ed25519 private key."""

    def __init__(self, private_key: PrivateKey) -> None:
        if isinstance(private_key, ec.EllipticCurvePrivateKey) and not isinstance(private_key.curve, ec.SECP256R1):
            raise KeyManagementError("only P-256 EC keys are supported")
        self._key = private_key
        self._public = private_key.public_key()  # immutable: derived once, not per issuance
        self._kid = key_id(self._public)
        self._alg = "EdDSA" if isinstance(private_key, ed25519.Ed25519PrivateKey) else "ES256"

    @classmethod
    def generate(cls, alg: str = "ES256") -> KeySigner:
        if alg == "ES256":
            return cls(ec.generate_private_key(ec.SECP256R1()))
        if alg == "EdDSA":
            return cls(ed25519.Ed25519PrivateKey.generate())
        raise KeyManagementError(f"unsupported algorithm {alg!r}")

    @property
    def kid(self) -> str:
        return self._kid

    @property
    def alg(self) -> str:
        return self._alg

    @property
    def public_key(self) -> PublicKey:
        return self._public

    @property
    def private_key(self) -> PrivateKey:
        return self._key

    def sign(self, data: bytes) -> bytes:
        if self._alg == "EdDSA":
            return self._key.sign(data)  # type: ignore[call-arg]
        r, s = decode_dss_signature(self._key.sign(data, _ECDSA_SHA256))  # type: ignore[call-arg]
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
