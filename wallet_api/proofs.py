"""Key proofs of type `jwt` (OpenID4VCI 1.0 Appendix F.1): the wallet shows it holds the key to bind to.

Here, and only here, the key travels in the token's own `jwk` header: a key proof proves possession of that
key, it does not authenticate anyone, so nothing is trusted but the signature over the issuer's audience, a
fresh time and a server nonce. Nonces are consumed by the caller, after every proof in a request verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from credential.errors import CredentialError, ForbiddenHeaderError, UnsupportedAlgorithmError, WrongTypeError
from credential.jose import check_header, int_claim, parse_compact, verify_signature
from credential.jwk import PublicKey, load_public_jwk, thumbprint
from wallet_api.errors import ProtocolError

PROOF_TYP = "openid4vci-proof+jwt"
MAX_NONCE_LENGTH = 256
# Ways to name a key other than embedding it: a proof must carry exactly one, and ours is `jwk`.
_OTHER_KEY_HEADERS = ("kid", "x5c", "trust_chain")


@dataclass(frozen=True)
class KeyProof:
    key: PublicKey
    thumbprint: bytes  # RFC 7638, to tell keys apart
    nonce: str
    iat: int


@dataclass(frozen=True)
class ProofPolicy:
    audience: str                     # our Credential Issuer Identifier
    algorithms: tuple[str, ...]
    max_age: int
    future_skew: int
    max_size: int


def _invalid(description: str) -> ProtocolError:
    return ProtocolError("invalid_proof", description)


def _check_header(header: dict[str, Any], policy: ProofPolicy) -> PublicKey:
    try:
        check_header(header, typ=PROOF_TYP, algorithms=policy.algorithms, allow_jwk=True)
    except WrongTypeError as exc:
        raise _invalid(f"a key proof must have typ {PROOF_TYP}") from exc
    except UnsupportedAlgorithmError as exc:
        raise _invalid(f"a key proof must be signed with one of {', '.join(policy.algorithms)}") from exc
    except ForbiddenHeaderError as exc:
        raise _invalid(f"header {exc.header} is not accepted in a key proof") from exc
    for name in _OTHER_KEY_HEADERS:
        if name in header:
            raise _invalid(f"the key must be given as jwk only, not {name}")
    if "jwk" not in header:
        raise _invalid("the key proof header lacks the jwk")
    try:
        return load_public_jwk(header["jwk"])
    except CredentialError as exc:
        raise _invalid("the jwk is not a public P-256 or Ed25519 key") from exc


def _check_claims(payload: dict[str, Any], policy: ProofPolicy, now: int) -> tuple[str, int]:
    if payload.get("aud") != policy.audience:
        raise _invalid("aud must be the credential issuer identifier")
    if "iat" not in payload:
        raise _invalid("iat is missing")
    try:
        iat = int_claim(payload, "iat")
    except CredentialError as exc:
        raise _invalid("iat must be an integer") from exc
    if iat < now - policy.max_age:
        raise _invalid("the key proof is too old")
    if iat > now + policy.future_skew:
        raise _invalid("the key proof is issued in the future")
    nonce = payload.get("nonce")
    if nonce is None:
        raise _invalid("the key proof carries no c_nonce")
    if not isinstance(nonce, str) or not 0 < len(nonce) <= MAX_NONCE_LENGTH:
        raise ProtocolError("invalid_nonce", "the c_nonce is not valid")
    return nonce, iat


def verify_key_proof(proof: object, policy: ProofPolicy, *, now: int) -> KeyProof:
    """Parse and check one proof; raises ProtocolError invalid_proof (or invalid_nonce for a malformed nonce)."""
    if not isinstance(proof, str):
        raise _invalid("a jwt key proof must be a string")
    try:
        jws = parse_compact(proof, max_size=policy.max_size)
    except CredentialError as exc:
        raise _invalid("the key proof is not a well-formed compact JWS") from exc
    key = _check_header(jws.header, policy)
    try:
        verify_signature(jws.header["alg"], key, jws.signing_input, jws.signature)
    except CredentialError as exc:
        raise _invalid("the key proof signature does not verify with its jwk") from exc
    nonce, iat = _check_claims(jws.payload, policy, now)
    return KeyProof(key=key, thumbprint=thumbprint(key), nonce=nonce, iat=iat)


def verify_key_proofs(proofs: Sequence[object], policy: ProofPolicy, *, now: int) -> list[KeyProof]:
    """Every proof must verify and name a different key (one credential per key)."""
    verified = [verify_key_proof(proof, policy, now=now) for proof in proofs]
    if len({proof.thumbprint for proof in verified}) != len(verified):
        raise _invalid("two key proofs are for the same key")
    return verified
