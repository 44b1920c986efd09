"""Signing keys inside a PKCS#11 token (an HSM, a smart card, SoftHSM2 in tests): they never leave it.

``Pkcs11Signer`` implements credential.jose.Signer for an ECDSA P-256 key pair in the token: the host hashes
(SHA-256) and the token signs the digest with CKM_ECDSA, which returns the raw r||s that ES256 wants. Keys
made by ``Pkcs11Signer.generate`` are created inside the token with CKA_SENSITIVE true and CKA_EXTRACTABLE
false, so neither the clear value nor a wrapped copy can ever be read out; opening a key that lacks either
is refused. The public key is read from the token (CKA_EC_POINT) and gives the kid.

PKCS#11 logs in per application, not per session: one logged-in session per (library, token) is shared by
every signer on that token, behind one lock (a session must not be used by two threads at once).
python-pkcs11 is imported when a token is first used, so installs without an HSM do not need it.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from credential.jwk import PublicKey, key_id
from keys.errors import KeyManagementError, KeyNotFoundError, KeyUnlockError

PIN_ENV = "EPERMIT_PKCS11_PIN"
_P256_POINT = 65  # 0x04 || x || y
_LOCK = threading.Lock()
_SESSIONS: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}


@dataclass(frozen=True)
class Pkcs11Location:
    """Where a key lives: the module (the .so file), the token label, the key label."""

    lib_path: str
    token_label: str
    key_label: str

    def to_json(self) -> dict[str, str]:
        return {"type": "pkcs11", "lib": self.lib_path, "token": self.token_label, "label": self.key_label}

    @classmethod
    def from_json(cls, doc: Any) -> Pkcs11Location:
        if not isinstance(doc, dict) or doc.get("type") != "pkcs11":
            raise KeyManagementError("unknown key backend")
        values = [doc.get(name) for name in ("lib", "token", "label")]
        texts = [v for v in values if isinstance(v, str) and 0 < len(v) <= 4096]
        if len(texts) != 3:
            raise KeyManagementError("a pkcs11 backend needs lib, token and label")
        return cls(*texts)


def _session(lib_path: str, token_label: str, pin: str) -> tuple[Any, threading.Lock]:
    import pkcs11
    from pkcs11 import exceptions as px

    with _LOCK:
        held = _SESSIONS.get((lib_path, token_label))
        if held is not None:
            return held
        if not pin:
            raise KeyUnlockError(f"no PIN for token {token_label!r} (set {PIN_ENV})")
        try:
            token = pkcs11.lib(lib_path).get_token(token_label=token_label)
            session = token.open(user_pin=pin, rw=True)
        except px.PinIncorrect as exc:
            raise KeyUnlockError(f"wrong PIN for token {token_label!r}") from exc
        except px.NoSuchToken as exc:
            raise KeyNotFoundError(token_label, "no such PKCS#11 token") from exc
        except (px.PKCS11Error, OSError) as exc:
            raise KeyManagementError(f"cannot open token {token_label!r}: {type(exc).__name__} {exc}") from exc
        _SESSIONS[(lib_path, token_label)] = held = (session, threading.Lock())
        return held


def close_sessions() -> None:
    """Close every shared session (logs out of the tokens); signers reopen on next use."""
    with _LOCK:
        for session, lock in _SESSIONS.values():
            with lock:
                session.close()
        _SESSIONS.clear()


def _public_key(ec_point: bytes) -> ec.EllipticCurvePublicKey:
    # CKA_EC_POINT is a DER OCTET STRING around the uncompressed point (some modules give the bare point).
    point = ec_point[2:] if len(ec_point) == _P256_POINT + 2 and ec_point[:2] == b"\x04\x41" else ec_point
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise KeyManagementError("token key is not a P-256 key") from exc


class Pkcs11Signer:
    """An ES256 signer whose private key stays in a PKCS#11 token."""

    alg = "ES256"

    def __init__(self, lib_path: str, token_label: str, pin: str, key_label: str) -> None:
        from pkcs11 import Attribute, ObjectClass
        from pkcs11 import exceptions as px

        self.location = Pkcs11Location(lib_path, token_label, key_label)
        self._session, self._lock = _session(lib_path, token_label, pin)
        with self._lock:
            try:
                self._private = self._session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=key_label)
                public = self._session.get_key(object_class=ObjectClass.PUBLIC_KEY, label=key_label)
                point = bytes(public[Attribute.EC_POINT])
                sensitive = bool(self._private[Attribute.SENSITIVE])
                extractable = bool(self._private[Attribute.EXTRACTABLE])
            except px.NoSuchKey as exc:
                raise KeyNotFoundError(key_label, f"no key pair labelled {key_label!r} in token {token_label!r}") from exc
            except px.MultipleObjectsReturned as exc:
                raise KeyManagementError(f"several keys labelled {key_label!r} in token {token_label!r}") from exc
        if not sensitive or extractable:
            raise KeyManagementError(f"key {key_label!r} could leave the token (sensitive false or extractable)")
        self._public_key = _public_key(point)
        self._kid = key_id(self._public_key)

    @classmethod
    def generate(cls, lib_path: str, token_label: str, pin: str, key_label: str) -> Pkcs11Signer:
        """Create a P-256 key pair inside the token: sensitive, never extractable, signing only."""
        from pkcs11 import Attribute, KeyType, ObjectClass
        from pkcs11 import exceptions as px
        from pkcs11.util.ec import encode_named_curve_parameters

        session, lock = _session(lib_path, token_label, pin)
        with lock:
            try:
                session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=key_label)
            except px.NoSuchKey:
                pass
            else:
                raise KeyManagementError(f"token {token_label!r} already holds a key labelled {key_label!r}")
            params = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
            )
            params.generate_keypair(
                store=True, label=key_label,
                public_template={Attribute.VERIFY: True, Attribute.ENCRYPT: False, Attribute.WRAP: False},
                private_template={
                    Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.PRIVATE: True,
                    Attribute.SIGN: True, Attribute.DECRYPT: False, Attribute.UNWRAP: False,
                    Attribute.DERIVE: False,
                },
            )
        return cls(lib_path, token_label, pin, key_label)

    @property
    def kid(self) -> str:
        return self._kid

    @property
    def public_key(self) -> PublicKey:
        return self._public_key

    def attributes(self) -> dict[str, bool]:
        """The private key's protection flags as the token reports them."""
        from pkcs11 import Attribute

        names = {"sensitive": Attribute.SENSITIVE, "extractable": Attribute.EXTRACTABLE,
                 "always_sensitive": Attribute.ALWAYS_SENSITIVE, "never_extractable": Attribute.NEVER_EXTRACTABLE}
        with self._lock:
            return {name: bool(self._private[attribute]) for name, attribute in names.items()}

    def read_private_value(self) -> bytes:
        """Ask the token for CKA_VALUE; a sound token refuses (pkcs11 AttributeSensitive). For tests and audits."""
        from pkcs11 import Attribute

        with self._lock:
            return bytes(self._private[Attribute.VALUE])

    def sign(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11 import exceptions as px

        digest = hashlib.sha256(data).digest()
        with self._lock:
            try:
                signature = bytes(self._private.sign(digest, mechanism=Mechanism.ECDSA))
            except px.PKCS11Error as exc:
                raise KeyManagementError(f"token refused to sign with {self.location.key_label!r}: {exc!r}") from exc
        if len(signature) != 64:
            raise KeyManagementError("token returned a signature that is not r||s for P-256")
        return signature

    def __repr__(self) -> str:
        return f"Pkcs11Signer({self._kid!r}, token={self.location.token_label!r}, label={self.location.key_label!r})"
