"""Verifier side: a signed OpenID4VP 1.0 authorization request (a JAR request object, RFC 9101) and its URI.

The client identifier prefix is ``x509_san_dns`` (OpenID4VP 1.0 §5.9.3): the client_id is
``x509_san_dns:<host>``, the request object is signed (ES256) with the key of the leaf certificate in its
``x5c`` header, that leaf names ``<host>`` as a SAN dNSName, and the response_uri is on that host. The
wallet gets ``openid4vp://?client_id=…&request_uri=…`` (a QR for another device, a link on the same one),
fetches the request object from the request_uri (media type ``application/oauth-authz-req+jwt``) and
answers with ``direct_post`` to the response_uri (verifier.openid4vp.response).

Request object (header typ ``oauth-authz-req+jwt``, alg, kid, x5c): client_id, response_type ``vp_token``,
response_mode ``direct_post``, response_uri, nonce, state, dcql_query, client_metadata (the formats and
algorithms accepted, the verifier's name in zh-CN and en), aud ``https://self-issued.me/v2`` (static
discovery, §5.8), iat, exp. Nonce and state are 128-bit random values, fresh for each request.
"""

from __future__ import annotations

import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from credential.jose import Signer, sign_compact, x5c_header
from credential.jwk import PublicKey, key_id
from credential.sdjwt import ALGORITHMS, KB_ALGORITHMS
from verifier.openid4vp.dcql import SD_JWT_FORMAT, parse_dcql
from verifier.openid4vp.transactions import Transaction, TransactionStore

REQUEST_TYP = "oauth-authz-req+jwt"
REQUEST_MEDIA_TYPE = "application/oauth-authz-req+jwt"
URI_SCHEME = "openid4vp"
STATIC_AUDIENCE = "https://self-issued.me/v2"
X509_SAN_DNS = "x509_san_dns"
RESPONSE_TYPE = "vp_token"
RESPONSE_MODE = "direct_post"
DEFAULT_TTL = 300  # seconds a request may be answered: scan, read, consent
REQUEST_ALGORITHMS = ("ES256",)


def dns_names(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return san.get_values_for_type(x509.DNSName)


def client_metadata(name_zh: str, name_en: str) -> dict[str, Any]:
    """What the verifier accepts (§11.1 vp_formats_supported) and its name for the wallet's consent screen
    (RFC 7591 client_name, with a language tag for the Chinese one)."""
    return {
        "vp_formats_supported": {
            SD_JWT_FORMAT: {"sd-jwt_alg_values": list(ALGORITHMS), "kb-jwt_alg_values": list(KB_ALGORITHMS)},
        },
        "client_name": name_en,
        "client_name#zh-CN": name_zh,
    }


@dataclass(frozen=True)
class VerifierIdentity:
    """Who asks: a DNS name, proved by a certificate chain (leaf first, without the trust anchor) whose
    leaf holds the signer's key and names ``host``; and the names the wallet shows the resident."""

    host: str
    signer: Signer
    certificates: tuple[x509.Certificate, ...]
    name_zh: str
    name_en: str

    def __post_init__(self) -> None:
        if self.signer.alg not in REQUEST_ALGORITHMS:
            raise ValueError(f"request objects are signed with {', '.join(REQUEST_ALGORITHMS)}")
        if not self.certificates:
            raise ValueError("x509_san_dns needs the signing certificate")
        leaf_key = self.certificates[0].public_key()
        if not isinstance(leaf_key, PublicKey) or key_id(leaf_key) != self.signer.kid:
            raise ValueError("the first certificate does not hold the signer's key")
        if self.host not in dns_names(self.certificates[0]):
            raise ValueError(f"the certificate does not name {self.host} as a SAN dNSName")
        x5c_header(self.certificates, kid=self.signer.kid)  # the chain's shape (no trust anchor in it)

    @property
    def client_id(self) -> str:
        return f"{X509_SAN_DNS}:{self.host}"


@dataclass(frozen=True)
class PendingRequest:
    transaction: Transaction
    request_uri: str
    authorization_uri: str  # openid4vp://?client_id=…&request_uri=… (QR, or a link on the same device)


def authorization_uri(client_id: str, request_uri: str, *, base: str = f"{URI_SCHEME}://") -> str:
    """The URI that starts a presentation: ``base`` is the wallet's (openid4vp:// for any wallet)."""
    return base + "?" + urllib.parse.urlencode({"client_id": client_id, "request_uri": request_uri})


def new_request(identity: VerifierIdentity, *, response_uri: str, request_uri_base: str,
                dcql_query: dict[str, Any], store: TransactionStore, now: int, ttl: int = DEFAULT_TTL) -> PendingRequest:
    """Sign a request for ``dcql_query``, keep its transaction in ``store`` and return where it is served.

    ``request_uri_base``: the URL under which the caller serves ``transaction.request_object`` at
    ``<base>/<request_id>`` (store.by_request_id). Both URLs must be https on the identity's host."""
    for what, url in (("response_uri", response_uri), ("request_uri_base", request_uri_base)):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https" or parts.hostname != identity.host:
            raise ValueError(f"{what} must be an https URL on {identity.host} (x509_san_dns)")
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    parse_dcql(dcql_query)
    state, nonce, request_id = secrets.token_urlsafe(16), secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    payload = {
        "aud": STATIC_AUDIENCE,
        "client_id": identity.client_id,
        "response_type": RESPONSE_TYPE,
        "response_mode": RESPONSE_MODE,
        "response_uri": response_uri,
        "nonce": nonce,
        "state": state,
        "dcql_query": dcql_query,
        "client_metadata": client_metadata(identity.name_zh, identity.name_en),
        "iat": now,
        "exp": now + ttl,
    }
    header = {"typ": REQUEST_TYP, "x5c": x5c_header(identity.certificates, kid=identity.signer.kid)}
    token = sign_compact(header, payload, identity.signer)
    transaction = Transaction(state=state, request_id=request_id, nonce=nonce, client_id=identity.client_id,
                              response_uri=response_uri, dcql_query=dcql_query, request_object=token,
                              created_at=now, expires_at=now + ttl)
    store.put(transaction, now=now)
    request_uri = f"{request_uri_base.rstrip('/')}/{request_id}"
    return PendingRequest(transaction, request_uri, authorization_uri(identity.client_id, request_uri))


__all__ = ["DEFAULT_TTL", "REQUEST_MEDIA_TYPE", "REQUEST_TYP", "STATIC_AUDIENCE", "URI_SCHEME", "X509_SAN_DNS",
           "PendingRequest", "VerifierIdentity", "authorization_uri", "client_metadata", "dns_names",
           "new_request"]
