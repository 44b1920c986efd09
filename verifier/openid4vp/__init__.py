"""OpenID4VP 1.0 (Final): presentation of an SD-JWT VC to an online verifier, both sides. No flask, no redis.

Verifier (an employer, the bureau's online service)::

    from verifier.openid4vp import (InMemoryTransactionStore, VerifierIdentity, basic_query, new_request,
                                    verify_response)
    identity = VerifierIdentity(host, signer, certificates, name_zh="某某公司", name_en="Some Company")
    pending = new_request(identity, response_uri=f"https://{host}/openid4vp/response",
                          request_uri_base=f"https://{host}/openid4vp/request", dcql_query=basic_query(issuer),
                          store=store, now=now)
    # show pending.authorization_uri as a QR / link; serve store.by_request_id(id).request_object at the
    # request_uri as application/oauth-authz-req+jwt; on the POST to the response_uri:
    outcome = verify_response(body, store=store, cache=cache, now=now, refresh=lambda: sync(url, cache, now=now))

Wallet::

    link = parse_authorization_link(uri)
    request = verify_request_object(fetched_jwt, link=link, trust_anchors=[ca], now=now)
    query, credential = matching_query(request, held_sd_jwt_vcs)
    form = vp_token_form(request, query, credential, holder_signer=device_key, now=now)  # or declined_form

Errors: one root, OpenId4VpError (a verifier.errors.VerifierError), each with its protocol ``error`` code
and data (verifier.openid4vp.errors). docs/openid4vp.md explains the choices.
"""

from __future__ import annotations

from verifier.openid4vp.authorization import (
    AuthorizationLink,
    AuthorizationRequest,
    parse_authorization_link,
    verify_request_object,
)
from verifier.openid4vp.dcql import BASIC_CLAIMS, CredentialQuery, basic_query, parse_dcql, vct_of
from verifier.openid4vp.errors import (
    InvalidAuthorizationRequestError,
    InvalidDcqlQueryError,
    MalformedResponseError,
    MissingClaimsError,
    NoMatchingCredentialError,
    OpenId4VpError,
    PresentationRejectedError,
    TransactionStoreFullError,
    UnknownTransactionError,
    UnsupportedFormatError,
    UntrustedVerifierError,
    WalletDeclinedError,
)
from verifier.openid4vp.presentation import declined_form, matching_query, vp_token_form
from verifier.openid4vp.request import (
    REQUEST_MEDIA_TYPE,
    PendingRequest,
    VerifierIdentity,
    authorization_uri,
    new_request,
)
from verifier.openid4vp.response import ONLINE_POLICY, VerifiedPresentation, VerifiedResponse, verify_response
from verifier.openid4vp.transactions import InMemoryTransactionStore, Transaction, TransactionStore

__all__ = [
    "BASIC_CLAIMS",
    "ONLINE_POLICY",
    "REQUEST_MEDIA_TYPE",
    "AuthorizationLink",
    "AuthorizationRequest",
    "CredentialQuery",
    "InMemoryTransactionStore",
    "InvalidAuthorizationRequestError",
    "InvalidDcqlQueryError",
    "MalformedResponseError",
    "MissingClaimsError",
    "NoMatchingCredentialError",
    "OpenId4VpError",
    "PendingRequest",
    "PresentationRejectedError",
    "Transaction",
    "TransactionStore",
    "TransactionStoreFullError",
    "UnknownTransactionError",
    "UnsupportedFormatError",
    "UntrustedVerifierError",
    "VerifiedPresentation",
    "VerifiedResponse",
    "VerifierIdentity",
    "WalletDeclinedError",
    "authorization_uri",
    "basic_query",
    "declined_form",
    "matching_query",
    "new_request",
    "parse_authorization_link",
    "parse_dcql",
    "vct_of",
    "verify_request_object",
    "verify_response",
    "vp_token_form",
]
