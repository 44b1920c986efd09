"""Wallet side: read an OpenID4VP 1.0 authorization request and prove who sent it, before showing it.

- ``parse_authorization_link``: ``openid4vp://?client_id=…&request_uri=…`` (cross-device: the QR) or an https
  link with the same two parameters (same device); bounded, printable ASCII, each parameter once, the
  request_uri https (fetched with GET, also when ``request_uri_method=post`` is offered: §5.1). A request passed by value (``request=``) or as plain parameters is refused: with
  x509_san_dns the request must be signed (§5.9.3), and this wallet accepts no other prefix.
- ``verify_request_object``: the JWT from the request_uri. Header typ ``oauth-authz-req+jwt``, alg ES256
  (pinned here, never the token's choice), an ``x5c`` chain; the chain is validated (RFC 5280, the Web PKI
  profile of cryptography.x509.verification) up to a CA the *wallet* trusts, at ``now``, and its leaf must
  name the client_id's host as a SAN dNSName, exactly; then the signature is checked with that leaf's key.
  A key the request carries is never trusted on its own: no chain to a trusted CA, no request. Then the
  payload: the same client_id as the link, response_type vp_token, response_mode direct_post, an https
  response_uri on the same host, nonce and state, a DCQL query this library can answer, iat/exp.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ipaddress
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from credential.errors import CredentialError
from credential.jose import check_header, check_time_claims, parse_compact, verify_signature
from credential.jwk import PublicKey
from verifier.openid4vp.dcql import SD_JWT_FORMAT, CredentialQuery, parse_dcql
from verifier.openid4vp.errors import (
    InvalidAuthorizationRequestError,
    OpenId4VpError,
    UnsupportedFormatError,
    UntrustedVerifierError,
)
from verifier.openid4vp.request import (
    REQUEST_ALGORITHMS,
    REQUEST_TYP,
    RESPONSE_MODE,
    RESPONSE_TYPE,
    URI_SCHEME,
    X509_SAN_DNS,
    dns_names,
)

MAX_LINK = 4096
MAX_REQUEST_OBJECT = 64 * 1024
MAX_NONCE = 256
_PRINTABLE_ASCII = re.compile(r"[!-~]+")


@dataclass(frozen=True)
class AuthorizationLink:
    client_id: str
    request_uri: str


@dataclass(frozen=True)
class AuthorizationRequest:
    """A request whose sender is proved: ``host`` is the DNS name the trusted certificate names."""

    client_id: str
    host: str
    name_zh: str | None  # the verifier's own name (client_metadata), shown beside the proved host
    name_en: str | None
    certificate_subject: str
    nonce: str
    state: str
    response_uri: str
    queries: tuple[CredentialQuery, ...]
    expires_at: int | None


def _https(url: str, what: str, *, allow_http: bool) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_http else ("https",)) or not parts.hostname \
            or parts.username is not None or parts.password is not None:
        raise InvalidAuthorizationRequestError(f"{what} must be an https URL", parameter=what)
    return parts


def parse_authorization_link(link: str, *, allow_http: bool = False) -> AuthorizationLink:
    """The client_id and request_uri of ``link`` (module docstring)."""
    link = link.strip()
    if not link or len(link) > MAX_LINK or not _PRINTABLE_ASCII.fullmatch(link):
        raise InvalidAuthorizationRequestError("a presentation request link is one line of printable ASCII")
    parts = urllib.parse.urlsplit(link)
    if parts.scheme not in (URI_SCHEME, "https", *(("http",) if allow_http else ())):
        raise InvalidAuthorizationRequestError(f"not an {URI_SCHEME}:// or https link")
    try:
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True, max_num_fields=8)
    except ValueError as exc:
        raise InvalidAuthorizationRequestError("the link's query cannot be read") from exc
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise InvalidAuthorizationRequestError("a parameter is repeated")
    query = dict(pairs)
    if "request" in query or "dcql_query" in query:
        raise InvalidAuthorizationRequestError("only signed requests by reference (request_uri) are accepted",
                                               parameter="request_uri")
    if "client_id" not in query or "request_uri" not in query:
        raise InvalidAuthorizationRequestError("a presentation request link holds client_id and request_uri")
    # Other parameters are ignored (§5: the Wallet MUST ignore unrecognized parameters; RFC 9101 §5: with a
    # request_uri, the request object's parameters are the request). A wallet that does not support
    # request_uri_method=post fetches with GET (§5.1), as this one does.
    if query.get("request_uri_method", "get") not in ("get", "post"):
        raise InvalidAuthorizationRequestError("request_uri_method must be get or post",
                                               parameter="request_uri_method")
    _https(query["request_uri"], "request_uri", allow_http=allow_http)
    return AuthorizationLink(query["client_id"], query["request_uri"])


def client_host(client_id: str) -> str:
    """The DNS name of an ``x509_san_dns:`` client_id; UntrustedVerifierError for any other prefix."""
    prefix, found, host = client_id.partition(":")
    if not found or prefix != X509_SAN_DNS:
        raise UntrustedVerifierError(client_id, f"only {X509_SAN_DNS} verifiers are accepted")
    if not host or not re.fullmatch(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?", host):
        raise UntrustedVerifierError(client_id, "the client_id does not name a DNS host")
    return host


def _certificates(header: dict[str, Any], client_id: str) -> list[x509.Certificate]:
    chain = header.get("x5c")
    if chain is None:
        raise UntrustedVerifierError(client_id, "the request object carries no x5c certificate chain")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(entry, validate=True)) for entry in chain]
    except (binascii.Error, ValueError) as exc:
        raise UntrustedVerifierError(client_id, "an x5c certificate cannot be read") from exc


def _validate_chain(chain: list[x509.Certificate], host: str, client_id: str,
                    trust_anchors: Sequence[x509.Certificate], now: int) -> x509.Certificate:
    if not trust_anchors:
        raise UntrustedVerifierError(client_id, "this wallet trusts no CA for verifiers")
    leaf, intermediates = chain[0], [c for c in chain[1:] if c not in trust_anchors]
    if host not in dns_names(leaf):  # exactly: the Web PKI check below would also take a wildcard
        raise UntrustedVerifierError(client_id, f"the certificate does not name {host} (SAN dNSName)")
    verifier = (PolicyBuilder().store(Store(list(trust_anchors)))
                .time(datetime.datetime.fromtimestamp(now, datetime.UTC))
                .build_server_verifier(_web_pki_subject(host)))
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        raise UntrustedVerifierError(client_id, f"the certificate chain does not lead to a trusted CA ({exc})") from exc
    return leaf


def _web_pki_subject(host: str) -> x509.DNSName | x509.IPAddress:
    """The subject the Web PKI check matches: an address literal (a loopback demo's host) only as an
    iPAddress SAN — cryptography ≥ 46 refuses an address passed as a DNS name — so such a leaf must carry
    both: the dNSName that x509_san_dns compares exactly (above) and the iPAddress the Web PKI profile takes."""
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _text(payload: dict[str, Any], name: str, *, limit: int = MAX_LINK) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise InvalidAuthorizationRequestError(f"the request object lacks {name}", parameter=name)
    return value


def _check_formats(metadata: object) -> None:
    """§11.1 vp_formats_supported, when given, must take dc+sd-jwt with our KB-JWT algorithm (ES256: the
    device key's) and our issuers' (ES256 or EdDSA)."""
    formats = metadata.get("vp_formats_supported") if isinstance(metadata, dict) else None
    if formats is None:
        return
    sd_jwt = formats.get(SD_JWT_FORMAT) if isinstance(formats, dict) else None
    if not isinstance(sd_jwt, dict):
        raise UnsupportedFormatError(f"the verifier does not accept {SD_JWT_FORMAT} presentations")
    for name, ours in (("kb-jwt_alg_values", {"ES256"}), ("sd-jwt_alg_values", {"ES256", "EdDSA"})):
        accepted = sd_jwt.get(name)
        if accepted is not None and not (isinstance(accepted, list) and ours & set(accepted)):
            raise UnsupportedFormatError(f"the verifier's {name} excludes {', '.join(sorted(ours))}")


def _names(metadata: object) -> tuple[str | None, str | None]:
    if not isinstance(metadata, dict):
        return None, None
    zh, en = metadata.get("client_name#zh-CN"), metadata.get("client_name")
    return (zh if isinstance(zh, str) and zh else None), (en if isinstance(en, str) and en else None)


def verify_request_object(token: str, *, link: AuthorizationLink, trust_anchors: Sequence[x509.Certificate],
                          now: int, allow_http: bool = False) -> AuthorizationRequest:
    """The proved request behind ``link`` (module docstring)."""
    host = client_host(link.client_id)
    try:
        jws = parse_compact(token.strip(), max_size=MAX_REQUEST_OBJECT)
        check_header(jws.header, typ=REQUEST_TYP, algorithms=REQUEST_ALGORITHMS, allow_x5c=True)
    except CredentialError as exc:
        raise InvalidAuthorizationRequestError(f"the request object is not a signed request: {exc}") from exc
    leaf = _validate_chain(_certificates(jws.header, link.client_id), host, link.client_id, trust_anchors, now)
    leaf_key = leaf.public_key()
    if not isinstance(leaf_key, PublicKey):
        raise UntrustedVerifierError(link.client_id, "the certificate's key is not P-256")
    try:
        verify_signature(jws.header["alg"], leaf_key, jws.signing_input, jws.signature)
    except CredentialError as exc:
        raise UntrustedVerifierError(link.client_id, "the request object's signature does not verify") from exc
    payload = jws.payload
    if payload.get("client_id") != link.client_id:
        raise UntrustedVerifierError(link.client_id, "the request object names another client_id")
    response_uri = _text(payload, "response_uri")
    if _https(response_uri, "response_uri", allow_http=allow_http).hostname != host:
        raise UntrustedVerifierError(link.client_id, "the response_uri is not on the certificate's host")
    state = _text(payload, "state", limit=MAX_NONCE)
    try:
        return _proved_request(payload, link.client_id, host, leaf, response_uri, state, now)
    except OpenId4VpError as exc:  # the sender is proved: it may be told why its request is refused
        exc.reply_to = (response_uri, state)
        raise


def _proved_request(payload: dict[str, Any], client_id: str, host: str, leaf: x509.Certificate, response_uri: str,
                    state: str, now: int) -> AuthorizationRequest:
    for name, expected in (("response_type", RESPONSE_TYPE), ("response_mode", RESPONSE_MODE)):
        if payload.get(name) != expected:
            raise InvalidAuthorizationRequestError(f"{name} must be {expected}", parameter=name)
    if "redirect_uri" in payload:  # §8.2: the wallet answers invalid_request
        raise InvalidAuthorizationRequestError("redirect_uri must not be present with direct_post",
                                               parameter="redirect_uri")
    if "presentation_definition" in payload or "scope" in payload:
        raise InvalidAuthorizationRequestError("only a dcql_query is accepted (no presentation_definition, scope)")
    try:
        check_time_claims(payload, now=now, require=("iat",))
    except CredentialError as exc:
        raise InvalidAuthorizationRequestError(f"the request has expired or is not yet valid: {exc}") from exc
    queries = parse_dcql(payload.get("dcql_query"))
    _check_formats(payload.get("client_metadata"))
    name_zh, name_en = _names(payload.get("client_metadata"))
    expires = payload.get("exp")
    return AuthorizationRequest(
        client_id=client_id, host=host, name_zh=name_zh, name_en=name_en,
        certificate_subject=leaf.subject.rfc4514_string(), nonce=_text(payload, "nonce", limit=MAX_NONCE),
        state=state, response_uri=response_uri, queries=queries,
        expires_at=expires if type(expires) is int else None,
    )


__all__ = ["MAX_REQUEST_OBJECT", "AuthorizationLink", "AuthorizationRequest", "client_host",
           "parse_authorization_link", "verify_request_object"]
