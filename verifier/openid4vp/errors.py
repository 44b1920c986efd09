"""What can go wrong in an OpenID4VP 1.0 exchange, on either side: one root, data on every error.

``OpenId4VpError`` sits under the verifier's own root (verifier.errors.VerifierError). Each error carries
``error``, the OAuth 2.0 / OpenID4VP error code a server answers with (OpenID4VP 1.0 §8.5: ``invalid_request``,
``access_denied``, ``invalid_request_object``, ``invalid_client``, ``vp_formats_not_supported``...), and the
data that says which request, claim or verdict it was about. A presentation refused by the same verification
as `epermit verify` is a PresentationRejectedError whose ``result`` is that verification's result code.
"""

from __future__ import annotations

from verifier.errors import VerifierError
from verifier.result import Result, VerificationResult


class OpenId4VpError(VerifierError):
    """Root of the OpenID4VP errors; ``error`` is the protocol's error code for an answer on the wire."""

    error = "invalid_request"
    # Verifier side: the state of the transaction a refused response consumed (set by verify_response once
    # it is known), so that the verifier can tell the person waiting for that answer.
    state: str | None = None
    # Wallet side: (response_uri, state) of a request whose sender was proved but which the wallet cannot
    # answer: it then sends this error there (OpenID4VP 1.0 §8.5), and never to an unproved sender.
    reply_to: tuple[str, str] | None = None


class InvalidDcqlQueryError(OpenId4VpError):
    """A DCQL query this library does not build or cannot answer (its shape, or a feature not supported)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"DCQL query: {reason}")
        self.detail = reason


class InvalidAuthorizationRequestError(OpenId4VpError):
    """An authorization request URI or request object that is not one (shape, parameters, expiry)."""

    def __init__(self, reason: str, *, parameter: str | None = None) -> None:
        super().__init__(reason)
        self.parameter = parameter


class UntrustedVerifierError(OpenId4VpError):
    """The request object does not prove who asks: a bad signature, a chain to no trusted CA, a leaf whose
    SAN does not name the client_id's host, or a client identifier prefix the wallet does not accept."""

    error = "invalid_client"

    def __init__(self, client_id: str, reason: str) -> None:
        super().__init__(f"{client_id}: {reason}")
        self.client_id = client_id
        self.detail = reason


class UnsupportedFormatError(OpenId4VpError):
    """Wallet side: the verifier's client_metadata accepts no dc+sd-jwt presentation this wallet can make
    (the format, or the algorithm of the device key's KB-JWT)."""

    error = "vp_formats_not_supported"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.detail = reason


class UnknownTransactionError(OpenId4VpError):
    """A response (or a request_uri) for no open transaction: never made, expired, or already answered
    (``why`` = "unknown", "expired" or "used": a replayed response)."""

    def __init__(self, why: str) -> None:
        super().__init__(f"no open presentation request for this state ({why})")
        self.why = why


class TransactionStoreFullError(OpenId4VpError):
    """The bounded transaction store holds as many open requests as it may; try again once some expire."""

    error = "temporarily_unavailable"

    def __init__(self, limit: int) -> None:
        super().__init__(f"too many open presentation requests (limit {limit})")
        self.limit = limit


class MalformedResponseError(OpenId4VpError):
    """A direct_post body that is not an authorization response: too large, a missing or repeated
    parameter, a vp_token that is not the JSON object DCQL keys by credential query id."""

    def __init__(self, reason: str, *, parameter: str | None = None) -> None:
        super().__init__(f"authorization response: {reason}")
        self.parameter = parameter


class WalletDeclinedError(OpenId4VpError):
    """The wallet answered with an error instead of a vp_token (the resident refused: access_denied)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"the wallet declined: {error}" + (f" ({description})" if description else ""))
        self.error = error
        self.description = description


class PresentationRejectedError(OpenId4VpError):
    """The presented credential is not VALID for this request: ``result`` is the verdict of the same
    verification as `epermit verify` (REPLAYED for another nonce or audience or a stale KB-JWT, REVOKED,
    SUSPENDED, EXPIRED, BAD_SIGNATURE, UNTRUSTED_ISSUER, STATUS_UNKNOWN, MALFORMED, NO_HOLDER_PROOF)."""

    error = "access_denied"

    def __init__(self, query_id: str, result: Result, reason: str,
                 verification: VerificationResult | None = None) -> None:
        super().__init__(f"{query_id}: {result.value}: {reason}")
        self.query_id = query_id
        self.result = result
        self.detail = reason
        # The whole verdict: for a REVOKED or SUSPENDED credential it still says whose it is (the claims the
        # holder disclosed, read once the issuer's signature verified).
        self.verification = verification


class MissingClaimsError(OpenId4VpError):
    """A genuine presentation that discloses fewer claims than the request requires."""

    error = "access_denied"

    def __init__(self, query_id: str, missing: tuple[str, ...]) -> None:
        super().__init__(f"{query_id}: required claims not disclosed: {', '.join(missing)}")
        self.query_id = query_id
        self.missing = missing


class NoMatchingCredentialError(OpenId4VpError):
    """Wallet side: no held credential answers the request's DCQL query."""

    error = "access_denied"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.detail = reason


__all__ = [
    "InvalidAuthorizationRequestError",
    "InvalidDcqlQueryError",
    "MalformedResponseError",
    "MissingClaimsError",
    "NoMatchingCredentialError",
    "OpenId4VpError",
    "PresentationRejectedError",
    "TransactionStoreFullError",
    "UnknownTransactionError",
    "UnsupportedFormatError",
    "UntrustedVerifierError",
    "WalletDeclinedError",
]
