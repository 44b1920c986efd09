"""The wallet credential: SD-JWT VC (RFC 9901 + draft-ietf-oauth-sd-jwt-vc-18).

Issuance makes every personal claim a disclosure and keeps iss, vct, iat, nbf, exp, cnf and status
always visible. Verification is strict RFC 9901 §7.1/§7.3: whether key binding is required is the
verifier's policy, never decided by what the presentation happens to carry; a KB-JWT that is present is
always checked.

Keys: the issuer-signed JWT names its key by ``kid`` and carries the signing certificate in ``x5c`` (HAIP
1.0 §6.1.1, for wallets and verifiers that resolve issuer keys by X.509). Our verifier takes the key by
``kid`` from its trust list and never from the token: the x5c chain is tolerated, not read. The KB-JWT
header is typ and alg only (RFC 9901 §4.3): its key is the credential's ``cnf.jwk``, which has no kid.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from credential.disclosures import (
    SD_ALG,
    SD_ALG_KEY,
    SD_KEY,
    decode_disclosure,
    disclose,
    salts_and_decoys,
    unpack,
    without_digests,
)
from credential.encoding import b64url_encode
from credential.errors import (
    InvalidClaimError,
    MalformedError,
    MissingClaimError,
    MissingHolderProofError,
    ReplayedError,
    TooLargeError,
)
from credential.jose import (
    DEFAULT_SKEW,
    Signer,
    check_header,
    check_time_claims,
    int_claim,
    parse_compact,
    sign_compact,
    verify_compact,
    verify_signature,
    x5c_header,
)
from credential.jwk import PublicKey, load_public_jwk, public_jwk
from credential.model import CredentialType, Permit
from credential.portrait import DIGEST_CLAIM, PICTURE_CLAIM, check_picture, portrait_data_uri

ISSUED_TYP = "dc+sd-jwt"
ACCEPTED_TYPS = ("dc+sd-jwt", "vc+sd-jwt")  # vc+sd-jwt: the pre-2025 name, accepted on input only
KB_TYP = "kb+jwt"
ALGORITHMS = ("ES256", "EdDSA")  # issuer signatures (EdDSA allowed by configuration)
KB_ALGORITHMS = ("ES256", "EdDSA")  # holder signatures; the cnf key's type then pins exactly one
MAX_SD_JWT = 64 * 1024
VCT = {t: t.vct_path for t in CredentialType}  # appended to iss
# Claims the SD-JWT VC draft forbids to disclose selectively; they must arrive in the signed payload as is.
ALWAYS_VISIBLE = ("iss", "vct", "iat", "nbf", "exp", "cnf", "status")
PERSONAL_CLAIMS = (
    "name", "name_pinyin", "sex", "ethnicity", "birthdate", "citizen_id", "address",
    "document_number", "district", "authority_code", "authority_name", "portrait_sha256", "picture",
)
# The basic view as an SD-JWT presentation: what the basic QR pass states (credential.passclaims.BasicPermit),
# the portrait's digest and the portrait itself (a landlord compares the face); no personal claim.
BASIC_DISCLOSURE = ("name", "name_pinyin", "document_number", "authority_code", "authority_name",
                    "portrait_sha256", "picture")
CHINA_STANDARD_TIME = datetime.timezone(datetime.timedelta(hours=8))
_EPOCH_ORDINAL = datetime.date(1970, 1, 1).toordinal()


def personal_claims(permit: Permit, portrait: bytes | None = None) -> dict[str, Any]:
    """The disclosable claims; ``picture`` (credential.portrait) when the portrait's bytes are given, which
    must then hash to the permit's portrait_sha256."""
    h = permit.holder
    claims: dict[str, Any] = {
        "name": h.name,
        "name_pinyin": h.name_pinyin,
        "sex": h.sex,
        "ethnicity": h.ethnicity,
        "birthdate": h.birth_date.isoformat(),
        "citizen_id": h.citizen_id,
        "address": h.address,
        "document_number": permit.document_number,
        "district": permit.district,
        "authority_code": permit.authority_code,
        "authority_name": permit.authority_name,
    }
    if h.portrait_sha256 is not None:
        claims["portrait_sha256"] = b64url_encode(h.portrait_sha256)
    if portrait is not None:
        if h.portrait_sha256 != hashlib.sha256(portrait).digest():
            raise InvalidClaimError(PICTURE_CLAIM, "the portrait does not hash to the permit's portrait_sha256")
        claims[PICTURE_CLAIM] = portrait_data_uri(portrait)
    return claims


def day_start(day: datetime.date) -> int:
    """00:00 China Standard Time of ``day``, as unix seconds: when a permit dated ``day`` starts to hold."""
    # Exactly int(datetime.combine(day, time(0), CHINA_STANDARD_TIME).timestamp()), by ordinal arithmetic.
    return (day.toordinal() - _EPOCH_ORDINAL) * 86400 - 8 * 3600


def issue_sd_jwt_vc(
    permit: Permit,
    *,
    issuer: str,
    signer: Signer,
    holder_key: PublicKey,
    status_uri: str,
    status_idx: int,
    now: int,
    exp: int,
    decoys: int = 3,
    nbf: int | None = None,
    certificates: Sequence[x509.Certificate] = (),
    portrait: bytes | None = None,
) -> str:
    """Sign an SD-JWT VC (ending in "~"). ``nbf`` defaults to the start of the permit's valid_from day.

    ``portrait``: the portrait's bytes, disclosed as ``picture``; they must hash to the permit's
    portrait_sha256 (a permit with a digest and no bytes gives a credential with the digest only).

    ``certificates``: the signer's certificate chain for the ``x5c`` header, leaf first, without the root
    (credential.jose.x5c_header); none gives a header with ``kid`` only."""
    if type(status_idx) is not int or status_idx < 0:
        raise InvalidClaimError("status", "idx must be a non-negative integer")
    not_before = day_start(permit.valid_from) if nbf is None else nbf
    if not exp > max(now, not_before):
        raise InvalidClaimError("exp", "must be later than iat and nbf")
    if decoys < 0:
        raise InvalidClaimError("_sd", "the number of decoys cannot be negative")
    claims = personal_claims(permit, portrait)
    salts, decoy_texts = salts_and_decoys(len(claims), decoys)
    disclosures, disclosure_digests = disclose(salts, claims)
    sd_digests = sorted(disclosure_digests + decoy_texts)
    payload = {
        "iss": issuer,
        "vct": issuer + VCT[permit.type],
        "iat": now,
        "nbf": not_before,
        "exp": exp,
        "cnf": {"jwk": public_jwk(holder_key)},
        "status": {"status_list": {"idx": status_idx, "uri": status_uri}},
        SD_ALG_KEY: SD_ALG,
        SD_KEY: sd_digests,
    }
    header: dict[str, Any] = {"typ": ISSUED_TYP}
    if certificates:
        header["x5c"] = x5c_header(certificates, kid=signer.kid)
    jwt = sign_compact(header, payload, signer)
    return "~".join([jwt, *disclosures, ""])


def split_sd_jwt(text: str) -> tuple[str, list[str], str | None]:
    """(issuer-signed JWT, disclosures, KB-JWT or None), after the size cap and the shape rules."""
    if not isinstance(text, str):
        raise MalformedError("an SD-JWT is text")
    if len(text) > MAX_SD_JWT:
        raise TooLargeError("SD-JWT", MAX_SD_JWT)
    if not text.isascii():
        raise MalformedError("an SD-JWT is ASCII")
    if "~" not in text:
        raise MalformedError("an SD-JWT ends with ~ (or a KB-JWT after it)")
    jwt, *disclosures, last = text.split("~")
    if "" in disclosures:
        raise MalformedError("empty disclosure")
    if last and last.count(".") != 2:
        raise MalformedError("the last element is neither empty nor a KB-JWT")
    return jwt, disclosures, last or None


def sd_hash(presented: str) -> str:
    """The KB-JWT's sd_hash: over the issuer JWT and the disclosures presented, ending in "~"."""
    return b64url_encode(hashlib.sha256(presented.encode("ascii")).digest())


def present(
    sd_jwt: str, *, disclose: Collection[str] | None, holder_signer: Signer, aud: str, nonce: str, now: int
) -> str:
    """Make an SD-JWT+KB showing the named top-level claims (None: all), bound to ``aud`` and ``nonce``.

    Names the credential does not have are skipped; array-element disclosures go only with ``None``.
    ``picture`` goes with ``portrait_sha256``: a verifier checks the image against the signed digest.
    """
    if isinstance(disclose, str):
        raise TypeError("disclose is a collection of claim names, not one string")
    jwt, disclosures, kb = split_sd_jwt(sd_jwt)
    if disclose is not None and PICTURE_CLAIM in disclose:
        disclose = {*disclose, DIGEST_CLAIM}
    if kb is not None:  # RFC 9901 §7.2: a holder must not accept an SD-JWT+KB as an issued credential
        raise MalformedError("the credential already carries a KB-JWT")
    chosen = [
        d for d in disclosures
        if disclose is None or decode_disclosure(d, max_size=MAX_SD_JWT).name in disclose
    ]
    presented = "~".join([jwt, *chosen, ""])
    kb_payload = {"iat": now, "aud": aud, "nonce": nonce, "sd_hash": sd_hash(presented)}
    # No kid: the verifier takes the key from cnf.jwk, and a peer that matches the header's kid against
    # that jwk (which has none) would find no key.
    return presented + sign_compact({"typ": KB_TYP}, kb_payload, holder_signer, with_kid=False)


@dataclass(frozen=True, slots=True)
class VerifiedSdJwt:
    issuer_kid: str
    claims: dict[str, Any]  # disclosed claims plus the always-visible ones; no _sd, _sd_alg or decoys
    holder_key: PublicKey | None
    key_bound: bool  # a KB-JWT was present and verified
    status_uri: str
    status_idx: int


@dataclass(frozen=True, slots=True)
class IssuerVerifiedSdJwt:
    """The issuer's part of an SD-JWT VC verified: signature, disclosures, validity dates, ``check_issuer``.
    The holder's KB-JWT is NOT yet checked: this is no verdict on the presentation, only what a verifier
    may read (the status reference) before ``verify_key_binding`` turns it into a VerifiedSdJwt."""

    issuer_kid: str
    claims: dict[str, Any]
    holder_key: PublicKey | None
    status_uri: str
    status_idx: int
    kb_jwt: str | None  # as presented, unverified
    presented: str  # the issuer JWT and the disclosures, ending in "~": what the KB-JWT's sd_hash covers


def verify_sd_jwt_vc(
    text: str,
    *,
    resolve_key: Callable[[str], PublicKey],
    now: int,
    require_key_binding: bool,
    aud: str | None = None,
    nonce: str | None = None,
    kb_max_age: int = 300,
    algorithms: tuple[str, ...] = ALGORITHMS,
    kb_algorithms: tuple[str, ...] = KB_ALGORITHMS,
    check_issuer: Callable[[str, Mapping[str, Any]], None] | None = None,
) -> VerifiedSdJwt:
    """Verify an SD-JWT VC or SD-JWT+KB; raises a CredentialError subclass on any fault.

    ``check_issuer(kid, claims)``: the caller's rules for what the signing key may vouch for (the credential
    type, the issuing authority), called once the signature, the disclosures and the validity dates are
    established and before the key binding, as verify_pass judges the authority before the live proof.
    The two steps are also public (verify_issuer_signed, then verify_key_binding) for a verifier that must
    read the credential's status before it reports a failed key binding (the worst true fact wins)."""
    issued = verify_issuer_signed(text, resolve_key=resolve_key, now=now, algorithms=algorithms,
                                  check_issuer=check_issuer)
    return verify_key_binding(issued, now=now, require_key_binding=require_key_binding, aud=aud, nonce=nonce,
                              kb_max_age=kb_max_age, kb_algorithms=kb_algorithms)


def verify_issuer_signed(
    text: str,
    *,
    resolve_key: Callable[[str], PublicKey],
    now: int,
    algorithms: tuple[str, ...] = ALGORITHMS,
    check_issuer: Callable[[str, Mapping[str, Any]], None] | None = None,
) -> IssuerVerifiedSdJwt:
    """The first step of verify_sd_jwt_vc: everything but the KB-JWT (CredentialError on any fault)."""
    jwt, disclosure_texts, kb_jwt = split_sd_jwt(text)
    jws = verify_compact(jwt, typ=ACCEPTED_TYPS, algorithms=algorithms, resolve_key=resolve_key,
                         max_size=MAX_SD_JWT, allow_x5c=True)  # x5c is for X.509 peers; the key is by kid
    payload = jws.payload
    if payload.get(SD_ALG_KEY, SD_ALG) != SD_ALG:  # absent means sha-256 (RFC 9901 §4.1.1)
        raise InvalidClaimError(SD_ALG_KEY, "only sha-256 is accepted")
    claims = unpack(payload, [decode_disclosure(d, max_size=MAX_SD_JWT) for d in disclosure_texts])
    for name in ALWAYS_VISIBLE:
        if name in claims:
            if name not in payload:
                raise InvalidClaimError(name, "must not be selectively disclosed")
            signed = payload[name]  # a scalar reads the same with nothing disclosed: no walk needed
            if claims[name] != (without_digests(signed) if isinstance(signed, (dict, list)) else signed):
                raise InvalidClaimError(name, "must not be selectively disclosed")
    for name in ("iss", "vct"):
        if name not in claims:
            raise MissingClaimError(name)
        if not isinstance(claims[name], str) or not claims[name]:
            raise InvalidClaimError(name, "must be a non-empty string")
    check_time_claims(payload, now=now, skew=DEFAULT_SKEW, require=("iat", "exp"))
    status_uri, status_idx = status_reference(claims)
    check_picture(claims)  # a picture disclosed is the signed portrait's bytes, or nothing is accepted
    holder_key = _holder_key(claims)
    if check_issuer is not None:
        check_issuer(jws.header["kid"], claims)
    presented = text if kb_jwt is None else text[: -len(kb_jwt)]
    return IssuerVerifiedSdJwt(jws.header["kid"], claims, holder_key, status_uri, status_idx, kb_jwt, presented)


def verify_key_binding(
    issued: IssuerVerifiedSdJwt,
    *,
    now: int,
    require_key_binding: bool,
    aud: str | None = None,
    nonce: str | None = None,
    kb_max_age: int = 300,
    kb_algorithms: tuple[str, ...] = KB_ALGORITHMS,
) -> VerifiedSdJwt:
    """The second step: a KB-JWT that is present is always checked (ReplayedError when stale, for another
    audience or nonce, or for another presentation); none is MissingHolderProofError when required."""
    if issued.kb_jwt is None:
        if require_key_binding:
            raise MissingHolderProofError("the presentation carries no KB-JWT")
    else:
        if issued.holder_key is None:
            raise MissingClaimError("cnf")
        _verify_key_binding(issued.kb_jwt, issued.holder_key, presented=issued.presented, now=now, aud=aud,
                            nonce=nonce, max_age=kb_max_age, algorithms=kb_algorithms)
    return VerifiedSdJwt(issued.issuer_kid, issued.claims, issued.holder_key, issued.kb_jwt is not None,
                         issued.status_uri, issued.status_idx)


def _holder_key(claims: Mapping[str, Any]) -> PublicKey | None:
    if "cnf" not in claims:
        return None
    cnf = claims["cnf"]
    if not isinstance(cnf, dict) or "jwk" not in cnf:
        raise InvalidClaimError("cnf", "must hold a jwk")
    return load_public_jwk(cnf["jwk"])


def status_reference(claims: Mapping[str, Any]) -> tuple[str, int]:
    """(uri, idx) of the Token Status List entry, type-checked."""
    if "status" not in claims:
        raise MissingClaimError("status")
    status = claims["status"]
    entry = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(entry, dict):
        raise InvalidClaimError("status", "must hold a status_list object")
    idx, uri = entry.get("idx"), entry.get("uri")
    if type(idx) is not int or idx < 0:
        raise InvalidClaimError("status", "idx must be a non-negative integer")
    if not isinstance(uri, str) or not uri:
        raise InvalidClaimError("status", "uri must be a non-empty string")
    return uri, idx


def _verify_key_binding(
    kb_jwt: str, holder_key: PublicKey, *, presented: str, now: int, aud: str | None, nonce: str | None,
    max_age: int, algorithms: tuple[str, ...],
) -> None:
    kb = parse_compact(kb_jwt, max_size=MAX_SD_JWT)
    check_header(kb.header, typ=KB_TYP, algorithms=algorithms)
    verify_signature(kb.header["alg"], holder_key, kb.signing_input, kb.signature)
    for name in ("iat", "aud", "nonce", "sd_hash"):
        if name not in kb.payload:
            raise MissingClaimError(name)
    iat = int_claim(kb.payload, "iat")
    if iat > now + DEFAULT_SKEW:
        raise ReplayedError("KB-JWT issued in the future")
    if iat < now - max_age:
        raise ReplayedError("KB-JWT is too old")
    for name, expected in (("aud", aud), ("nonce", nonce)):
        value = kb.payload[name]
        if not isinstance(value, str):
            raise InvalidClaimError(name, "must be a single string")
        if expected is not None and value != expected:
            raise ReplayedError(f"KB-JWT {name} is not the expected one")
    if kb.payload["sd_hash"] != sd_hash(presented):
        raise ReplayedError("KB-JWT is for another presentation")


def credential_type_of(claims: Mapping[str, Any]) -> CredentialType:
    """The credential type named by ``vct``, which must be the issuer's URL plus a known type path."""
    vct, iss = claims.get("vct"), claims.get("iss")
    if isinstance(vct, str) and isinstance(iss, str):
        for credential_type, path in VCT.items():
            if vct == iss + path:
                return credential_type
    raise InvalidClaimError("vct", "is not a residence permit or registration type of this issuer")
