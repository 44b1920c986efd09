"""Requests residents make online (issue 16): endorse, lost phone, address change, deregister; the officers'
queue; recovery codes; resident authentication by a credential presentation. docs/resident-requests.md.

The names below load on first use (PEP 562), so that the wallet API's routes import the value types and
errors without loading the issuer service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credential.door import lazy_door

_EXPORTS = {
    "PresentationAuthenticator": "issuer.requests.authn", "ResidentAuthenticator": "issuer.requests.authn",
    "ResidentIdentity": "issuer.requests.authn",
    "CredentialNotCurrentError": "issuer.requests.errors", "OneTimeCodeRefusedError": "issuer.requests.errors",
    "PresentationRejectedError": "issuer.requests.errors", "RecoveryRefusedError": "issuer.requests.errors",
    "RequestNotFoundError": "issuer.requests.errors", "RequestStateError": "issuer.requests.errors",
    "ResidentRequestError": "issuer.requests.errors",
    "RequestKind": "issuer.requests.model", "RequestState": "issuer.requests.model",
    "ResidentRequest": "issuer.requests.model",
    "RecoveryCodes": "issuer.requests.recovery", "RecoveryLimits": "issuer.requests.recovery",
    "ResidentRequests": "issuer.requests.service", "answer": "issuer.requests.words",
}
__all__ = ["CredentialNotCurrentError", "OneTimeCodeRefusedError", "PresentationAuthenticator",
           "PresentationRejectedError", "RecoveryCodes", "RecoveryLimits", "RecoveryRefusedError", "RequestKind",
           "RequestNotFoundError", "RequestState", "RequestStateError", "ResidentAuthenticator", "ResidentIdentity",
           "ResidentRequest", "ResidentRequestError", "ResidentRequests", "answer"]  # = sorted(_EXPORTS)

__getattr__ = lazy_door("issuer.requests", _EXPORTS, globals())

if TYPE_CHECKING:
    from issuer.requests.authn import PresentationAuthenticator, ResidentAuthenticator, ResidentIdentity
    from issuer.requests.errors import (
        CredentialNotCurrentError,
        OneTimeCodeRefusedError,
        PresentationRejectedError,
        RecoveryRefusedError,
        RequestNotFoundError,
        RequestStateError,
        ResidentRequestError,
    )
    from issuer.requests.model import RequestKind, RequestState, ResidentRequest
    from issuer.requests.recovery import RecoveryCodes, RecoveryLimits
    from issuer.requests.service import ResidentRequests
    from issuer.requests.words import answer
