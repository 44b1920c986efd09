"""The basic view of the QR pass (DESIGN §2.2): name, document, validity, authority, portrait digest, cnf and
status — and no personal field; the permit map states its view, and a map that lies about it is refused."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import cbor2
import pytest

from credential import qrpass
from credential.cose import cose_key, sign1
from credential.errors import InvalidApplicationError, InvalidClaimError, MalformedError
from credential.jwk import kid_bytes
from credential.model import Permit
from credential.passclaims import (
    F_ADDRESS,
    F_CITIZEN_ID,
    F_DISTRICT,
    F_ETHNICITY,
    F_SEX,
    F_VIEW,
    PERSONAL_FIELDS,
    BasicPermit,
    PassView,
    basic_permit_claim,
    claim_view,
    permit_claim,
    validity_window,
    view_from_claim,
)
from credential.samples import AUTHORITY_NAME, sample_permit
from keys.signers import KeySigner
from tests.credential.pass_support import pass_resolver

STATUS_URI = "https://permits.example.gov.cn/statuslists/7"
PORTRAIT = hashlib.sha256(b"portrait of Zhang Wei").digest()


@pytest.fixture(scope="module")
def issuer() -> KeySigner:
    return KeySigner.generate()


@pytest.fixture(scope="module")
def holder() -> KeySigner:
    return KeySigner.generate()


@pytest.fixture(scope="module")
def permit() -> Permit:
    return sample_permit(portrait_sha256=PORTRAIT)


@pytest.fixture(scope="module")
def now(permit: Permit) -> int:
    return validity_window(permit)[0] + 30 * 86400


def _pass(permit: Permit, issuer: KeySigner, holder: KeySigner, now: int, view: PassView) -> bytes:
    return qrpass.encode_pass(permit, signer=issuer, holder_key=holder.public_key, status_uri=STATUS_URI,
                              status_idx=42, now=now, view=view)


def _signed(permit_map: dict[int, Any], permit: Permit, issuer: KeySigner, holder: KeySigner, now: int) -> str:
    nbf, exp = validity_window(permit)
    claims = {4: exp, 5: nbf, 6: now, 8: {1: cose_key(holder.public_key)},
              65535: {"status_list": {"idx": 42, "uri": STATUS_URI}}, -70001: permit_map}
    message = sign1(cbor2.dumps(claims), signer=issuer, typ=qrpass.TYP_PASS, kid=kid_bytes(issuer.kid))
    return qrpass.pass_to_qr_text(message.encode())


def _verify(text: str, issuer: KeySigner, now: int) -> qrpass.VerifiedPass:
    return qrpass.verify_pass(qrpass.decode_qr_text(text), resolve_key=pass_resolver(issuer), now=now)


def test_basic_pass_round_trip_carries_no_personal_data(
    permit: Permit, issuer: KeySigner, holder: KeySigner, now: int
) -> None:
    cose = _pass(permit, issuer, holder, now, PassView.BASIC)
    verified = _verify(qrpass.pass_to_qr_text(cose), issuer, now)
    assert verified.view is PassView.BASIC
    assert isinstance(verified.permit, BasicPermit)
    assert verified.permit == BasicPermit.of(permit)
    shown = verified.permit.to_dict()
    assert shown == {
        "type": "residence_permit", "name": "张伟", "name_pinyin": "ZHANG WEI", "portrait_sha256": PORTRAIT.hex(),
        "document_number": permit.document_number, "authority_code": "110105", "authority_name": AUTHORITY_NAME,
        "valid_from": "2026-01-05", "valid_until": "2027-01-04",
    }
    payload = cbor2.loads(cbor2.loads(cose).value[2])
    assert set(payload[-70001]) & PERSONAL_FIELDS == set()
    # Not in the bytes either: the citizen ID, the address, the birth date.
    raw = cbor2.dumps(payload)
    for secret in (b"410102199003151230", permit.holder.address.encode(), int(permit.holder.citizen_id[:17])
                   .to_bytes(8, "big")):
        assert secret not in raw


def test_basic_and_full_share_holder_key_status_and_validity(
    permit: Permit, issuer: KeySigner, holder: KeySigner, now: int
) -> None:
    full = _verify(qrpass.pass_to_qr_text(_pass(permit, issuer, holder, now, PassView.FULL)), issuer, now)
    basic = _verify(qrpass.pass_to_qr_text(_pass(permit, issuer, holder, now, PassView.BASIC)), issuer, now)
    assert full.view is PassView.FULL and isinstance(full.permit, Permit)
    assert (basic.status_uri, basic.status_idx, basic.nbf, basic.exp) == (full.status_uri, full.status_idx,
                                                                          full.nbf, full.exp)
    assert cose_key(basic.holder_key) == cose_key(full.holder_key)


def test_a_live_basic_pass_verifies_and_is_smaller(
    permit: Permit, issuer: KeySigner, holder: KeySigner, now: int
) -> None:
    basic = _pass(permit, issuer, holder, now, PassView.BASIC)
    full = _pass(permit, issuer, holder, now, PassView.FULL)
    live = qrpass.decode_qr_text(qrpass.live_qr_text(basic, holder_signer=holder, now=now))
    verified = qrpass.verify_pass(live, resolve_key=pass_resolver(issuer), now=now)
    assert qrpass.verify_live_proof(live, verified.holder_key, now=now) == now
    assert len(basic) < len(full) - 80


@pytest.mark.parametrize("field", sorted(PERSONAL_FIELDS))
def test_a_basic_pass_carrying_a_personal_field_is_refused(
    permit: Permit, issuer: KeySigner, holder: KeySigner, now: int, field: int
) -> None:
    full_map = permit_claim(dataclasses.replace(permit, authority_code="110000"))  # so that 11 is in it too
    stuffed = {**basic_permit_claim(permit), field: full_map[field]}
    with pytest.raises(InvalidClaimError, match="personal data"):
        _verify(_signed(stuffed, permit, issuer, holder, now), issuer, now)


def test_a_full_map_that_claims_basic_is_refused(permit: Permit, issuer: KeySigner, holder: KeySigner, now: int) -> None:
    claimed = {**permit_claim(permit), F_VIEW: 1}
    with pytest.raises(InvalidClaimError, match="personal data"):
        _verify(_signed(claimed, permit, issuer, holder, now), issuer, now)


def test_a_basic_map_without_its_view_field_is_a_full_pass_missing_fields(
    permit: Permit, issuer: KeySigner, holder: KeySigner, now: int
) -> None:
    unmarked = {k: v for k, v in basic_permit_claim(permit).items() if k != F_VIEW}
    with pytest.raises(InvalidClaimError, match="missing"):
        _verify(_signed(unmarked, permit, issuer, holder, now), issuer, now)


@pytest.mark.parametrize("value", [0, 2, True, "basic", 1.0])
def test_only_one_value_states_the_basic_view(value: object, permit: Permit) -> None:
    with pytest.raises(InvalidClaimError, match="view"):
        claim_view({**basic_permit_claim(permit), F_VIEW: value})


def test_the_basic_map_always_names_its_authority(permit: Permit) -> None:
    # In a full map the authority code is left out when it is the district; the basic map has no district.
    assert permit.authority_code == permit.district and 11 not in permit_claim(permit)
    assert basic_permit_claim(permit)[11] == 110105
    missing = {k: v for k, v in basic_permit_claim(permit).items() if k != 11}
    nbf, exp = validity_window(permit)
    with pytest.raises(InvalidClaimError, match="field 11 is missing"):
        view_from_claim(missing, nbf=nbf, exp=exp, authority_name=AUTHORITY_NAME)


def test_a_basic_map_is_canonical(permit: Permit) -> None:
    nbf, exp = validity_window(permit)
    decomposed = {**basic_permit_claim(permit), 2: "张伟\u0301"}  # not NFC: never silently normalised
    with pytest.raises(MalformedError):
        view_from_claim(decomposed, nbf=nbf, exp=exp, authority_name=AUTHORITY_NAME)
    lower = {**basic_permit_claim(permit), 3: "zhang wei"}
    with pytest.raises(InvalidClaimError, match="canonical"):
        view_from_claim(lower, nbf=nbf, exp=exp, authority_name=AUTHORITY_NAME)
    with pytest.raises(InvalidClaimError, match="unknown field 99"):
        view_from_claim({**basic_permit_claim(permit), 99: 1}, nbf=nbf, exp=exp, authority_name=AUTHORITY_NAME)
    with pytest.raises(InvalidClaimError, match="authority name"):
        view_from_claim({**basic_permit_claim(permit), 12: AUTHORITY_NAME}, nbf=nbf, exp=exp,
                        authority_name=AUTHORITY_NAME)


def test_the_basic_view_validates_as_the_model_does(permit: Permit) -> None:
    basic = BasicPermit.of(permit)
    with pytest.raises(InvalidApplicationError, match="name"):
        dataclasses.replace(basic, name="Zhang Wei")
    with pytest.raises(InvalidApplicationError, match="document_number"):
        dataclasses.replace(basic, document_number="JZZ/1")
    with pytest.raises(InvalidApplicationError, match="valid_until"):
        dataclasses.replace(basic, valid_until=basic.valid_from)
    # The same normalisation as Holder: a look-alike middle dot becomes U+00B7, pinyin is upper-cased.
    minority = dataclasses.replace(basic, name="阿依古丽・艾山", name_pinyin="ayiguli  aishan")
    assert (minority.name, minority.name_pinyin) == ("阿依古丽·艾山", "AYIGULI AISHAN")


def test_personal_fields_are_exactly_those_the_basic_view_leaves_out() -> None:
    assert {F_SEX, F_ETHNICITY, F_CITIZEN_ID, F_ADDRESS, F_DISTRICT} == PERSONAL_FIELDS
