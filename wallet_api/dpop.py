"""DPoP proofs (RFC 9449 §4): a JWT in the `DPoP` header that shows the wallet holds the key its token is bound to.

This module judges one proof against one request and knows nothing of HTTP or the store: the request's
method, its URL as we publish it (never the Host header), our clock and, on a resource request, the access
token it carries. The key travels in the proof's own `jwk` header: that key IS what the proof is about, so
it is the one place besides key proofs (wallet_api.proofs) where credential.jose allows it. Single use of
``jti`` and the server nonce are wallet_api.dpop_state's; binding a token to ``jkt`` is wallet_api.access's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from credential.encoding import b64url_encode
from credential.errors import CredentialError, ForbiddenHeaderError, UnsupportedAlgorithmError, WrongTypeError
from credential.jose import check_header, int_claim, parse_compact, verify_signature
from credential.jwk import PublicKey, load_public_jwk, thumbprint
from wallet_api.errors import DpopError
from wallet_api.settings import DPOP_ALGORITHMS

DPOP_TYP = "dpop+jwt"
MAX_JTI_LENGTH = 256     # RFC 9449 asks for >= 96 random bits; a client's 32-byte jti is 43 characters
MAX_NONCE_LENGTH = 256
MAX_HTU_LENGTH = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_URI_CHARACTERS = re.compile(r"[!#-;=?-\[\]_a-z~]*")  # printable ASCII but space, '"', '<', '>', '\', '^', '`', {|}


@dataclass(frozen=True)
class DpopProof:
    key: PublicKey
    jkt: str              # base64url RFC 7638 SHA-256 thumbprint of the proof's key (RFC 9449 §6)
    jti: str
    iat: int
    nonce: str | None


@dataclass(frozen=True)
class DpopPolicy:
    iat_window: int       # seconds iat may lie either side of now
    max_size: int         # the whole proof, checked before it is parsed


def access_token_hash(access_token: str) -> str:
    """The `ath` claim (RFC 9449 §4.2): base64url of SHA-256 over the token's ASCII bytes."""
    return b64url_encode(hashlib.sha256(access_token.encode("ascii")).digest())


def jwk_thumbprint(key: PublicKey) -> str:
    """The `jkt` a DPoP-bound token is bound to (RFC 9449 §6.1, RFC 7638)."""
    return b64url_encode(thumbprint(key))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, over whole segments (a path here always starts with '/')."""
    output: list[str] = []
    segments = path.split("/")[1:]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        elif segment == ".":
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def _normalise_percent(text: str) -> str:
    """RFC 3986 §6.2.2.1-2: escapes in upper case, and escaped unreserved characters decoded."""
    def one(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()
    return _PERCENT.sub(one, text)


def normalise_htu(url: str) -> str:
    """The URL as RFC 9449 §4.3 compares it: without query and fragment, after syntax-based (RFC 3986 §6.2.2:
    case, percent-encoding, dot segments) and scheme-based (§6.2.3: default port, empty path) normalisation.
    ValueError for anything that is not an absolute http(s) URL without user information."""
    if len(url) > MAX_HTU_LENGTH or not _URI_CHARACTERS.fullmatch(url.lower()):
        raise ValueError("not an ASCII URI")
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        raise ValueError("not an absolute http(s) URL without user information")
    host = _normalise_percent(parts.hostname)  # urlsplit lowers the host's case
    if ":" in host:  # an IPv6 literal lost its brackets in hostname
        host = f"[{host}]"
    port = parts.port  # ValueError for a port that is not a number in range
    authority = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _remove_dot_segments(_normalise_percent(parts.path or "/"))
    return f"{scheme}://{authority}{path}"


def _invalid(description: str, resource: bool) -> DpopError:
    return DpopError("invalid_dpop_proof", description, resource=resource)


def _proof_key(header: dict[str, Any], resource: bool) -> PublicKey:
    try:
        check_header(header, typ=DPOP_TYP, algorithms=DPOP_ALGORITHMS, allow_jwk=True)
    except WrongTypeError as exc:
        raise _invalid(f"a DPoP proof must have typ {DPOP_TYP}", resource) from exc
    except UnsupportedAlgorithmError as exc:
        raise _invalid(f"a DPoP proof must be signed with {', '.join(DPOP_ALGORITHMS)}", resource) from exc
    except ForbiddenHeaderError as exc:
        raise _invalid(f"header {exc.header} is not accepted in a DPoP proof", resource) from exc
    jwk = header.get("jwk")
    # A `kid` beside the jwk is ignored: the jwk is the key, whatever else the header calls it.
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise _invalid("the DPoP proof header must carry the public P-256 key as jwk", resource)
    try:
        return load_public_jwk(jwk)  # refuses private members ("d") and points off the curve
    except CredentialError as exc:
        raise _invalid("the DPoP proof jwk is not a public P-256 key", resource) from exc


def _string_claim(payload: dict[str, Any], name: str, max_length: int, resource: bool) -> str:
    value = payload.get(name)
    if value is None:
        raise _invalid(f"the DPoP proof lacks {name}", resource)
    if not isinstance(value, str) or not 0 < len(value) <= max_length:
        raise _invalid(f"the DPoP proof {name} must be a string of 1 to {max_length} characters", resource)
    return value


def verify_dpop_proof(
    value: str,
    policy: DpopPolicy,
    *,
    method: str,
    url: str,
    now: int,
    access_token: str | None = None,
    resource: bool = False,
) -> DpopProof:
    """Check one proof (RFC 9449 §4.3 steps 2-9, 11, and `ath` of step 12) for a request of ``method`` to
    ``url``; ``access_token`` on a resource request. Raises DpopError invalid_dpop_proof."""
    try:
        jws = parse_compact(value, max_size=policy.max_size)
    except CredentialError as exc:
        raise _invalid("the DPoP proof is not a well-formed compact JWS", resource) from exc
    key = _proof_key(jws.header, resource)
    try:
        verify_signature(DPOP_ALGORITHMS[0], key, jws.signing_input, jws.signature)
    except CredentialError as exc:
        raise _invalid("the DPoP proof signature does not verify with its jwk", resource) from exc
    payload = jws.payload
    jti = _string_claim(payload, "jti", MAX_JTI_LENGTH, resource)
    if _string_claim(payload, "htm", 16, resource) != method:  # methods are case-sensitive (RFC 9110 §9.1)
        raise _invalid("the DPoP proof htm is not this request's method", resource)
    htu = _string_claim(payload, "htu", MAX_HTU_LENGTH, resource)
    try:
        matches = normalise_htu(htu) == normalise_htu(url)
    except ValueError as exc:
        raise _invalid("the DPoP proof htu is not an absolute http(s) URL", resource) from exc
    if not matches:
        raise _invalid("the DPoP proof htu is not this request's URL", resource)
    if "iat" not in payload:
        raise _invalid("the DPoP proof lacks iat", resource)
    try:
        iat = int_claim(payload, "iat")
    except CredentialError as exc:
        raise _invalid("the DPoP proof iat must be an integer", resource) from exc
    if abs(iat - now) > policy.iat_window:
        raise _invalid(f"the DPoP proof iat is more than {policy.iat_window} s from the server's time", resource)
    if access_token is not None:
        ath = _string_claim(payload, "ath", 64, resource)
        if not hmac.compare_digest(ath.encode("ascii", "replace"), access_token_hash(access_token).encode("ascii")):
            raise _invalid("the DPoP proof ath is not the hash of this access token", resource)
    nonce = payload.get("nonce")
    if nonce is not None and (not isinstance(nonce, str) or not 0 < len(nonce) <= MAX_NONCE_LENGTH):
        raise _invalid("the DPoP proof nonce must be a non-empty string", resource)
    return DpopProof(key=key, jkt=jwk_thumbprint(key), jti=jti, iat=iat, nonce=nonce)
