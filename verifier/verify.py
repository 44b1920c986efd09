"""Offline verification of a scanned QR pass or a presented SD-JWT VC against the verifier's cache.

The order of checks is fixed so that the worst true statement wins: signature and trust first, then
validity, then revocation or suspension, then the holder proof, then the rest of status. A revoked
credential with a bad signature is BAD_SIGNATURE, never REVOKED; an expired one is EXPIRED whatever its
status; a revoked one whose live proof (or KB-JWT) is stale or missing is REVOKED (the credential itself is bad,
whoever shows it), while a good one shown with a stale proof is REPLAYED. The holder proof is therefore checked
before status but its failure is held back until status has been read. Nothing here touches the network.

Status rules (documented choices):
- no usable list for the credential's status URI -> STATUS_UNKNOWN;
- an index outside the cached list -> STATUS_UNKNOWN (the issuer did sign the credential; it is our status
  data that cannot speak for it, so MALFORMED would blame the wrong party);
- old data can only prove bad news: INVALID or SUSPENDED is reported from a list of any age (revocation is
  final; a suspension "as of" the data's age), while "still valid" needs a list younger than
  status_max_age and not past its ``exp``, and a trust list younger than trust_max_age and not past its
  ``exp`` (otherwise the signing key may have been revoked since) -> STATUS_UNKNOWN;
- the same holds for lists older than the newest the cache has accepted (copied back over the cache files,
  verifier.cache.Marks), and for every list while the cache's state file is lost -> STATUS_UNKNOWN;
- a list older than status_warn_age still gives VALID, with ``status_warning``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from credential.encoding import b64url_decode
from credential.errors import (
    CredentialError,
    MalformedError,
    MissingHolderProofError,
    PortraitMismatchError,
    TooLargeError,
    UntrustedIssuerError,
)
from credential.jwk import PublicKey
from credential.model import CredentialType
from credential.passclaims import PassView
from credential.portrait import PICTURE_CLAIM, check_picture
from credential.portraitcode import PortraitCheck, PortraitOutcome, check_portrait
from credential.qrpass import QR_PREFIX, decode_qr_text, verify_live_proof, verify_pass
from credential.sdjwt import PERSONAL_CLAIMS, credential_type_of, verify_issuer_signed, verify_key_binding
from credential.statuslist import INVALID, SUSPENDED, VALID
from credential.trustlist import TrustedKey, TrustList
from verifier.cache import Clock, Marks, VerifierCache
from verifier.errors import NotSetUpError
from verifier.policy import Policy
from verifier.report import age_text, one_line
from verifier.result import Format, Result, VerificationResult, View

MAX_INPUT = 64 * 1024  # characters; an SD-JWT VC with every disclosure and a KB-JWT is a few kB
# What a presentation must disclose to identify its holder (besides its type): the basic QR view's fields.
IDENTIFYING_CLAIMS = ("name", "document_number")
# The reason given when a non-CredentialError escaped a parser: a bug, reported as MALFORMED (fail closed).
# Tests and the fuzzer look for this prefix: it must never appear.
INTERNAL_ERROR = "unreadable input"

_REASONS = {
    Result.REVOKED: "the issuing authority has revoked this credential",
    Result.SUSPENDED: "the issuing authority has suspended this credential",
}


@dataclass
class _Findings:
    """What is established so far; an error at a later step keeps what earlier steps proved."""

    format: Format | None = None
    live: bool | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    view: View | None = None
    credential_type: str | None = None
    issuer_kid: str | None = None
    authority_name: str | None = None
    status_age: int | None = None
    status_warning: str | None = None
    # The face an SD-JWT VC discloses as ``picture``: verify_sd_jwt_vc has checked it against the signed digest.
    picture: PortraitOutcome | None = None


def _trusted_key_resolver(trust: TrustList | None, cache: VerifierCache, clock: Clock) -> Callable[[str], TrustedKey]:
    """The trust-list entry of a credential key: its public key, and the authority it belongs to (a QR pass
    names its authority by code only; the name shown is the entry's)."""
    def resolve(kid: str) -> TrustedKey:
        if trust is None and not cache.is_set_up():  # never synced: no verdict on any issuer
            raise NotSetUpError(cache.trust_list_problem())
        if trust is None:  # a cache file refused, or a trust list that does not verify: the reason says which
            raise UntrustedIssuerError(kid, cache.trust_list_problem())
        return trust.key_for(kid, purpose="credential", now=clock.now)

    return resolve


def _resolver(trust: TrustList | None, cache: VerifierCache, clock: Clock) -> Callable[[str], PublicKey]:
    trusted_key = _trusted_key_resolver(trust, cache, clock)
    return lambda kid: trusted_key(kid).public_key


def _authorise_type(trust: TrustList, kid: str, credential_type: CredentialType, clock: Clock) -> TrustedKey:
    """The key verified the signature; it must also be allowed to sign this type of credential."""
    return trust.key_for(kid, purpose="credential", now=clock.now, credential_type=credential_type.slug)


def _require_identity(claims: Mapping[str, Any]) -> None:
    """A verdict must say whose credential it is: the document type (always known, from the signed ``vct``
    or the pass), and a disclosed name and document number. A presentation without them, however genuine,
    identifies nobody and is MALFORMED, never VALID."""
    missing = [name for name in IDENTIFYING_CLAIMS if not (isinstance(claims.get(name), str) and claims[name])]
    if missing:
        raise MalformedError(f"the presentation does not identify its holder: {' and '.join(IDENTIFYING_CLAIMS)} "
                             f"must be disclosed (missing: {', '.join(missing)})")


def _established(found: _Findings, kid: str, key: TrustedKey, credential_type: CredentialType,
                 claims: dict[str, Any]) -> None:
    """The issuer is trusted for these claims, and they name the holder: from here on the result may show
    them."""
    _require_identity(claims)
    found.issuer_kid = kid
    found.authority_name = key.authority_name
    found.credential_type = credential_type.slug
    found.claims = claims


def _sd_jwt_claims(claims: Mapping[str, Any], credential_type: CredentialType, key: TrustedKey) -> dict[str, Any]:
    """The disclosed personal claims, named and encoded as Permit.to_dict() names them (both formats alike).

    The authority is the signing key's, as for the QR pass: a disclosed ``authority_code`` must be the
    key's (UntrustedIssuerError: a key of one authority signing for another), and the code and name shown
    are the trust list's, never the name typed into the credential at issuance."""
    code = claims.get("authority_code", key.authority_code)
    if code != key.authority_code:
        raise UntrustedIssuerError(key.kid, f"key of authority {key.authority_code} may not sign for authority {code}")
    out: dict[str, Any] = {"type": credential_type.slug}
    for name in PERSONAL_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if name == "birthdate":
            out["birth_date"] = value
        elif name == PICTURE_CLAIM:  # the face itself is the portrait result's (verified, or no verdict at all)
            continue
        elif name == "portrait_sha256" and isinstance(value, str):
            out[name] = b64url_decode(value).hex()
        else:
            out[name] = value
    out["authority_code"], out["authority_name"] = key.authority_code, key.authority_name
    return out


def _verify_qr(text: str, trust: TrustList | None, cache: VerifierCache, clock: Clock, policy: Policy,
               found: _Findings) -> tuple[str, int, CredentialError | None]:
    found.format = "qr_pass"
    decoded = decode_qr_text(text)
    # The key's entry also gives the authority: its code must be the pass's, its name is the one shown.
    verified = verify_pass(decoded, resolve_key=_trusted_key_resolver(trust, cache, clock), now=clock.now)
    assert trust is not None  # verify_pass resolved a key from it
    key = _authorise_type(trust, verified.kid, verified.permit.type, clock)
    _established(found, verified.kid, key, verified.permit.type, verified.permit.to_dict())
    found.view = "basic" if verified.view is PassView.BASIC else "full"
    proof_error: CredentialError | None = None
    found.live = False  # until a proof verifies
    if decoded.live:
        nonce = None if policy.expected_nonce is None else policy.expected_nonce.encode("utf-8")
        try:
            verify_live_proof(decoded, verified.holder_key, now=clock.now, window=policy.live_window, nonce=nonce)
            found.live = True
        except CredentialError as exc:
            proof_error = exc
    elif policy.require_live:
        proof_error = MissingHolderProofError("static QR pass (no live proof); this verifier requires a live QR")
    return verified.status_uri, verified.status_idx, proof_error


def _disclosed_picture(claims: Mapping[str, Any]) -> PortraitOutcome | None:
    """The face a disclosed ``picture`` carries, checked here against the disclosed, signed portrait_sha256
    (whatever the credential layer checked before: this is what decides that a face is shown). A picture that
    does not match raises PortraitMismatchError (MALFORMED, portrait mismatch)."""
    portrait = check_picture(claims)
    if portrait is None:
        return None
    return PortraitOutcome(PortraitCheck.VERIFIED, "the SD-JWT VC discloses the portrait it signs",
                           portrait.media_type, portrait.data)


def _verify_sd_jwt(text: str, trust: TrustList | None, cache: VerifierCache, clock: Clock, policy: Policy,
                   found: _Findings) -> tuple[str, int, CredentialError | None]:
    found.format = "sd_jwt_vc"

    def check_issuer(kid: str, claims: Mapping[str, Any]) -> None:
        assert trust is not None  # the signature verified with one of its keys
        credential_type = credential_type_of(claims)
        key = _authorise_type(trust, kid, credential_type, clock)
        picture = _disclosed_picture(claims)  # before anything is established: a bad picture shows nothing
        _established(found, kid, key, credential_type, _sd_jwt_claims(claims, credential_type, key))
        found.picture = picture

    # The issuer's part first; the key binding's failure is held back until status is read, as for the
    # live QR proof: a revoked credential shown with a stale KB-JWT is REVOKED, a good one REPLAYED.
    issued = verify_issuer_signed(text, resolve_key=_resolver(trust, cache, clock), now=clock.now,
                                  check_issuer=check_issuer)  # type and authority, judged before the binding
    found.live = False  # until a KB-JWT verifies
    proof_error: CredentialError | None = None
    try:
        verified = verify_key_binding(issued, now=clock.now, require_key_binding=False, aud=policy.expected_aud,
                                      nonce=policy.expected_nonce, kb_max_age=policy.kb_max_age)
        found.live = verified.key_bound
    except CredentialError as exc:
        proof_error = exc
    if proof_error is None and policy.require_live and not found.live:
        proof_error = MissingHolderProofError("SD-JWT VC without a KB-JWT; this verifier requires key binding")
    return issued.status_uri, issued.status_idx, proof_error


def _judge_status(uri: str, idx: int, cache: VerifierCache, trust: TrustList, clock: Clock, marks: Marks,
                  policy: Policy, found: _Findings) -> tuple[Result, str]:
    held = cache.status_list(uri, trust=trust)
    if held is None:
        return Result.STATUS_UNKNOWN, cache.status_list_problem(uri)
    found.status_age = max(0, clock.now - held.iat)
    value = held.status_list.get(idx)  # StatusError (-> STATUS_UNKNOWN) when idx is outside the list
    age = age_text(found.status_age)
    if value == INVALID:
        return Result.REVOKED, f"{_REASONS[Result.REVOKED]} (revocation data {age} old)"
    if value == SUSPENDED:
        return Result.SUSPENDED, f"{_REASONS[Result.SUSPENDED]} (revocation data {age} old)"
    if value != VALID:
        return Result.STATUS_UNKNOWN, f"status value {value} has no meaning here"
    # Files older than the newest lists accepted were put back by hand: they cannot prove "still good".
    rolled_back = marks.status_problem(uri, held) or marks.trust_problem(trust)
    if rolled_back is not None:
        return Result.STATUS_UNKNOWN, rolled_back
    if held.exp is not None and clock.now >= held.exp:
        return Result.STATUS_UNKNOWN, f"revocation data expired (updated {age} ago); sync"
    if found.status_age > policy.status_max_age:
        return Result.STATUS_UNKNOWN, f"revocation data too old ({age}); sync"
    trust_age = clock.now - trust.iat
    if clock.now >= trust.exp or trust_age > policy.trust_max_age:
        return Result.STATUS_UNKNOWN, f"trust list too old ({age_text(max(0, trust_age))}); sync"
    if found.status_age > policy.status_warn_age:
        found.status_warning = f"revocation data is {age} old"
    return Result.VALID, "genuine, within its validity and not revoked"


_CREDENTIAL_BAD = (Result.REVOKED, Result.SUSPENDED)
# The results a mismatched portrait overrides: those under which the landlord would still go on to compare the
# face (VALID, and "status unknown: not yet"). Every other result already refuses, and keeps its meaning.
_PORTRAIT_OVERRIDES = (Result.VALID, Result.STATUS_UNKNOWN)


def _judge_portrait(codes: Sequence[bytes], found: _Findings) -> PortraitOutcome:
    """The portrait codes against the digest the pass signs: only a pass whose issuer is established vouches
    for a face (before that, its digest is anyone's)."""
    if found.picture is not None and (found.picture.check is PortraitCheck.MISMATCH
                                      or (found.issuer_kid is not None and not codes)):
        return found.picture
    digest = found.claims.get("portrait_sha256") if found.issuer_kid is not None else None
    signed = bytes.fromhex(digest) if isinstance(digest, str) else None
    return check_portrait(codes, signed)


def _judge_with_proof(uri: str, idx: int, proof_error: CredentialError | None, cache: VerifierCache,
                      trust: TrustList, clock: Clock, marks: Marks, policy: Policy,
                      found: _Findings) -> tuple[Result, str]:
    """Status, then the held-back holder-proof failure: revoked or suspended outranks a stale or missing
    proof; a proof failure outranks anything else status could say (unknown, or valid)."""
    try:
        result, reason = _judge_status(uri, idx, cache, trust, clock, marks, policy, found)
    except CredentialError:
        if proof_error is not None:
            raise proof_error from None
        raise
    if proof_error is not None and result not in _CREDENTIAL_BAD:
        raise proof_error
    return result, reason


def verify(text: str, cache: VerifierCache, *, policy: Policy, now: int, strict: bool = False,
           portrait_codes: Sequence[bytes] = ()) -> VerificationResult:
    """Verify one scanned or pasted credential. Never raises for bad input: every fault is a result.

    ``portrait_codes``: the raw bytes of the portrait codes scanned with it (credential.portraitcode); one
    that the verified pass does not sign makes a VALID (or STATUS_UNKNOWN) result PORTRAIT_MISMATCH.

    ``strict`` (tests and fuzzing): an exception outside the CredentialError family, which would otherwise be
    reported as MALFORMED with the INTERNAL_ERROR reason, propagates so that the bug shows its traceback."""
    # One look at state.json serves the whole scan: the clock, and the marks the lists are judged against.
    clock, marks = cache.scan_state(now, skew=policy.skew)
    found = _Findings()
    trust: TrustList | None = None
    try:
        trust = cache.trust_list()
        if not isinstance(text, str):
            raise MalformedError("input must be text")
        if len(text) > MAX_INPUT:
            raise TooLargeError("input", MAX_INPUT)
        text = text.strip()
        if not text:
            raise MalformedError("empty input")
        if text.startswith(QR_PREFIX):
            uri, idx, proof_error = _verify_qr(text, trust, cache, clock, policy, found)
        else:
            uri, idx, proof_error = _verify_sd_jwt(text, trust, cache, clock, policy, found)
        assert trust is not None
        result, reason = _judge_with_proof(uri, idx, proof_error, cache, trust, clock, marks, policy, found)
    except CredentialError as exc:
        result, reason = Result.from_code(exc.code), str(exc) or type(exc).__name__
        if isinstance(exc, PortraitMismatchError):  # a disclosed picture that is not the signed portrait
            found.picture = PortraitOutcome(PortraitCheck.MISMATCH, reason)
    except NotSetUpError as exc:
        result, reason = Result.NOT_SET_UP, exc.reason
    except Exception as exc:  # a parser bug must still not crash a landlord's scan: fail closed
        if strict:
            raise
        result, reason = Result.MALFORMED, f"{INTERNAL_ERROR} ({type(exc).__name__})"
    portrait = _judge_portrait(portrait_codes, found)
    if portrait.check is PortraitCheck.MISMATCH and result in _PORTRAIT_OVERRIDES:
        result, reason = Result.PORTRAIT_MISMATCH, portrait.reason
    if result is Result.VALID:
        mode = "live: the holder's phone signed it just now" if found.live else "static: check the physical card"
        reason = f"{reason} ({mode})"
    claims_trusted = found.issuer_kid is not None
    return VerificationResult(
        result=result,
        reason=one_line(reason),
        format=found.format,
        live=found.live,
        claims=found.claims if claims_trusted else {},
        view=found.view if claims_trusted else None,
        credential_type=found.credential_type,
        issuer_kid=found.issuer_kid,
        authority_name=found.authority_name,
        trust_version=None if trust is None else trust.version,
        trust_age_seconds=None if trust is None else max(0, clock.now - trust.iat),
        status_age_seconds=found.status_age,
        status_warning=found.status_warning,
        clock_warning=clock.warning,
        portrait=portrait.check.value,
        portrait_reason=one_line(portrait.reason),
        portrait_media_type=portrait.media_type,
        portrait_image=portrait.image,
    )


__all__ = ["IDENTIFYING_CLAIMS", "INTERNAL_ERROR", "MAX_INPUT", "Policy", "Result", "VerificationResult", "verify"]
