"""The errors of residents' requests: each an IssuerError (one root) with the stable ``error`` code and data."""

from __future__ import annotations

from issuer.errors import IssuerError


class ResidentRequestError(IssuerError):
    """Root of this package's refusals; nothing was changed when one is raised."""

    http_status = 400
    error = "invalid_resident_request"


class PresentationRejectedError(ResidentRequestError):
    """The credential presentation does not authenticate a resident; ``cause`` says which check failed
    (a stable word: malformed, signature, issuer, nonce, audience, key_binding, not_current, unknown_holder)."""

    http_status = 401
    error = "invalid_presentation"

    def __init__(self, cause: str, description: str) -> None:
        super().__init__(description)
        self.cause = cause


class CredentialNotCurrentError(PresentationRejectedError):
    """A genuine presentation of a credential that is revoked, suspended, retired or expired: ``status``."""

    http_status = 403
    error = "credential_not_current"

    def __init__(self, status: str) -> None:
        super().__init__("not_current", f"the presented credential is {status}")
        self.status = status


class RequestNotFoundError(ResidentRequestError):
    """No such request, or one the caller may not see (the same answer, as for records)."""

    http_status = 404
    error = "request_not_found"

    def __init__(self, request_id: str) -> None:
        super().__init__("no such request")
        self.request_id = request_id


class RequestStateError(ResidentRequestError):
    """The request is not in a state that allows this (``state``), or another request of the record is open."""

    http_status = 409
    error = "request_conflict"

    def __init__(self, description: str, *, state: str) -> None:
        super().__init__(description)
        self.state = state


class RecoveryRefusedError(ResidentRequestError):
    """The citizen ID and recovery code do not match (one answer for every cause: no oracle)."""

    http_status = 403
    error = "recovery_refused"

    def __init__(self) -> None:
        super().__init__("the citizen ID and recovery code do not match a registered holder")


class OneTimeCodeRefusedError(ResidentRequestError):
    """The one-time code is wrong, expired or used (one answer for every cause)."""

    http_status = 403
    error = "code_refused"

    def __init__(self) -> None:
        super().__init__("the one-time code is wrong or expired: ask for a new one")
