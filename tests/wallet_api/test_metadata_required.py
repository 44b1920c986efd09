"""Both discovery documents carry every field the specifications mark REQUIRED, as they mark it.

The lists below are copied from the specifications, section by section: OpenID for Verifiable Credential
Issuance 1.0 (final) for the Credential Issuer Metadata, RFC 8414 for the Authorization Server Metadata (with
the one parameter OpenID4VCI adds to it). ``problems`` reads a document against them; it is shown to catch each
kind of omission on broken copies, so that an empty answer for ours means something.
"""

from __future__ import annotations

import copy
import urllib.parse
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.wallet_api.conftest import PUBLIC_URL
from tests.wallet_api.support import PRE_AUTH_GRANT

# --- OpenID4VCI 1.0 ---------------------------------------------------------------------------------------
# §12.2.4 Credential Issuer Metadata Parameters: REQUIRED at the top level.
ISSUER_REQUIRED = ("credential_issuer", "credential_endpoint", "credential_configurations_supported")
# §12.2.4: endpoint URLs that "MUST use the https scheme".
ISSUER_HTTPS = ("credential_endpoint", "nonce_endpoint", "deferred_credential_endpoint", "notification_endpoint")
# §12.2.4: REQUIRED members of OPTIONAL objects, when the object is present.
ISSUER_NESTED_REQUIRED = {
    "credential_request_encryption": ("jwks", "enc_values_supported", "encryption_required"),
    "credential_response_encryption": ("alg_values_supported", "enc_values_supported", "encryption_required"),
    "batch_credential_issuance": ("batch_size",),  # and "It MUST be 2 or greater"
}
# §12.2.4: REQUIRED in each entry of credential_configurations_supported.
CONFIGURATION_REQUIRED = ("format",)
# Appendix A.3.2 (IETF SD-JWT VC, Credential Issuer Metadata): REQUIRED for format dc+sd-jwt.
SD_JWT_VC_CONFIGURATION_REQUIRED = ("vct",)
# §12.2.4: proof_types_supported "MUST be present if cryptographic_binding_methods_supported is present, and
# omitted otherwise"; in each proof type, proof_signing_alg_values_supported is REQUIRED (a non-empty array).
PROOF_TYPE_REQUIRED = ("proof_signing_alg_values_supported",)
# §12.2.4: credential_metadata.display[] entries REQUIRE name; a logo or background_image REQUIRES uri.
CREDENTIAL_DISPLAY_REQUIRED = ("name",)
# Appendix B.2 (Claims Description for Issuer Metadata): path is REQUIRED, a non-empty array.
CLAIM_DESCRIPTION_REQUIRED = ("path",)

# --- RFC 8414 (and OpenID4VCI 1.0 §12.3) ----------------------------------------------------------------
# RFC 8414 §2: REQUIRED without condition.
AS_REQUIRED = ("issuer", "response_types_supported")
# RFC 8414 §2: token_endpoint "is REQUIRED unless only the implicit grant type is supported".
# RFC 8414 §2: authorization_endpoint "is REQUIRED unless no grant types are supported that use the
# authorization endpoint" (authorization_code, implicit; or any response type).
GRANTS_USING_AUTHORIZATION_ENDPOINT = ("authorization_code", "implicit")
# RFC 8414 §2: grant_types_supported is OPTIONAL but defaults to ["authorization_code", "implicit"]: a server
# supporting only the pre-authorized code grant (OpenID4VCI §4.1.1) must list it.
# OpenID4VCI §12.3: pre-authorized_grant_anonymous_access_supported defaults to false: a token endpoint that
# takes a pre-authorized code without client_id (ours) must say true.
ANONYMOUS_PRE_AUTH = "pre-authorized_grant_anonymous_access_supported"


def _missing(document: Any, names: tuple[str, ...], where: str) -> list[str]:
    if not isinstance(document, dict):
        return [f"{where} is not an object"]
    return [f"{where}.{name}" for name in names if name not in document]


def _https(url: Any) -> bool:
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    return parts is not None and parts.scheme == "https" and bool(parts.netloc)


def issuer_problems(document: dict[str, Any], identifier: str) -> list[str]:
    found = _missing(document, ISSUER_REQUIRED, "issuer")
    if document.get("credential_issuer") != identifier:  # §12.2.2: identical, by simple string comparison
        found.append("issuer.credential_issuer is not the identifier the metadata was fetched for")
    found += [f"issuer.{name} is not https" for name in ISSUER_HTTPS if name in document and not _https(document[name])]
    for name, required in ISSUER_NESTED_REQUIRED.items():
        if name in document:
            found += _missing(document[name], required, f"issuer.{name}")
    batch = document.get("batch_credential_issuance", {}).get("batch_size", 2)
    if type(batch) is not int or batch < 2:
        found.append("issuer.batch_credential_issuance.batch_size must be an integer >= 2")
    for display in document.get("display", []):
        if "logo" in display:
            found += _missing(display["logo"], ("uri",), "issuer.display.logo")
    configurations = document.get("credential_configurations_supported", {})
    if not isinstance(configurations, dict) or not configurations:
        return [*found, "issuer.credential_configurations_supported must be a non-empty object"]
    for configuration_id, configuration in configurations.items():
        where = f"configuration {configuration_id}"
        found += _missing(configuration, CONFIGURATION_REQUIRED, where)
        if configuration.get("format") == "dc+sd-jwt":
            found += _missing(configuration, SD_JWT_VC_CONFIGURATION_REQUIRED, where)
        binding, proofs = "cryptographic_binding_methods_supported", "proof_types_supported"
        if (binding in configuration) != (proofs in configuration):
            found.append(f"{where}: {proofs} must be present exactly when {binding} is")
        for proof_type, proof in configuration.get(proofs, {}).items():
            found += _missing(proof, PROOF_TYPE_REQUIRED, f"{where}.{proofs}.{proof_type}")
            if not proof.get("proof_signing_alg_values_supported", ["?"]):
                found.append(f"{where}.{proofs}.{proof_type}: no algorithm")
        metadata = configuration.get("credential_metadata", {})
        for display in metadata.get("display", []):
            found += _missing(display, CREDENTIAL_DISPLAY_REQUIRED, f"{where}.display")
            for image in ("logo", "background_image"):
                if image in display:
                    found += _missing(display[image], ("uri",), f"{where}.display.{image}")
        for claim in metadata.get("claims", []):
            found += _missing(claim, CLAIM_DESCRIPTION_REQUIRED, f"{where}.claims")
            if not isinstance(claim.get("path"), list) or not claim.get("path"):
                found.append(f"{where}.claims: path must be a non-empty array")
    return found


def as_problems(document: dict[str, Any], identifier: str) -> list[str]:
    found = _missing(document, AS_REQUIRED, "as")
    if document.get("issuer") != identifier:  # RFC 8414 §3.3: identical to the issuer the URL was built from
        found.append("as.issuer is not the identifier the metadata was fetched for")
    issuer = urllib.parse.urlsplit(str(document.get("issuer", "")))
    if issuer.scheme != "https" or issuer.query or issuer.fragment:  # RFC 8414 §2
        found.append("as.issuer must be https with no query or fragment")
    grants = document.get("grant_types_supported", list(GRANTS_USING_AUTHORIZATION_ENDPOINT))
    if grants != ["implicit"] and "token_endpoint" not in document:
        found.append("as.token_endpoint")
    if (set(grants) & set(GRANTS_USING_AUTHORIZATION_ENDPOINT) or document.get("response_types_supported")) \
            and "authorization_endpoint" not in document:
        found.append("as.authorization_endpoint")
    if PRE_AUTH_GRANT not in grants:
        found.append("as.grant_types_supported does not name the pre-authorized code grant")
    if document.get(ANONYMOUS_PRE_AUTH) is not True:
        found.append(f"as.{ANONYMOUS_PRE_AUTH} must be true: the token endpoint takes no client_id")
    if not isinstance(document.get("response_types_supported"), list):
        found.append("as.response_types_supported must be an array")
    return found


def _documents(client: FlaskClient) -> tuple[dict[str, Any], dict[str, Any]]:
    issuer = client.get("/.well-known/openid-credential-issuer").get_json()
    authorization_server = client.get("/.well-known/oauth-authorization-server").get_json()
    return issuer, authorization_server


def test_our_metadata_has_every_required_field(client: FlaskClient) -> None:
    issuer, authorization_server = _documents(client)
    assert issuer_problems(issuer, PUBLIC_URL) == []
    assert as_problems(authorization_server, PUBLIC_URL) == []
    # OpenID4VCI §12.2.4: without authorization_servers the Credential Issuer is its own AS, same identifier.
    assert "authorization_servers" not in issuer
    assert authorization_server["issuer"] == issuer["credential_issuer"]
    # No authorization endpoint, so no response type (RFC 7591 §2.1: none for token-endpoint-only grants).
    assert authorization_server["response_types_supported"] == []
    assert authorization_server["token_endpoint"] == f"{PUBLIC_URL}/token"


def test_the_as_document_of_before_is_caught(client: FlaskClient) -> None:
    _, authorization_server = _documents(client)
    before = {k: v for k, v in authorization_server.items() if k != "response_types_supported"}
    assert "as.response_types_supported" in as_problems(before, PUBLIC_URL)


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d.pop("token_endpoint"), "as.token_endpoint"),
    (lambda d: d.pop("grant_types_supported"), "as.authorization_endpoint"),  # the default grants need it
    (lambda d: d.update(response_types_supported=["code"]), "as.authorization_endpoint"),
    (lambda d: d.pop(ANONYMOUS_PRE_AUTH), f"as.{ANONYMOUS_PRE_AUTH} must be true: the token endpoint takes no client_id"),
    (lambda d: d.update(issuer="http://permits.example.gov.cn"), "as.issuer must be https with no query or fragment"),
    (lambda d: d.pop("issuer"), "as.issuer"),
])
def test_as_checker_catches_each_omission(client: FlaskClient, edit: Any, expected: str) -> None:
    _, authorization_server = _documents(client)
    broken = copy.deepcopy(authorization_server)
    edit(broken)
    assert expected in as_problems(broken, PUBLIC_URL)


def _first(configurations: dict[str, Any], fmt: str) -> dict[str, Any]:
    return next(c for c in configurations.values() if c["format"] == fmt)


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d.pop("credential_endpoint"), "issuer.credential_endpoint"),
    (lambda d: d.update(credential_issuer=PUBLIC_URL + "/"), "issuer.credential_issuer is not the identifier"),
    (lambda d: d.update(nonce_endpoint="http://permits.example.gov.cn/nonce"), "issuer.nonce_endpoint is not https"),
    (lambda d: d.update(batch_credential_issuance={"batch_size": 1}), "batch_size must be an integer >= 2"),
    (lambda d: d.update(credential_response_encryption={"alg_values_supported": ["ECDH-ES"]}),
     "issuer.credential_response_encryption.enc_values_supported"),
    (lambda d: _first(d["credential_configurations_supported"], "dc+sd-jwt").pop("vct"), ".vct"),
    (lambda d: _first(d["credential_configurations_supported"], "dc+sd-jwt").pop("proof_types_supported"),
     "proof_types_supported must be present exactly when"),
    (lambda d: _first(d["credential_configurations_supported"], "dc+sd-jwt")["credential_metadata"]["claims"][0]
     .pop("path"), ".claims.path"),
    (lambda d: _first(d["credential_configurations_supported"], "dc+sd-jwt")["credential_metadata"]["display"][0]
     .pop("name"), ".display.name"),
])
def test_issuer_checker_catches_each_omission(client: FlaskClient, edit: Any, expected: str) -> None:
    issuer, _ = _documents(client)
    broken = copy.deepcopy(issuer)
    edit(broken)
    assert any(expected in problem for problem in issuer_problems(broken, PUBLIC_URL)), issuer_problems(broken,
                                                                                                        PUBLIC_URL)
