"""Requests residents make online (issue 16): endorse, lost phone, address change, deregister; the officers'
queue; recovery codes; resident authentication by a credential presentation. docs/resident-requests.md."""

from __future__ import annotations

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

__all__ = ["CredentialNotCurrentError", "OneTimeCodeRefusedError", "PresentationAuthenticator", "PresentationRejectedError", "RecoveryCodes",
           "RecoveryLimits", "RecoveryRefusedError", "RequestKind", "RequestNotFoundError", "RequestState",
           "RequestStateError", "ResidentAuthenticator", "ResidentIdentity", "ResidentRequest", "ResidentRequestError",
           "ResidentRequests", "answer"]
