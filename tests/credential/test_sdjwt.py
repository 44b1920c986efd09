from __future__ import annotations

import hashlib
from typing import Any

import pytest

from credential.disclosures import decode_disclosure, digest
from credential.encoding import b64url_decode, b64url_encode, json_dumps
from credential.errors import (
    BadSignatureError,
    CredentialError,
    ExpiredError,
    InvalidClaimError,
    MalformedError,
    MissingClaimError,
    MissingHolderProofError,
    NotYetValidError,
    ReplayedError,
    TooLargeError,
    UnsupportedAlgorithmError,
    UntrustedIssuerError,
    WrongTypeError,
)
from credential.jose import parse_compact, sign_compact
from credential.jwk import thumbprint
from credential.model import CredentialType
from credential.samples import sample_permit
from credential.sdjwt import (
    MAX_SD_JWT,
    PERSONAL_CLAIMS,
    credential_type_of,
    day_start,
    issue_sd_jwt_vc,
    personal_claims,
    present,
    sd_hash,
    split_sd_jwt,
    verify_issuer_signed,
    verify_key_binding,
    verify_sd_jwt_vc,
)
from tests.conftest import T0
from tests.credential.sdjwt_support import (
    HOLDER,
    ISS,
    ISSUER,
    ISSUER_ED,
    OTHER,
    STATUS_URI,
    base_payload,
    disclosure,
    forge,
    issue,
    resolve,
)


def verify(text: str, *, require_key_binding: bool = False, now: int = T0, **kw: Any) -> Any:
    return verify_sd_jwt_vc(text, resolve_key=resolve, now=now, require_key_binding=require_key_binding, **kw)


def raw_disclosure(contents: Any) -> str:
    return b64url_encode(json_dumps(contents))


# --- issuance -------------------------------------------------------------------------------------------


def test_round_trip_discloses_every_personal_claim() -> None:
    portrait = hashlib.sha256(b"portrait").digest()
    result = verify(issue(portrait=portrait))
    permit = sample_permit(portrait_sha256=portrait)
    for name, value in personal_claims(permit).items():
        assert result.claims[name] == value
    assert set(personal_claims(permit)) == set(PERSONAL_CLAIMS) - {"picture"}  # no bytes: tests/credential/test_portrait.py
    assert result.claims["portrait_sha256"] == b64url_encode(portrait)
    assert result.claims["vct"] == ISS + "/vct/residence-permit/1"
    assert result.status_uri == STATUS_URI and result.status_idx == 7
    assert result.issuer_kid == ISSUER.kid
    assert result.holder_key is not None and thumbprint(result.holder_key) == thumbprint(HOLDER.public_key)
    assert not result.key_bound
    assert "_sd" not in result.claims and "_sd_alg" not in result.claims
    assert credential_type_of(result.claims) is CredentialType.RESIDENCE_PERMIT


def test_issued_shape_header_visible_claims_sorted_digests_decoys() -> None:
    token = issue(decoys=5)
    assert token.endswith("~")
    jwt, disclosures, kb = split_sd_jwt(token)
    assert kb is None
    jws = parse_compact(jwt, max_size=MAX_SD_JWT)
    assert jws.header == {"alg": "ES256", "kid": ISSUER.kid, "typ": "dc+sd-jwt"}
    payload = jws.payload
    assert set(payload) == {"iss", "vct", "iat", "nbf", "exp", "cnf", "status", "_sd_alg", "_sd"}
    assert payload["_sd_alg"] == "sha-256"
    assert payload["_sd"] == sorted(payload["_sd"])
    assert len(payload["_sd"]) == len(disclosures) + 5  # the decoys
    assert {digest(d) for d in disclosures} < set(payload["_sd"])
    assert payload["nbf"] == day_start(sample_permit().valid_from)
    salts = [decode_disclosure(d, max_size=MAX_SD_JWT).salt for d in disclosures]
    assert len(set(salts)) == len(salts)
    assert all(len(b64url_decode(s)) == 16 for s in salts)


def test_disclosures_are_utf8_without_escapes() -> None:
    _, disclosures, _ = split_sd_jwt(issue())
    raw = [b64url_decode(d) for d in disclosures]
    assert any("张伟".encode() in r for r in raw)
    assert not any(b"\\u" in r for r in raw)


def test_registration_card_type_and_eddsa_issuer() -> None:
    token = issue(signer=ISSUER_ED, credential_type=CredentialType.RESIDENCE_REGISTRATION, resident=1)
    result = verify(token)
    assert credential_type_of(result.claims) is CredentialType.RESIDENCE_REGISTRATION
    assert result.claims["name"] == "阿依古丽·艾山"


def test_issue_refuses_bad_arguments() -> None:
    permit = sample_permit()
    common: dict[str, Any] = {"issuer": ISS, "signer": ISSUER, "holder_key": HOLDER.public_key, "now": T0,
                              "status_uri": STATUS_URI}
    with pytest.raises(InvalidClaimError):
        issue_sd_jwt_vc(permit, status_idx=-1, exp=T0 + 10, **common)
    with pytest.raises(InvalidClaimError):
        issue_sd_jwt_vc(permit, status_idx=1, exp=T0, **common)


def test_credential_type_of_rejects_foreign_vct() -> None:
    with pytest.raises(InvalidClaimError):
        credential_type_of({"iss": ISS, "vct": "https://other.example/vct/residence-permit/1"})
    with pytest.raises(InvalidClaimError):
        credential_type_of({"iss": ISS, "vct": ISS + "/vct/passport/1"})


# --- presentation and key binding ---------------------------------------------------------------------


def test_present_selected_claims_with_key_binding() -> None:
    pres = present(issue(), disclose={"name", "address"}, holder_signer=HOLDER, aud="landlord", nonce="n1",
                   now=T0 + 60)
    result = verify(pres, require_key_binding=True, aud="landlord", nonce="n1", now=T0 + 100)
    assert result.key_bound
    assert {"name", "address"} <= set(result.claims)
    assert not set(PERSONAL_CLAIMS) - {"name", "address"} & set(result.claims)


def test_present_nothing_and_everything() -> None:
    token = issue()
    none = verify(present(token, disclose=(), holder_signer=HOLDER, aud="a", nonce="n", now=T0),
                  require_key_binding=True)
    assert not set(PERSONAL_CLAIMS) & set(none.claims)
    every = verify(present(token, disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0))
    assert every.key_bound and every.claims["citizen_id"] == "410102199003151230"


def test_check_issuer_sees_the_established_claims_before_the_key_binding() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def check_issuer(kid: str, claims: Any) -> None:
        seen.append((kid, dict(claims)))
        if claims.get("authority_code") != "110105":
            raise UntrustedIssuerError(kid, "another authority")

    stale = present(issue(), disclose={"name", "authority_code"}, holder_signer=HOLDER, aud="a", nonce="n",
                    now=T0 - 3600)
    with pytest.raises(UntrustedIssuerError):  # the issuer's rules come before the stale KB-JWT
        verify(present(issue(), disclose={"name"}, holder_signer=HOLDER, aud="a", nonce="n", now=T0 - 3600),
               check_issuer=check_issuer)
    with pytest.raises(ReplayedError):
        verify(stale, check_issuer=check_issuer)
    assert [kid for kid, _ in seen] == [ISSUER.kid, ISSUER.kid]
    assert seen[1][1]["name"] == "张伟" and "citizen_id" not in seen[1][1] and "iss" in seen[1][1]


def test_eddsa_holder_key() -> None:
    from keys.signers import KeySigner

    holder = KeySigner.generate("EdDSA")
    pres = present(issue(holder_key=holder.public_key), disclose={"name"}, holder_signer=holder, aud="a",
                   nonce="n", now=T0)
    assert verify(pres, require_key_binding=True, aud="a", nonce="n").key_bound


def test_present_refuses_sd_jwt_with_kb() -> None:
    pres = present(issue(), disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0)
    with pytest.raises(MalformedError):
        present(pres, disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0)


def test_missing_kb_when_required_is_no_holder_proof() -> None:
    with pytest.raises(MissingHolderProofError) as err:
        verify(issue(), require_key_binding=True)
    assert err.value.code == "NO_HOLDER_PROOF"


def test_kb_is_checked_even_when_not_required() -> None:
    pres = present(issue(), disclose=None, holder_signer=OTHER, aud="a", nonce="n", now=T0)
    with pytest.raises(BadSignatureError):
        verify(pres, require_key_binding=False)


def test_kb_wrong_aud() -> None:
    pres = present(issue(), disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0)
    with pytest.raises(ReplayedError):
        verify(pres, aud="b", nonce="n")


def test_kb_wrong_nonce() -> None:
    pres = present(issue(), disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0)
    with pytest.raises(ReplayedError):
        verify(pres, aud="a", nonce="other")


def test_kb_too_old() -> None:
    pres = present(issue(), disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0)
    assert verify(pres, now=T0 + 300).key_bound
    with pytest.raises(ReplayedError):
        verify(pres, now=T0 + 301)
    with pytest.raises(ReplayedError):
        verify(pres, now=T0 + 100, kb_max_age=60)


def test_the_two_steps_give_no_verdict_until_the_key_binding_passes() -> None:
    """verify_issuer_signed reads the status reference of a presentation whose KB-JWT is stale (a verifier
    needs it to say REVOKED first); only verify_key_binding makes a VerifiedSdJwt, and it refuses that KB-JWT."""
    pres = present(issue(), disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0 - 3600)
    issued = verify_issuer_signed(pres, resolve_key=resolve, now=T0)
    assert (issued.status_uri, issued.status_idx) == (STATUS_URI, 7) and issued.kb_jwt is not None
    assert not hasattr(issued, "key_bound")  # not a VerifiedSdJwt: nothing to mistake for a bound presentation
    for required in (False, True):
        with pytest.raises(ReplayedError):
            verify_key_binding(issued, now=T0, require_key_binding=required)
    with pytest.raises(MissingHolderProofError):
        verify_key_binding(verify_issuer_signed(issue(), resolve_key=resolve, now=T0), now=T0,
                           require_key_binding=True)
    fresh = verify_issuer_signed(present(issue(), disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0),
                                 resolve_key=resolve, now=T0)
    assert verify_key_binding(fresh, now=T0, require_key_binding=True, aud="a", nonce="n").key_bound


def test_kb_from_the_future() -> None:
    pres = present(issue(), disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0 + 301)
    with pytest.raises(ReplayedError):
        verify(pres)


def test_kb_sd_hash_mismatch_when_disclosure_dropped() -> None:
    pres = present(issue(), disclose={"name", "address"}, holder_signer=HOLDER, aud="a", nonce="n", now=T0)
    jwt, disclosures, kb = split_sd_jwt(pres)
    assert kb is not None
    with pytest.raises(ReplayedError):
        verify("~".join([jwt, disclosures[0], kb]))


def test_kb_moved_to_another_credential() -> None:
    kb = present(issue(), disclose=None, holder_signer=HOLDER, aud="a", nonce="n", now=T0).rsplit("~", 1)[1]
    with pytest.raises(ReplayedError):
        verify(issue() + kb)


def _kb(header: dict[str, Any], payload: dict[str, Any], signer: Any = HOLDER) -> str:
    return sign_compact(header, payload, signer)


def _kb_payload(presented: str, **extra: Any) -> dict[str, Any]:
    return {"iat": T0, "aud": "a", "nonce": "n", "sd_hash": sd_hash(presented), **extra}


def test_kb_wrong_typ() -> None:
    token = issue()
    with pytest.raises(WrongTypeError):
        verify(token + _kb({"typ": "JWT"}, _kb_payload(token)))


def test_kb_alg_outside_allow_list() -> None:
    token = issue()
    with pytest.raises(UnsupportedAlgorithmError):
        verify(token + _kb({"typ": "kb+jwt", "alg": "none"}, _kb_payload(token)))


def test_kb_aud_must_be_one_string() -> None:
    token = issue()
    with pytest.raises(InvalidClaimError):
        verify(token + _kb({"typ": "kb+jwt"}, _kb_payload(token, aud=["a", "b"])))


def test_kb_missing_claim() -> None:
    token = issue()
    payload = _kb_payload(token)
    del payload["sd_hash"]
    with pytest.raises(MissingClaimError):
        verify(token + _kb({"typ": "kb+jwt"}, payload))


def test_kb_without_cnf() -> None:
    payload = base_payload()
    del payload["cnf"]
    token = forge(payload)
    with pytest.raises(MissingClaimError):
        verify(token + _kb({"typ": "kb+jwt"}, _kb_payload(token)))
    assert verify(token).holder_key is None


# --- issuer JWT ---------------------------------------------------------------------------------------------


def test_rejects_oversize_before_parsing() -> None:
    with pytest.raises(TooLargeError):
        verify("a" * (MAX_SD_JWT + 1))


def test_rejects_bare_jwt_without_tilde() -> None:
    with pytest.raises(MalformedError):
        verify(issue()[:-1].split("~")[0])


def test_rejects_last_element_that_is_not_a_kb_jwt() -> None:
    with pytest.raises(MalformedError, match="neither empty nor a KB-JWT"):
        verify(issue()[:-1])


def test_rejects_empty_disclosure() -> None:
    jwt, disclosures, _ = split_sd_jwt(issue())
    with pytest.raises(MalformedError):
        verify("~".join([jwt, disclosures[0], "", *disclosures[1:], ""]))


def test_rejects_non_ascii() -> None:
    with pytest.raises(MalformedError):
        verify(issue() + "张")


def test_rejects_wrong_typ() -> None:
    with pytest.raises(WrongTypeError):
        verify(forge(base_payload(), header={"typ": "JWT"}))


def test_accepts_legacy_vc_sd_jwt_typ_on_input() -> None:
    assert verify(forge(base_payload(), header={"typ": "vc+sd-jwt"})).status_idx == 3


def test_rejects_untrusted_issuer_key() -> None:
    with pytest.raises(UntrustedIssuerError):
        verify(forge(base_payload(), signer=OTHER))


def test_rejects_tampered_payload() -> None:
    jwt, rest = issue().split("~", 1)
    header, _, signature = jwt.split(".")
    claims = parse_compact(jwt, max_size=MAX_SD_JWT).payload
    claims["status"]["status_list"]["idx"] = 8
    tampered = ".".join([header, b64url_encode(json_dumps(claims)), signature])
    with pytest.raises(BadSignatureError):
        verify(tampered + "~" + rest)


def test_rejects_algorithm_not_allowed_by_configuration() -> None:
    with pytest.raises(UnsupportedAlgorithmError):
        verify(issue(signer=ISSUER_ED), algorithms=("ES256",))


def test_rejects_other_sd_alg() -> None:
    with pytest.raises(InvalidClaimError):
        verify(forge(base_payload(_sd_alg="sha-512")))


def test_absent_sd_alg_means_sha256() -> None:
    d, h = disclosure("name", "张伟")
    payload = base_payload(_sd=[h])
    del payload["_sd_alg"]
    assert verify(forge(payload, [d])).claims["name"] == "张伟"


@pytest.mark.parametrize("now", [T0 + 86400 + 300, T0 + 10 * 86400])
def test_rejects_expired(now: int) -> None:
    with pytest.raises(ExpiredError):
        verify(forge(base_payload()), now=now)


def test_rejects_not_yet_valid() -> None:
    with pytest.raises(NotYetValidError):
        verify(forge(base_payload(nbf=T0 + 1000)))
    with pytest.raises(NotYetValidError):
        verify(forge(base_payload(iat=T0 + 1000)))


def test_rejects_missing_exp() -> None:
    payload = base_payload()
    del payload["exp"]
    with pytest.raises(MissingClaimError):
        verify(forge(payload))


@pytest.mark.parametrize("name", ["iss", "vct", "status"])
def test_rejects_missing_required_claim(name: str) -> None:
    payload = base_payload()
    del payload[name]
    with pytest.raises(MissingClaimError):
        verify(forge(payload))


@pytest.mark.parametrize(
    "status",
    [
        {"status_list": {"idx": -1, "uri": STATUS_URI}},
        {"status_list": {"idx": True, "uri": STATUS_URI}},
        {"status_list": {"idx": "3", "uri": STATUS_URI}},
        {"status_list": {"idx": 3, "uri": ""}},
        {"status_list": {"idx": 3}},
        {"status_list": []},
        "revoked",
    ],
)
def test_rejects_bad_status(status: Any) -> None:
    with pytest.raises(InvalidClaimError):
        verify(forge(base_payload(status=status)))


# --- disclosures (RFC 9901 §7.1) ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["iss", "vct", "cnf", "status", "iat", "nbf", "exp"])
def test_rejects_always_visible_claim_arriving_by_disclosure(name: str) -> None:
    payload = base_payload()
    value = payload.pop(name, T0)
    d, h = disclosure(name, value)
    payload["_sd"] = [h]
    with pytest.raises(InvalidClaimError):
        verify(forge(payload, [d]))


def test_rejects_disclosure_inside_status() -> None:
    d, h = disclosure("idx", 3)
    payload = base_payload(status={"status_list": {"uri": STATUS_URI, "_sd": [h]}})
    with pytest.raises(InvalidClaimError):
        verify(forge(payload, [d]))


def test_rejects_invalid_base64url_disclosure() -> None:
    with pytest.raises(MalformedError):
        verify(forge(base_payload(), ["not*base64"]))


@pytest.mark.parametrize(
    "contents",
    [{"salt": "s"}, ["s"], ["s", "name", "v", "extra"], [1, "name", "v"], ["s", 1, "v"], ["s", None, "v"]],
)
def test_rejects_disclosure_of_wrong_shape(contents: Any) -> None:
    d = raw_disclosure(contents)
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd=[digest(d)]), [d]))


@pytest.mark.parametrize("name", ["_sd", "..."])
def test_rejects_reserved_claim_names(name: str) -> None:
    d = raw_disclosure(["c2FsdHNhbHRzYWx0", name, "v"])
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd=[digest(d)]), [d]))


def test_rejects_disclosed_name_already_present() -> None:
    d, h = disclosure("name", "李四")
    with pytest.raises(MalformedError):
        verify(forge(base_payload(name="张伟", _sd=[h]), [d]))


def test_rejects_two_disclosures_of_one_name() -> None:
    (d1, h1), (d2, h2) = disclosure("name", "张伟"), disclosure("name", "李四")
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd=[h1, h2]), [d1, d2]))


def test_rejects_digest_appearing_twice() -> None:
    d, h = disclosure("name", "张伟")
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd=[h, h]), [d]))
    with pytest.raises(MalformedError):  # once in _sd, once in an array
        verify(forge(base_payload(_sd=[h], nationalities=[{"...": h}]), [d]))
    _, undisclosed = disclosure("address", "somewhere")
    with pytest.raises(MalformedError, match="twice"):  # even when no disclosure matches it
        verify(forge(base_payload(_sd=[undisclosed, h], items=[{"...": undisclosed}]), [d]))


def test_rejects_same_disclosure_presented_twice() -> None:
    d, h = disclosure("name", "张伟")
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd=[h]), [d, d]))


def test_rejects_unreferenced_disclosure() -> None:
    d, h = disclosure("name", "张伟")
    stray, _ = disclosure("address", "somewhere")
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd=[h]), [d, stray]))


def test_rejects_non_string_digest() -> None:
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd=[1])))
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd="abc")))


def test_rejects_array_element_disclosure_in_sd_and_property_in_array() -> None:
    element, element_digest = disclosure(None, "CN")
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd=[element_digest]), [element]))
    prop, prop_digest = disclosure("x", "CN")
    with pytest.raises(MalformedError):
        verify(forge(base_payload(nationalities=[{"...": prop_digest}]), [prop]))


def test_array_elements_and_unmatched_placeholders() -> None:
    element, element_digest = disclosure(None, "CN")
    hidden, hidden_digest = disclosure(None, "HK")
    payload = base_payload(nationalities=[{"...": element_digest}, {"...": hidden_digest}, "MO"])
    assert verify(forge(payload, [element])).claims["nationalities"] == ["CN", "MO"]
    assert verify(forge(payload, [element, hidden])).claims["nationalities"] == ["CN", "HK", "MO"]


def test_recursive_disclosures() -> None:
    city, city_digest = disclosure("city", "北京")
    street, street_digest = disclosure("street", "阜荣街")
    address, address_digest = disclosure("address", {"_sd": [city_digest, street_digest], "country": "CN"})
    payload = base_payload(_sd=[address_digest])
    claims = verify(forge(payload, [address, city])).claims
    assert claims["address"] == {"country": "CN", "city": "北京"}
    with pytest.raises(MalformedError):  # a child without its parent is not referenced
        verify(forge(payload, [city]))
    assert verify(forge(payload, [address, street, city])).claims["address"]["street"] == "阜荣街"


def test_rejects_disclosure_chain_deeper_than_limit() -> None:
    # Found by review: 700 disclosures, each nesting the next, overflowed Python's stack (RecursionError).
    disclosures, reference = [], None
    for _ in range(700):
        text = raw_disclosure(["s", "a", {"_sd": [reference]} if reference else 1])
        disclosures.append(text)
        reference = digest(text)
    with pytest.raises(MalformedError):
        verify(forge(base_payload(_sd=[reference]), disclosures[::-1]))


def test_decoys_inside_always_visible_claims_are_harmless() -> None:
    _, decoy = disclosure("idx", 3)
    payload = base_payload(status={"status_list": {"idx": 3, "uri": STATUS_URI, "_sd": [decoy]}})
    assert verify(forge(payload)).status_idx == 3


def test_verify_raises_credential_errors_only_on_truncations() -> None:
    pres = present(issue(), disclose={"name"}, holder_signer=HOLDER, aud="a", nonce="n", now=T0)
    for cut in range(0, len(pres), 7):
        with pytest.raises(CredentialError):
            verify(pres[:cut], require_key_binding=True)
