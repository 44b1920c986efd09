"""Key purposes kept apart at the moment of signing: a signer that reads what it is asked to sign.

Four purposes (DESIGN §2, docs/keys.md), the ``Purpose`` enum:

=============  =================================  ===============================================================
purpose        signs                              recognised by
=============  =================================  ===============================================================
root           X.509 certificates, trust lists    JWS ``typ`` trustlist+jwt
credential     SD-JWT VCs, QR passes              JWS ``typ`` dc+sd-jwt; COSE typ 65001
status         status lists (JWT and CWT)         JWS ``typ`` statuslist+jwt; COSE typ application/statuslist+cwt
login          the residents' OpenID4VP login     JWS ``typ`` oauth-authz-req+jwt (keys/login.py: one key, its
               requests (the bureau as verifier)  certificate naming the public host, outside the trust list)
=============  =================================  ===============================================================

``PurposeSigner`` wraps any credential.jose.Signer (a file key, a PKCS#11 key) and inspects the signing input
itself (the JWS header, or the COSE Sig_structure's protected header) instead of trusting the caller to say
what it signs: a status key handed to ``issue_sd_jwt_vc`` refuses, whoever made the mistake. It also refuses
to sign anything whose ``exp`` lies past the key's own window, so a key's published ``not_after`` is always
at least the latest expiry it ever signed, and what it signed keeps verifying until it expires.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

import cbor2

from credential.encoding import b64url_decode, json_loads
from credential.errors import CredentialError
from credential.jwk import PublicKey
from keys.errors import KeyPurposeError, PurposeNotAllowedError


class Purpose(StrEnum):
    """What a key may sign. The values are the names written in keyring.json, key files, file names,
    certificates (credential.trustlist.PURPOSE_OIDS) and trust lists: a Purpose *is* that string."""

    ROOT = "root"
    CREDENTIAL = "credential"
    STATUS = "status"
    LOGIN = "login"  # keys/login.py: not in keyring.json's lists, never in the trust list


SIGNING_PURPOSES = (Purpose.CREDENTIAL, Purpose.STATUS)  # the purposes a key ring rotates; the root is one key
MAX_SIGNING_INPUT = 1 << 21  # the largest thing we sign is a status list of 2^20 entries, compressed
COSE_TYP, CWT_EXP = 16, 4
PURPOSE_CONTENT: dict[Purpose, frozenset[str | int]] = {
    Purpose.ROOT: frozenset({"trustlist+jwt"}),
    Purpose.CREDENTIAL: frozenset({"dc+sd-jwt", 65001}),  # 65001: the QR pass (credential.qrpass.TYP_PASS)
    Purpose.STATUS: frozenset({"statuslist+jwt", "application/statuslist+cwt"}),  # the list as JWT or CWT
    Purpose.LOGIN: frozenset({"oauth-authz-req+jwt"}),  # OpenID4VP request objects (verifier.openid4vp.request)
}


def signing_purpose(purpose: str) -> Purpose:
    """``purpose`` as one of SIGNING_PURPOSES; PurposeNotAllowedError for the root or any other name."""
    if purpose not in SIGNING_PURPOSES:
        raise PurposeNotAllowedError(purpose, SIGNING_PURPOSES)
    return Purpose(purpose)


class SigningKey(Protocol):
    """credential.jose.Signer plus the public key: what a key ring holds (file keys, PKCS#11 keys)."""

    @property
    def kid(self) -> str: ...

    @property
    def alg(self) -> str: ...

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


def describe_signing_input(data: bytes) -> tuple[str | int | None, int | None]:
    """(content type, exp) of a JWS signing input ``b64(header).b64(payload)`` or a COSE Sig_structure.

    Unrecognised input gives (None, None): the caller refuses it.
    """
    if len(data) > MAX_SIGNING_INPUT:
        return None, None
    if data[:1] == b"\x84":  # a CBOR array of four: ["Signature1", protected, external_aad, payload]
        return _describe_cose(data)
    return _describe_jws(data)


def _describe_jws(data: bytes) -> tuple[str | int | None, int | None]:
    try:
        header_b64, payload_b64 = data.decode("ascii").split(".")
        header = json_loads(b64url_decode(header_b64), max_size=MAX_SIGNING_INPUT)
        payload = json_loads(b64url_decode(payload_b64), max_size=MAX_SIGNING_INPUT)
    except (CredentialError, UnicodeDecodeError, ValueError):
        return None, None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return None, None
    typ = header.get("typ")
    return (typ if isinstance(typ, str) else None), _int_or_none(payload.get("exp"))


def _describe_cose(data: bytes) -> tuple[str | int | None, int | None]:
    try:
        item = cbor2.loads(data)
        if not (isinstance(item, list) and len(item) == 4 and item[0] == "Signature1"):
            return None, None
        protected = cbor2.loads(item[1]) if item[1] else {}
        payload = cbor2.loads(item[3])
    except (cbor2.CBORDecodeError, TypeError, ValueError, IndexError):
        return None, None
    if not isinstance(protected, dict):
        return None, None
    typ = protected.get(COSE_TYP)
    exp = payload.get(CWT_EXP) if isinstance(payload, dict) else None
    return (typ if isinstance(typ, int | str) else None), _int_or_none(exp)


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int else None


class PurposeSigner:
    """A Signer that signs only content of its purpose, expiring no later than ``not_after``."""

    def __init__(self, signer: SigningKey, purpose: Purpose, *, not_after: int | None = None) -> None:
        if purpose not in PURPOSE_CONTENT:  # a bare string from an untyped caller
            raise PurposeNotAllowedError(purpose, Purpose)
        self._signer = signer
        self.purpose = Purpose(purpose)
        self.not_after = not_after

    @property
    def kid(self) -> str:
        return self._signer.kid

    @property
    def alg(self) -> str:
        return self._signer.alg

    @property
    def public_key(self) -> PublicKey:
        return self._signer.public_key

    @property
    def inner(self) -> SigningKey:
        return self._signer

    def sign(self, data: bytes) -> bytes:
        content, exp = describe_signing_input(data)
        if content not in PURPOSE_CONTENT[self.purpose]:
            raise KeyPurposeError(self.kid, self.purpose, f"content type {content!r} is not a {self.purpose} document")
        if self.not_after is not None:
            if exp is None:
                raise KeyPurposeError(self.kid, self.purpose, "the document has no exp")
            if exp > self.not_after:
                raise KeyPurposeError(self.kid, self.purpose,
                                      f"exp {exp} is past the key's validity ({self.not_after})")
        return self._signer.sign(data)

    def __repr__(self) -> str:
        return f"PurposeSigner({self.kid!r}, {self.purpose.value!r})"
