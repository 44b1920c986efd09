"""verifier.openid4vp against hand-built requests and responses: real signatures, real certificate chains
(the demo's loopback CA), the verifier cache of tests/verifier/conftest.py; every refusal path."""

from __future__ import annotations

import base64
import dataclasses
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.encoding import b64url_decode, b64url_encode, json_dumps
from credential.jose import parse_compact, sign_compact
from credential.model import CredentialType
from credential.sdjwt import present
from credential.statuslist import INVALID
from epermit.tls import LoopbackCA
from keys import KeySigner
from tests.conftest import T0
from tests.verifier.conftest import ISSUER, STATUS_URI, World
from verifier.cache import VerifierCache
from verifier.openid4vp import (
    BASIC_CLAIMS,
    AuthorizationRequest,
    InMemoryTransactionStore,
    InvalidAuthorizationRequestError,
    InvalidDcqlQueryError,
    MalformedResponseError,
    MissingClaimsError,
    NoMatchingCredentialError,
    OpenId4VpError,
    PendingRequest,
    PresentationRejectedError,
    TransactionStoreFullError,
    UnknownTransactionError,
    UnsupportedFormatError,
    UntrustedVerifierError,
    VerifierIdentity,
    WalletDeclinedError,
    basic_query,
    declined_form,
    matching_query,
    new_request,
    parse_authorization_link,
    parse_dcql,
    verify_request_object,
    verify_response,
    vp_token_form,
)
from verifier.openid4vp.request import REQUEST_TYP
from verifier.result import Result

HOST = "employer.example"
RESPONSE_URI = f"https://{HOST}/openid4vp/response"
REQUEST_BASE = f"https://{HOST}/openid4vp/request"


@dataclass
class Exchange:
    world: World
    cache: VerifierCache
    ca: LoopbackCA
    identity: VerifierIdentity
    store: InMemoryTransactionStore

    def request(self, *, now: int = T0, ttl: int = 300, types: tuple[CredentialType, ...] = tuple(CredentialType),
                identity: VerifierIdentity | None = None) -> PendingRequest:
        return new_request(identity or self.identity, response_uri=RESPONSE_URI, request_uri_base=REQUEST_BASE,
                           dcql_query=basic_query(ISSUER, types), store=self.store, now=now, ttl=ttl)

    def wallet_reads(self, pending: PendingRequest, *, now: int = T0) -> AuthorizationRequest:
        link = parse_authorization_link(pending.authorization_uri)
        token = self.store.by_request_id(link.request_uri.rsplit("/", 1)[1], now=now).request_object
        return verify_request_object(token, link=link, trust_anchors=[self.ca.certificate], now=now)

    def answer(self, pending: PendingRequest, *, now: int = T0, **form: str) -> bytes:
        request = self.wallet_reads(pending, now=now)
        query, held = matching_query(request, [self.world.sd_jwt()])
        fields = vp_token_form(request, query, held, holder_signer=self.world.holder, now=now)
        return urllib.parse.urlencode({**fields, **form}).encode("ascii")

    def body(self, pending: PendingRequest, presentation: str) -> bytes:
        vp_token = json_dumps({"residence": [presentation]}).decode("utf-8")
        return urllib.parse.urlencode({"vp_token": vp_token, "state": pending.transaction.state}).encode("ascii")

    def verify(self, body: bytes, *, now: int = T0, refresh: Callable[[], object] | None = None) -> Any:
        return verify_response(body, store=self.store, cache=self.cache, now=now, refresh=refresh)


def identity_for(ca: LoopbackCA, host: str = HOST) -> VerifierIdentity:
    issued = ca.issue_server((host,))
    return VerifierIdentity(host, KeySigner(issued.key), (issued.certificate,), name_zh="某某科技有限公司",
                            name_en="Some Technology Co.")


@pytest.fixture
def exchange(world: World, cache: VerifierCache) -> Exchange:
    world.fill(cache, status_at=T0 - 60)
    ca = LoopbackCA(now=T0)
    return Exchange(world, cache, ca, identity_for(ca), InMemoryTransactionStore(max_entries=16))


# --- the whole exchange --------------------------------------------------------------------------------------

def test_an_employer_gets_exactly_the_basic_claims_verified(exchange: Exchange) -> None:
    pending = exchange.request()
    assert pending.authorization_uri.startswith("openid4vp://?client_id=x509_san_dns%3Aemployer.example&request_uri=")
    request = exchange.wallet_reads(pending)
    assert request.host == HOST and request.client_id == f"x509_san_dns:{HOST}"
    assert request.name_zh == "某某科技有限公司" and request.queries[0].claims == BASIC_CLAIMS
    outcome = exchange.verify(exchange.answer(pending))
    [presented] = outcome.presentations.values()
    assert presented.verification.result is Result.VALID and presented.verification.live is True
    assert presented.credential_type == "residence_permit"
    assert set(presented.claims) == set(BASIC_CLAIMS)  # nothing else, though the verifier read the authority code
    assert presented.claims["name"] == exchange.world.permit.holder.name
    assert presented.claims["document_number"] == exchange.world.permit.document_number
    assert presented.valid_from == exchange.world.permit.valid_from.isoformat()


def test_the_wallet_discloses_only_what_is_asked(exchange: Exchange) -> None:
    body = exchange.answer(exchange.request())
    vp_token = urllib.parse.parse_qs(body.decode("ascii"))["vp_token"][0]
    [presentation] = json.loads(vp_token)["residence"]
    names = {json.loads(b64url_decode(d))[1] for d in presentation.split("~")[1:-1]}
    assert names == set(BASIC_CLAIMS)
    kb = parse_compact(presentation.rsplit("~", 1)[1], max_size=65536)
    assert kb.payload["aud"] == f"x509_san_dns:{HOST}"  # the client_id, prefix included (§B.3.6)


def test_the_request_object_is_what_openid4vp_says(exchange: Exchange) -> None:
    pending = exchange.request()
    jws = parse_compact(pending.transaction.request_object, max_size=65536)
    assert jws.header["typ"] == "oauth-authz-req+jwt" and jws.header["alg"] == "ES256" and jws.header["x5c"]
    payload = jws.payload
    assert payload["response_type"] == "vp_token" and payload["response_mode"] == "direct_post"
    assert payload["response_uri"] == RESPONSE_URI and payload["client_id"] == f"x509_san_dns:{HOST}"
    assert payload["dcql_query"]["credentials"][0]["format"] == "dc+sd-jwt"
    assert payload["dcql_query"]["credentials"][0]["meta"]["vct_values"] == [
        ISSUER + "/vct/residence-permit/1", ISSUER + "/vct/residence-registration/1"]
    assert payload["nonce"] != payload["state"] and len(payload["nonce"]) >= 22


# --- refusals by the verifier ---------------------------------------------------------------------------------

def kb_presentation(exchange: Exchange, pending: PendingRequest, *, aud: str | None = None, nonce: str | None = None,
                    at: int = T0, disclose: tuple[str, ...] = BASIC_CLAIMS) -> str:
    return present(exchange.world.sd_jwt(), disclose=disclose, holder_signer=exchange.world.holder,
                   aud=aud or pending.transaction.client_id, nonce=nonce or pending.transaction.nonce, now=at)


def rejected(exchange: Exchange, body: bytes, **kwargs: Any) -> PresentationRejectedError:
    with pytest.raises(PresentationRejectedError) as caught:
        exchange.verify(body, **kwargs)
    return caught.value


def test_a_wrong_nonce_is_replayed(exchange: Exchange) -> None:
    pending = exchange.request()
    error = rejected(exchange, exchange.body(pending, kb_presentation(exchange, pending, nonce="another-nonce")))
    assert error.result is Result.REPLAYED and "nonce" in error.detail and error.error == "access_denied"


def test_a_wrong_audience_is_replayed(exchange: Exchange) -> None:
    pending = exchange.request()
    error = rejected(exchange, exchange.body(pending, kb_presentation(exchange, pending, aud=HOST)))
    assert error.result is Result.REPLAYED and "aud" in error.detail  # the bare host is not the client_id


def test_a_presentation_made_for_another_verifier_is_refused(exchange: Exchange) -> None:
    other = identity_for(exchange.ca, "other.example")
    theirs = new_request(other, response_uri="https://other.example/r", request_uri_base="https://other.example/q",
                         dcql_query=basic_query(ISSUER), store=InMemoryTransactionStore(), now=T0)
    mine = exchange.request()
    # The holder's answer to the other verifier, forwarded to us under our state: audience and nonce are theirs.
    presentation = kb_presentation(exchange, mine, aud=theirs.transaction.client_id, nonce=theirs.transaction.nonce)
    assert rejected(exchange, exchange.body(mine, presentation)).result is Result.REPLAYED
    # And posted as it was (their state): no transaction of ours.
    with pytest.raises(UnknownTransactionError) as caught:
        exchange.verify(exchange.body(theirs, presentation))
    assert caught.value.why == "unknown"


def test_a_stale_kb_jwt_is_replayed(exchange: Exchange) -> None:
    pending = exchange.request(ttl=3600)
    presentation = kb_presentation(exchange, pending, at=T0 - 301)
    assert rejected(exchange, exchange.body(pending, presentation)).result is Result.REPLAYED


def test_a_revoked_credential_is_revoked(exchange: Exchange, world: World) -> None:
    world.statuses.set(7, INVALID)
    exchange.cache.accept_status_list(STATUS_URI, world.status_token(now=T0 - 30), T0)
    pending = exchange.request()
    assert rejected(exchange, exchange.answer(pending)).result is Result.REVOKED


def test_status_is_refreshed_before_judging_and_stale_status_is_unknown(exchange: Exchange, world: World) -> None:
    pending = exchange.request(now=T0 + 900)
    body = exchange.answer(pending, now=T0 + 900)
    # The cache's status data is 16 minutes old and the refresh fails: online, that is not fresh enough.
    def failing() -> None:
        raise OSError("network down")
    assert rejected(exchange, body, now=T0 + 900, refresh=failing).result is Result.STATUS_UNKNOWN
    # The refresh brings a list that says revoked: the verdict follows it.
    pending = exchange.request(now=T0 + 900)
    body = exchange.answer(pending, now=T0 + 900)
    world.statuses.set(7, INVALID)
    refreshed = []
    def refresh() -> None:
        exchange.cache.accept_status_list(STATUS_URI, world.status_token(now=T0 + 890), T0 + 900)
        refreshed.append(True)
    assert rejected(exchange, body, now=T0 + 900, refresh=refresh).result is Result.REVOKED and refreshed


def test_an_undisclosed_required_claim_is_refused(exchange: Exchange) -> None:
    pending = exchange.request()
    presentation = kb_presentation(exchange, pending, disclose=("name", "document_number"))
    with pytest.raises(MissingClaimsError) as caught:
        exchange.verify(exchange.body(pending, presentation))
    assert caught.value.missing == ("authority_name",) and caught.value.query_id == "residence"


def test_a_presentation_without_key_binding_is_refused(exchange: Exchange) -> None:
    pending = exchange.request()
    presentation = kb_presentation(exchange, pending).rsplit("~", 1)[0] + "~"
    assert rejected(exchange, exchange.body(pending, presentation)).result is Result.NO_HOLDER_PROOF


def test_a_credential_of_a_type_not_asked_for_is_refused(exchange: Exchange) -> None:
    pending = exchange.request(types=(CredentialType.RESIDENCE_REGISTRATION,))
    error = rejected(exchange, exchange.body(pending, kb_presentation(exchange, pending)))
    assert "was not asked for" in error.detail


def test_a_replayed_response_is_refused(exchange: Exchange) -> None:
    pending = exchange.request()
    body = exchange.answer(pending)
    exchange.verify(body)
    with pytest.raises(UnknownTransactionError) as caught:
        exchange.verify(body)
    assert caught.value.why == "used"


def test_an_expired_request_cannot_be_answered(exchange: Exchange) -> None:
    pending = exchange.request(ttl=60)
    body = exchange.answer(pending)
    with pytest.raises(UnknownTransactionError) as caught:
        exchange.verify(body, now=T0 + 61)
    assert caught.value.why == "expired"


@pytest.mark.parametrize("body", [
    b"x" * (128 * 1024 + 1),
    b"state=a&state=b",
    b"vp_token=%7B%7D",
    "state=é".encode(),
])
def test_oversize_or_malformed_bodies_are_refused_before_anything_else(exchange: Exchange, body: bytes) -> None:
    with pytest.raises((MalformedResponseError, UnknownTransactionError)):
        exchange.verify(body)


@pytest.mark.parametrize("vp_token", [
    "[]", "{}", '{"other": ["x~"]}', '{"residence": "x~"}', '{"residence": ["a~", "b~"]}', "not json",
    '{"residence": ["' + "A" * 70000 + '"]}'])
def test_a_vp_token_not_keyed_by_the_query_is_malformed_or_too_large(exchange: Exchange, vp_token: str) -> None:
    pending = exchange.request()
    body = urllib.parse.urlencode({"vp_token": vp_token, "state": pending.transaction.state}).encode("ascii")
    with pytest.raises(OpenId4VpError) as caught:
        exchange.verify(body)
    error = caught.value
    assert isinstance(error, MalformedResponseError) or (
        isinstance(error, PresentationRejectedError) and error.result is Result.MALFORMED)


def test_the_residents_refusal_is_reported_and_spends_the_request(exchange: Exchange) -> None:
    pending = exchange.request()
    request = exchange.wallet_reads(pending)
    with pytest.raises(WalletDeclinedError) as caught:
        exchange.verify(urllib.parse.urlencode(declined_form(request)).encode("ascii"))
    assert caught.value.error == "access_denied"
    with pytest.raises(UnknownTransactionError):
        exchange.verify(exchange.answer(pending))


def test_the_store_is_bounded_and_forgets_only_expired_requests(exchange: Exchange) -> None:
    store = InMemoryTransactionStore(max_entries=2)
    exchange.store = store
    exchange.request(ttl=10)
    exchange.request(ttl=100)
    with pytest.raises(TransactionStoreFullError):
        exchange.request()
    exchange.request(now=T0 + 11)  # the first one expired: its place is free
    assert len(store) == 2


# --- refusals by the wallet -------------------------------------------------------------------------------------

def resigned(token: str, signer: KeySigner, *, header: dict[str, Any] | None = None,
             payload: dict[str, Any] | None = None) -> str:
    jws = parse_compact(token, max_size=65536)
    new_header = {k: v for k, v in {**jws.header, **(header or {})}.items() if k not in ("alg", "kid")}
    return sign_compact(new_header, {**jws.payload, **(payload or {})}, signer)


def wallet_refuses(exchange: Exchange, token: str, *, client_id: str | None = None,
                   now: int = T0) -> OpenId4VpError:
    link = parse_authorization_link(exchange.request().authorization_uri)
    if client_id is not None:
        link = dataclasses.replace(link, client_id=client_id)
    with pytest.raises((InvalidAuthorizationRequestError, UntrustedVerifierError)) as caught:
        verify_request_object(token, link=link, trust_anchors=[exchange.ca.certificate], now=now)
    return caught.value


def test_a_request_chained_to_an_untrusted_ca_is_refused(exchange: Exchange) -> None:
    stranger = identity_for(LoopbackCA(now=T0))  # same host, another CA
    token = exchange.request(identity=stranger).transaction.request_object
    error = wallet_refuses(exchange, token)
    assert isinstance(error, UntrustedVerifierError) and "trusted CA" in error.detail


def test_a_request_whose_certificate_names_another_host_is_refused(exchange: Exchange) -> None:
    other = identity_for(exchange.ca, "other.example")
    token = new_request(other, response_uri="https://other.example/r", request_uri_base="https://other.example/q",
                        dcql_query=basic_query(ISSUER), store=exchange.store, now=T0).transaction.request_object
    error = wallet_refuses(exchange, token)  # the link says employer.example, the certificate other.example
    assert isinstance(error, UntrustedVerifierError) and "does not name employer.example" in error.detail


def test_a_san_mismatch_is_refused_even_when_the_payload_agrees(exchange: Exchange) -> None:
    other = identity_for(exchange.ca, "other.example")
    # Our payload (client_id and response_uri on employer.example), signed by a key certified for other.example.
    token = resigned(exchange.request().transaction.request_object, other.signer,  # type: ignore[arg-type]
                     header={"x5c": [base64.b64encode(other.certificates[0].public_bytes(Encoding.DER)).decode()]})
    error = wallet_refuses(exchange, token)
    assert isinstance(error, UntrustedVerifierError) and "employer.example" in error.detail


def test_a_key_the_request_carries_without_the_chain_is_not_trusted(exchange: Exchange) -> None:
    # Signed by a fresh key with the genuine certificate chain attached: the signature is not the leaf's.
    token = resigned(exchange.request().transaction.request_object, KeySigner.generate())
    error = wallet_refuses(exchange, token)
    assert isinstance(error, UntrustedVerifierError) and "signature" in error.detail
    # An embedded jwk instead of x5c is refused outright.
    jws = parse_compact(exchange.request().transaction.request_object, max_size=65536)
    no_chain = {k: v for k, v in jws.header.items() if k not in ("alg", "kid", "x5c")}
    bare = sign_compact({**no_chain, "typ": REQUEST_TYP}, jws.payload, KeySigner.generate())
    assert isinstance(wallet_refuses(exchange, bare), UntrustedVerifierError)


def test_a_tampered_request_is_refused(exchange: Exchange) -> None:
    header, payload, signature = exchange.request().transaction.request_object.split(".")
    changed = json_dumps({**parse_compact(".".join((header, payload, signature)), max_size=65536).payload,
                          "response_uri": f"https://{HOST}/elsewhere"})
    error = wallet_refuses(exchange, ".".join((header, b64url_encode(changed), signature)))
    assert isinstance(error, UntrustedVerifierError) and "signature" in error.detail


@pytest.mark.parametrize(("change", "expected"), [
    ({"response_uri": "https://attacker.example/r"}, UntrustedVerifierError),
    ({"client_id": "x509_san_dns:other.example"}, UntrustedVerifierError),
    ({"response_mode": "fragment"}, InvalidAuthorizationRequestError),
    ({"dcql_query": {"credentials": [{"id": "x", "format": "mso_mdoc", "meta": {"vct_values": ["a"]},
                                      "claims": [{"path": ["a"]}]}]}}, InvalidDcqlQueryError),
    ({"exp": T0 - 600}, InvalidAuthorizationRequestError),
    ({"client_metadata": {"vp_formats_supported": {"mso_mdoc": {}}}}, UnsupportedFormatError),
    ({"client_metadata": {"vp_formats_supported": {"dc+sd-jwt": {"kb-jwt_alg_values": ["ES384"]}}}},
     UnsupportedFormatError),
])
def test_a_request_the_wallet_cannot_accept(exchange: Exchange, change: dict[str, Any], expected: type) -> None:
    token = resigned(exchange.request().transaction.request_object, exchange.identity.signer,  # type: ignore[arg-type]
                     payload=change)
    link = parse_authorization_link(exchange.request().authorization_uri)
    with pytest.raises(expected):
        verify_request_object(token, link=link, trust_anchors=[exchange.ca.certificate], now=T0)


def test_another_client_id_prefix_is_refused(exchange: Exchange) -> None:
    token = exchange.request().transaction.request_object
    error = wallet_refuses(exchange, token, client_id=f"redirect_uri:{RESPONSE_URI}")
    assert isinstance(error, UntrustedVerifierError) and "x509_san_dns" in error.detail


@pytest.mark.parametrize("link", [
    "openid4vp://?client_id=x&request=eyJ",
    "openid4vp://?client_id=x509_san_dns%3Aa.example",
    "openid4vp://?client_id=a&client_id=b&request_uri=https%3A%2F%2Fa.example%2Fr",
    "openid4vp://?client_id=a&request_uri=http%3A%2F%2Fa.example%2Fr",
    "openid4vp://?client_id=a&request_uri=https%3A%2F%2Fa.example%2Fr&request_uri_method=put",
    "mailto:someone@example",
    "openid4vp://?client_id=a&request_uri=https%3A%2F%2Fa.example%2Fr\n",
])
def test_links_that_are_not_signed_requests_by_reference(link: str) -> None:
    with pytest.raises(InvalidAuthorizationRequestError):
        parse_authorization_link(link if not link.endswith("\n") else link + "x")


def test_a_same_device_https_link_is_read_like_the_qr() -> None:
    link = parse_authorization_link("https://wallet.example/present?client_id=x509_san_dns%3Aa.example"
                                    "&request_uri=https%3A%2F%2Fa.example%2Fr%2F1")
    assert link.client_id == "x509_san_dns:a.example" and link.request_uri == "https://a.example/r/1"
    # request_uri_method=post offered: this wallet fetches with GET (§5.1); unknown parameters are ignored.
    offered = parse_authorization_link("openid4vp://?client_id=x509_san_dns%3Aa.example&request_uri_method=post"
                                       "&request_uri=https%3A%2F%2Fa.example%2Fr%2F1&something=else")
    assert offered == link


def test_no_matching_credential(exchange: Exchange) -> None:
    request = exchange.wallet_reads(exchange.request(types=(CredentialType.RESIDENCE_REGISTRATION,)))
    with pytest.raises(NoMatchingCredentialError):
        matching_query(request, [exchange.world.sd_jwt()])


@pytest.mark.parametrize("query", [
    {}, {"credentials": []}, {"credentials": [{"id": "a b", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                                              "claims": [{"path": ["name"]}]}]},
    {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                      "claims": [{"path": ["address", "street"]}]}]},
    {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                      "claims": [{"path": ["name"]}], "claim_sets": [["x"]]}]},
    {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                      "claims": [{"path": ["name"]}]}], "credential_sets": []},
    {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                      "claims": [{"path": ["name"], "values": ["x"]}]}]},
    {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                      "claims": [{"path": ["name"]}], "require_cryptographic_holder_binding": False}]},
])
def test_dcql_queries_read_only_in_part_are_refused(query: dict[str, Any]) -> None:
    with pytest.raises(InvalidDcqlQueryError):
        parse_dcql(query)


def test_the_identity_must_match_its_certificate() -> None:
    ca = LoopbackCA(now=T0)
    issued = ca.issue_server((HOST,))
    with pytest.raises(ValueError, match="SAN"):
        VerifierIdentity("other.example", KeySigner(issued.key), (issued.certificate,), name_zh="甲", name_en="A")
    with pytest.raises(ValueError, match="signer"):
        VerifierIdentity(HOST, KeySigner.generate(), (issued.certificate,), name_zh="甲", name_en="A")
    identity = VerifierIdentity(HOST, KeySigner(issued.key), (issued.certificate,), name_zh="甲", name_en="A")
    with pytest.raises(ValueError, match="response_uri"):
        new_request(identity, response_uri="https://elsewhere.example/r", request_uri_base=REQUEST_BASE,
                    dcql_query=basic_query(ISSUER), store=InMemoryTransactionStore(), now=T0)


def test_a_proved_verifier_is_told_why_its_request_is_refused_an_unproved_one_is_not(exchange: Exchange) -> None:
    pending = exchange.request()
    with_redirect = resigned(pending.transaction.request_object, exchange.identity.signer,  # type: ignore[arg-type]
                             payload={"redirect_uri": RESPONSE_URI})
    link = parse_authorization_link(pending.authorization_uri)
    with pytest.raises(InvalidAuthorizationRequestError) as caught:
        verify_request_object(with_redirect, link=link, trust_anchors=[exchange.ca.certificate], now=T0)
    assert caught.value.error == "invalid_request" and caught.value.parameter == "redirect_uri"
    assert caught.value.reply_to == (RESPONSE_URI, pending.transaction.state)  # §8.2: answer invalid_request
    # The same request from a key no trusted CA certified: nothing may be sent to it.
    forged = resigned(pending.transaction.request_object, KeySigner.generate(), payload={"redirect_uri": RESPONSE_URI})
    with pytest.raises(UntrustedVerifierError) as untrusted:
        verify_request_object(forged, link=link, trust_anchors=[exchange.ca.certificate], now=T0)
    assert untrusted.value.reply_to is None
