"""epermit's format core: what the bytes of a residence permit credential mean. No I/O.

The names below are the package's public API (``from credential import verify_pass, Permit``). They are
loaded on first use (PEP 562), so that ``import credential.errors`` — which every package does — does not
pay for X.509 and CBOR before a verifier needs them: a landlord's first scan starts faster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credential.door import lazy_door

_EXPORTS = {
    "EpermitError": "credential.errors", "CredentialError": "credential.errors",
    "MalformedError": "credential.errors", "BadSignatureError": "credential.errors",
    "UntrustedIssuerError": "credential.errors", "ExpiredError": "credential.errors",
    "NotYetValidError": "credential.errors", "ReplayedError": "credential.errors",
    "StatusError": "credential.errors", "MissingHolderProofError": "credential.errors",
    "InvalidApplicationError": "credential.errors",
    "CredentialType": "credential.model", "Permit": "credential.model", "Holder": "credential.model",
    "issue_sd_jwt_vc": "credential.sdjwt", "present": "credential.sdjwt", "verify_sd_jwt_vc": "credential.sdjwt",
    "encode_pass": "credential.qrpass", "pass_to_qr_text": "credential.qrpass", "live_qr_text": "credential.qrpass",
    "decode_qr_text": "credential.qrpass", "verify_pass": "credential.qrpass",
    "verify_live_proof": "credential.qrpass", "QR_PREFIX": "credential.qrpass",
    "StatusList": "credential.statuslist", "sign_status_list_token": "credential.statuslist",
    "verify_status_list_token": "credential.statuslist",
    "TrustList": "credential.trustlist", "TrustedKey": "credential.trustlist",
    "sign_trust_list": "credential.trustlist", "verify_trust_list": "credential.trustlist",
    "one_line": "credential.text",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_door("credential", _EXPORTS, globals())


if TYPE_CHECKING:
    from credential.errors import (
        BadSignatureError,
        CredentialError,
        EpermitError,
        ExpiredError,
        InvalidApplicationError,
        MalformedError,
        MissingHolderProofError,
        NotYetValidError,
        ReplayedError,
        StatusError,
        UntrustedIssuerError,
    )
    from credential.model import CredentialType, Holder, Permit
    from credential.qrpass import (
        QR_PREFIX,
        decode_qr_text,
        encode_pass,
        live_qr_text,
        pass_to_qr_text,
        verify_live_proof,
        verify_pass,
    )
    from credential.sdjwt import issue_sd_jwt_vc, present, verify_sd_jwt_vc
    from credential.statuslist import StatusList, sign_status_list_token, verify_status_list_token
    from credential.text import one_line
    from credential.trustlist import TrustedKey, TrustList, sign_trust_list, verify_trust_list
