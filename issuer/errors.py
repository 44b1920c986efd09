"""Issuer errors: each names the HTTP status and the stable ``error`` code a client sees.

They derive from credential.errors.EpermitError so that every epermit error has one root; the HTTP
layers (issuer.api, wallet_api) turn them into ``{"error": ..., "error_description": ...}`` bodies.
"""

from __future__ import annotations

from credential.errors import EpermitError


class IssuerError(EpermitError):
    """Root of the issuer's errors; ``str(error)`` is the human description (never a secret)."""

    http_status = 500
    error = "server_error"
    # What the resident reads first: a Chinese message beside the English description, where one was written.
    description_zh: str | None = None

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class NotFoundError(IssuerError):
    http_status = 404
    error = "not_found"


class RecordNotFoundError(NotFoundError):
    """No such record, or one the officer may not see (the two are indistinguishable on purpose)."""

    def __init__(self, record_id: str) -> None:
        super().__init__("no such record")
        self.record_id = record_id


class OfferNotFoundError(NotFoundError):
    def __init__(self, offer_id: str) -> None:
        super().__init__("no such credential offer")
        self.offer_id = offer_id


class StatusListNotFoundError(NotFoundError):
    def __init__(self, list_ref: str) -> None:
        super().__init__("no such status list")
        self.list_ref = list_ref


class StateConflictError(IssuerError):
    """The record is not in a state that allows the action (e.g. a second revoke)."""

    http_status = 409
    error = "conflict"

    def __init__(self, description: str, *, state: str | None = None) -> None:
        super().__init__(description)
        self.state = state


class OfficerExistsError(StateConflictError):
    """An officer with this id exists: a new role, districts or name is a change, not a second add."""

    def __init__(self, officer_id: str) -> None:
        super().__init__(f"officer {officer_id} already exists: change its name, role or districts instead")
        self.officer_id = officer_id


class InvalidRequestError(IssuerError):
    http_status = 400
    error = "invalid_request"


class MissingTxCodeError(InvalidRequestError):
    def __init__(self) -> None:
        super().__init__("tx_code is required for this pre-authorized code")


class InvalidGrantError(IssuerError):
    """Unknown, used, expired or burned pre-authorized code, or a wrong PIN: one ``error`` for all."""

    http_status = 400
    error = "invalid_grant"


class WrongPinError(InvalidGrantError):
    """A wrong PIN for a code that could still be redeemed; ``attempts_left`` is 0 once this one burned it.

    Saying so reveals nothing the offer does not: whoever holds the code can fetch the offer by reference
    while it is open. The resident needs to know how many tries remain before the code is void.
    """

    def __init__(self, attempts_left: int) -> None:
        plural = "" if attempts_left == 1 else "s"
        super().__init__(f"wrong PIN: {attempts_left} attempt{plural} left")  # ASCII: an OAuth error_description
        self.attempts_left = attempts_left
        self.description_zh = (f"取证密码（PIN）不正确，还可尝试 {attempts_left} 次" if attempts_left
                               else "取证密码（PIN）不正确，领取码已作废：请民警重新生成领取码")


class InvalidNonceError(IssuerError):
    http_status = 400
    error = "invalid_nonce"


class InvalidTokenError(IssuerError):
    """A wallet access token that is unknown or expired."""

    http_status = 401
    error = "invalid_token"


class UnauthorizedError(IssuerError):
    """No, or no valid, officer bearer token."""

    http_status = 401
    error = "unauthorized"


class ForbiddenError(IssuerError):
    """The officer's role does not allow the action."""

    http_status = 403
    error = "forbidden"


class RateLimitedError(IssuerError):
    http_status = 429
    error = "rate_limited"

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after

    @classmethod
    def past(cls, counter: str, window: int) -> RateLimitedError:
        """A store counter (``rate_token_client``: the wallet API's per-client token limit) passed its limit."""
        return cls(f"too many {counter.removeprefix('rate_').replace('_', ' ')} requests; retry later",
                   retry_after=window)


class StoreUnavailableError(IssuerError):
    """The store cannot be reached or stays locked: fail closed, never 500."""

    http_status = 503
    error = "temporarily_unavailable"


# --- deferred issuance and notifications (OpenID4VCI §9, §11; issuer.deferred) ------------------------------

class IssuancePendingError(IssuerError):
    """The application awaits an officer's approval: the wallet API answers 202 and defers (not an error there)."""

    http_status = 202
    error = "issuance_pending"

    def __init__(self, record_id: str) -> None:
        super().__init__("the application awaits an officer's approval")
        self.record_id = record_id


class InvalidTransactionIdError(IssuerError):
    """Unknown, expired or already used deferred transaction, or one issued to another access token."""

    http_status = 400
    error = "invalid_transaction_id"


class CredentialRequestDeniedError(IssuerError):
    """The credential will never be issued (application refused, record suspended or revoked)."""

    http_status = 400
    error = "credential_request_denied"


class InvalidNotificationIdError(IssuerError):
    """Unknown or expired notification id, or one issued to another access token."""

    http_status = 400
    error = "invalid_notification_id"


class AuditChainError(IssuerError):
    """The chain is broken at entry ``seq`` (the first entry that does not fit)."""

    http_status = 409
    error = "audit_chain_broken"

    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(f"entry {seq}: {problem}")
        self.seq = seq
        self.problem = problem


class SettingsError(EpermitError):
    """A deployment setting has a value the service cannot run with; the service refuses to start."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason
