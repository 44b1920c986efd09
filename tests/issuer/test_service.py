"""IssuerService end to end with real keys: register -> offer -> redeem -> nonce -> deliver -> status."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from credential.jose import parse_compact
from credential.jwk import PublicKey, public_jwk
from credential.model import CredentialType
from credential.passclaims import BasicPermit, PassView, validity_window
from credential.qrpass import decode_qr_text, pass_to_qr_text, verify_pass
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from credential.sdjwt import verify_sd_jwt_vc
from credential.statuslist import INVALID, SUSPENDED, VALID, verify_status_list_token
from credential.trustlist import verify_trust_list
from issuer.errors import (
    InvalidGrantError,
    InvalidNonceError,
    InvalidRequestError,
    InvalidTokenError,
    MissingTxCodeError,
    OfferNotFoundError,
    RecordNotFoundError,
    StateConflictError,
    StatusListNotFoundError,
)
from issuer.model import DeliveredCredential, Record, RecordState
from issuer.rules import BureauRuleError, beijing_day
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from keys import KeyRing, KeySigner, Purpose, SigningKey, rotate
from tests.conftest import T0, FakeClock
from tests.credential.pass_support import keys_resolver

from .conftest import PUBLIC_URL
from .test_store_contract import race

SD_JWT, QR = "residence_permit_sd_jwt", "residence_permit_qr"


def resolver(*keys: SigningKey) -> dict[str, PublicKey]:
    return {k.kid: k.public_key for k in keys}


def issue(service: IssuerService, holders: int = 1) -> tuple[Record, list[DeliveredCredential], list[KeySigner]]:
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    service.consume_nonce(service.new_nonce())
    signers = [KeySigner.generate() for _ in range(holders)]
    return record, service.deliver(token, [s.public_key for s in signers], SD_JWT), signers


def status_at(service: IssuerService, keyring: KeyRing, clock: FakeClock, cred: DeliveredCredential) -> int:
    published = service.published_status_list(cred.status_uri)
    keys = resolver(keyring.signer_for(Purpose.STATUS, now=clock()))
    verified = verify_status_list_token(published.token, uri=cred.status_uri, resolve_key=keys.__getitem__, now=clock())
    return verified.status_list.get(cred.status_idx)


FOREIGN = dataclasses.replace(sample_permit(), authority_code="110000", authority_name="北京市公安局")


def test_a_permit_of_another_authority_is_refused_at_registration(service: IssuerService) -> None:
    """Its QR pass would name an authority code that is not the signing key's: every verifier would refuse it
    (UNTRUSTED_ISSUER). Refused when it is registered, not after the resident spent the pickup code on it."""
    with pytest.raises(BureauRuleError, match="names authority 110000; this issuer's keys are authority 110105") \
            as refused:
        service.register(FOREIGN, officer="alice")
    assert refused.value.rule == "foreign_authority" and refused.value.http_status == 409
    assert service.store.records_of_holder(FOREIGN.holder.citizen_id) == []
    with pytest.raises(BureauRuleError):
        service.register_application(FOREIGN, officer="alice")
    assert [(e.action, e.outcome, e.reason) for e in service.audit.list()][-1] == (
        "register", "refused", "residence_permit: foreign_authority")


def test_a_pickup_that_would_be_refused_does_not_spend_the_code(service: IssuerService) -> None:
    """A record stored before registration checked the authority: the right PIN is refused at the token
    endpoint, before the code is spent, and nothing is signed or allocated."""
    record = Record("legacy-record", FOREIGN, RecordState.ACTIVE, T0, T0)
    service.store.insert_record(record)
    offer = service.create_offer(record.id, officer="alice")
    before = service.status_list_uris()
    with pytest.raises(InvalidGrantError, match="cannot be picked up now: the permit names authority 110000"):
        service.redeem(offer.pre_authorized_code, offer.tx_code)
    stored = service.store.get_offer(offer.ref)
    assert stored is not None and stored.state == "open"  # not redeemed, not burned
    assert service.status_list_uris() == before and service.store.delivered(record.id) == []


def test_delivered_credentials_verify_in_every_encoding(
    service: IssuerService, keyring: KeyRing, clock: FakeClock
) -> None:
    record, creds, holders = issue(service, holders=2)
    signer = keyring.signer_for(Purpose.CREDENTIAL, now=clock())
    keys = resolver(signer)
    assert len({c.status_idx for c in creds}) == 2
    nbf, exp = validity_window(record.permit)
    for cred, holder in zip(creds, holders, strict=True):
        assert cred.status_uri == f"{PUBLIC_URL}/statuslists/1"
        sd = verify_sd_jwt_vc(cred.sd_jwt_vc, resolve_key=keys.__getitem__, now=clock(), require_key_binding=False)
        assert sd.claims["iss"] == PUBLIC_URL
        assert (sd.status_uri, sd.status_idx) == (cred.status_uri, cred.status_idx)
        assert (sd.claims["nbf"], sd.claims["exp"], sd.claims["iat"]) == (nbf, exp, clock())
        assert sd.holder_key is not None and public_jwk(sd.holder_key) == public_jwk(holder.public_key)
        qr = verify_pass(decode_qr_text(pass_to_qr_text(cred.qr_pass)), now=clock(), resolve_key=keys_resolver(
            [signer], authority_code=keyring.authority_code, authority_name=keyring.authority_name))
        assert qr.permit == record.permit
        assert (qr.status_uri, qr.status_idx, qr.nbf, qr.exp) == (cred.status_uri, cred.status_idx, nbf, exp)
        assert public_jwk(qr.holder_key) == public_jwk(holder.public_key)
        basic = verify_pass(decode_qr_text(pass_to_qr_text(cred.qr_pass_basic)), now=clock(),
                            resolve_key=keys_resolver([signer], authority_code=keyring.authority_code,
                                                      authority_name=keyring.authority_name))
        assert basic.view is PassView.BASIC and basic.permit == BasicPermit.of(record.permit)
        assert (basic.status_uri, basic.status_idx, basic.iat, basic.exp) == (qr.status_uri, qr.status_idx, qr.iat,
                                                                               qr.exp)
        assert public_jwk(basic.holder_key) == public_jwk(holder.public_key)
        assert status_at(service, keyring, clock, cred) == VALID
    # the validity ends at the end of valid_until, Beijing time (UTC+8)
    end = datetime.datetime.combine(record.permit.valid_until + datetime.timedelta(days=1), datetime.time(),
                                    datetime.timezone(datetime.timedelta(hours=8)))
    assert exp == int(end.timestamp())
    assert sorted(service.store.delivered(record.id)) == sorted((1, c.status_idx) for c in creds)


def test_a_later_request_for_another_encoding_gets_the_same_credential(
    service: IssuerService, keyring: KeyRing, clock: FakeClock
) -> None:
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    key = KeySigner.generate().public_key
    [first] = service.deliver(token, [key], SD_JWT)
    clock.advance(120)  # the wallet asks for the QR passes two minutes later
    [again] = service.deliver(token, [key], QR)
    signer = keyring.signer_for(Purpose.CREDENTIAL, now=clock())
    resolve = keys_resolver([signer], authority_code=keyring.authority_code, authority_name=keyring.authority_name)
    for cose in (first.qr_pass, again.qr_pass, again.qr_pass_basic):
        verified = verify_pass(decode_qr_text(pass_to_qr_text(cose)), now=clock(), resolve_key=resolve)
        assert (verified.status_idx, verified.iat) == (first.status_idx, clock() - 120)
    sd = verify_sd_jwt_vc(again.sd_jwt_vc, resolve_key=resolver(signer).__getitem__, now=clock(),
                          require_key_binding=False)
    assert (sd.status_idx, sd.claims["iat"]) == (first.status_idx, clock() - 120)
    assert service.store.delivered(record.id) == [(1, first.status_idx)]
    # A revoke reaches every encoding: they share the one index.
    service.revoke(record.id, officer="sup", reason="test")
    assert status_at(service, keyring, clock, again) == INVALID


def test_a_rotation_between_two_requests_gives_a_new_index_recorded_with_the_new_key(
    store: Store, settings: IssuerSettings
) -> None:
    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=T0 - 86400)
    clock = FakeClock(T0)
    service = IssuerService(store, ring, settings, clock)
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    key = KeySigner.generate().public_key
    [first] = service.deliver(token, [key], SD_JWT)
    old = ring.signers_of(Purpose.CREDENTIAL)[0]
    new = rotate(ring, Purpose.CREDENTIAL, now=clock(), lead_time=60)
    clock.advance(120)  # the new key signs now: the earlier index was recorded with the old one
    [again] = service.deliver(token, [key], QR)
    assert again.status_idx != first.status_idx
    assert store.deliveries_signed_by(old.kid) == [(record.id, 1, first.status_idx)]
    assert store.deliveries_signed_by(new.kid) == [(record.id, 1, again.status_idx)]


def test_suspend_lift_revoke_show_in_the_published_list(
    service: IssuerService, keyring: KeyRing, clock: FakeClock
) -> None:
    record, (cred,), _ = issue(service)
    clock.advance(1)
    assert service.suspend(record.id, officer="sup", reason="lost card").state is RecordState.SUSPENDED
    assert status_at(service, keyring, clock, cred) == SUSPENDED
    assert service.lift(record.id, officer="sup", reason="found again").state is RecordState.ACTIVE
    assert status_at(service, keyring, clock, cred) == VALID
    assert service.revoke(record.id, officer="sup", reason="moved away").state is RecordState.REVOKED
    assert status_at(service, keyring, clock, cred) == INVALID
    with pytest.raises(StateConflictError) as conflict:
        service.revoke(record.id, officer="sup", reason="again")
    assert conflict.value.http_status == 409
    with pytest.raises(StateConflictError):
        service.lift(record.id, officer="sup", reason="undo")
    actions = [(e.officer, e.action) for e in service.audit.list()]
    assert ("sup", "revoke") in actions
    assert [e.outcome for e in service.audit.list() if e.action == "revoke"] == ["ok", "refused"]


def test_state_machine_refuses_illegal_moves(service: IssuerService) -> None:
    record = service.register(sample_permit(), officer="alice")
    with pytest.raises(StateConflictError):
        service.lift(record.id, officer="sup", reason="not suspended")
    service.suspend(record.id, officer="sup", reason="check")
    with pytest.raises(StateConflictError):
        service.suspend(record.id, officer="sup", reason="twice")
    with pytest.raises(StateConflictError):
        service.create_offer(record.id, officer="alice")
    assert service.revoke(record.id, officer="sup", reason="from suspended").state is RecordState.REVOKED


def test_concurrent_revokes_one_wins(service: IssuerService) -> None:
    record, _, _ = issue(service)
    outcomes = race(10, lambda _: _try(lambda: service.revoke(record.id, officer="sup", reason="r")))
    assert outcomes.count("ok") == 1 and outcomes.count("conflict") == 9


def _try(step: object) -> str:
    try:
        step()  # type: ignore[operator]
    except StateConflictError:
        return "conflict"
    return "ok"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201, "two\nlines"])
def test_a_reason_is_required(service: IssuerService, reason: str) -> None:
    record = service.register(sample_permit(), officer="alice")
    with pytest.raises(InvalidRequestError):
        service.suspend(record.id, officer="sup", reason=reason)
    assert service.get_record(record.id).state is RecordState.ACTIVE


def test_unknown_records(service: IssuerService) -> None:
    for record_id in ("nope", "", "x" * 500):
        with pytest.raises(RecordNotFoundError):
            service.get_record(record_id)
    with pytest.raises(RecordNotFoundError):
        service.revoke("nope", officer="sup", reason="r")


# --- pickup: code, PIN, token, nonce -------------------------------------------------------------------

def test_wrong_pins_are_counted_and_burn_the_code(service: IssuerService, settings: IssuerSettings) -> None:
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    for _ in range(settings.max_pin_attempts):
        with pytest.raises(InvalidGrantError):
            service.redeem(offer.pre_authorized_code, wrong)
    with pytest.raises(InvalidGrantError):  # burned: even the right PIN fails now
        service.redeem(offer.pre_authorized_code, offer.tx_code)
    with pytest.raises(OfferNotFoundError):
        service.offer_by_id(offer.offer_id)
    assert "offer_burned" in [e.action for e in service.audit.list()]


def test_the_right_pin_within_the_limit_works_once(service: IssuerService, settings: IssuerSettings) -> None:
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    assert len(offer.tx_code) == 6 and offer.tx_code.isdigit()
    assert len(offer.pre_authorized_code) >= 43
    assert service.offer_by_id(offer.offer_id).pre_authorized_code == offer.pre_authorized_code
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    for _ in range(settings.max_pin_attempts - 1):
        with pytest.raises(InvalidGrantError):
            service.redeem(offer.pre_authorized_code, wrong)
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    assert service.configuration_ids(token) == ["residence_permit_sd_jwt", "residence_permit_qr",
                                                "residence_permit_qr_basic"]
    with pytest.raises(InvalidGrantError):
        service.redeem(offer.pre_authorized_code, offer.tx_code)
    with pytest.raises(OfferNotFoundError):  # the clear code is gone once redeemed
        service.offer_by_id(offer.offer_id)


def test_concurrent_redeems_yield_one_token(service: IssuerService) -> None:
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")

    def attempt(_: int) -> str | None:
        try:
            return service.redeem(offer.pre_authorized_code, offer.tx_code)
        except InvalidGrantError:
            return None

    tokens = race(20, attempt)
    assert sum(t is not None for t in tokens) == 1


def test_redeem_rejects_missing_unknown_and_expired(service: IssuerService, clock: FakeClock,
                                                    settings: IssuerSettings) -> None:
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    with pytest.raises(MissingTxCodeError):
        service.redeem(offer.pre_authorized_code, None)
    for code, pin in (("unknown", offer.tx_code), ("", offer.tx_code), ("x" * 1000, "1"), (offer.pre_authorized_code, "9" * 100)):
        with pytest.raises(InvalidGrantError):
            service.redeem(code, pin)
    clock.advance(settings.offer_ttl)
    with pytest.raises(InvalidGrantError):
        service.redeem(offer.pre_authorized_code, offer.tx_code)
    with pytest.raises(OfferNotFoundError):
        service.offer_by_id(offer.offer_id)


def test_nonces_are_single_use_and_expire(service: IssuerService, clock: FakeClock, settings: IssuerSettings) -> None:
    nonce = service.new_nonce()
    service.consume_nonce(nonce)
    with pytest.raises(InvalidNonceError):
        service.consume_nonce(nonce)
    late = service.new_nonce()
    clock.advance(settings.nonce_ttl)
    with pytest.raises(InvalidNonceError):
        service.consume_nonce(late)
    with pytest.raises(InvalidNonceError):
        service.consume_nonce("")


def test_access_token_lasts_its_ttl_and_binds_the_record(
    service: IssuerService, clock: FakeClock, settings: IssuerSettings
) -> None:
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    key = KeySigner.generate().public_key
    first = service.deliver(token, [key], SD_JWT)
    second = service.deliver(token, [key], QR)  # a wallet asks once per configuration: one credential, one index
    assert (first[0].status_uri, first[0].status_idx) == (second[0].status_uri, second[0].status_idx)
    assert len(service.store.delivered(record.id)) == 1
    other = service.deliver(token, [KeySigner.generate().public_key], QR + "_basic")  # another key: its own
    assert other[0].status_idx != first[0].status_idx and len(service.store.delivered(record.id)) == 2
    clock.advance(settings.access_token_ttl)
    with pytest.raises(InvalidTokenError):
        service.configuration_ids(token)
    with pytest.raises(InvalidTokenError):
        service.configuration_ids("not-a-token")


def test_deliver_refuses_bad_keys_and_inactive_records(service: IssuerService) -> None:
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    with pytest.raises(InvalidRequestError):
        service.deliver(token, [], SD_JWT)
    with pytest.raises(InvalidRequestError):
        service.deliver(token, [ed25519.Ed25519PrivateKey.generate().public_key()], SD_JWT)
    with pytest.raises(InvalidRequestError):
        service.deliver(token, [KeySigner.generate().public_key] * 11, SD_JWT)
    with pytest.raises(InvalidRequestError):
        service.deliver(token, [KeySigner.generate().public_key], "residence_registration_sd_jwt")
    service.suspend(record.id, officer="sup", reason="hold")
    with pytest.raises(StateConflictError):
        service.deliver(token, [KeySigner.generate().public_key], SD_JWT)
    assert service.store.delivered(record.id) == []


def test_deliver_refuses_an_ended_permit(service: IssuerService, clock: FakeClock) -> None:
    permit = sample_permit(valid_from=datetime.date(2025, 6, 1), valid_until=beijing_day(T0))
    record = service.register(permit, officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    clock.now = validity_window(permit)[1] - 60
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    clock.advance(60)  # the validity ends while the wallet holds the token
    with pytest.raises(StateConflictError):
        service.deliver(token, [KeySigner.generate().public_key], SD_JWT)


def test_an_ended_permit_is_refused_at_the_token_endpoint_without_spending_the_code(
    service: IssuerService, clock: FakeClock
) -> None:
    permit = sample_permit(valid_from=datetime.date(2025, 6, 1), valid_until=beijing_day(T0))
    record = service.register(permit, officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    clock.now = validity_window(permit)[1]  # within the offer's lifetime
    with pytest.raises(InvalidGrantError, match="validity has ended"):
        service.redeem(offer.pre_authorized_code, offer.tx_code)
    stored = service.store.get_offer(offer.ref)
    assert stored is not None and stored.state == "open"


# --- publication -------------------------------------------------------------------------------------

def test_a_status_list_is_signed_by_the_key_of_the_time_it_is_dated(store: Store, settings: IssuerSettings) -> None:
    """One clock per publication: during a rotation's lead time the old status key signs the list the issuer
    dates at its own clock, so a verifier at that time accepts it; the new key takes over after the lead time."""
    day = 86400
    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=T0 - day)
    clock = FakeClock(T0)
    service = IssuerService(store, ring, settings, clock)
    old = ring.signers_of(Purpose.STATUS)[0]
    new = rotate(ring, Purpose.STATUS, now=clock(), lead_time=day)

    def published_kid() -> str:
        published = service.published_status_list("1")
        trust = verify_trust_list(service.trust_list_token(), root_key=ring.root.public_key, now=clock())
        verify_status_list_token(published.token, uri=published.uri, now=clock(),
                                 resolve_key=lambda kid: trust.key_for(kid, purpose="status", now=clock()).public_key)
        kid: str = parse_compact(published.token, max_size=1 << 21).header["kid"]
        return kid

    assert published_kid() == old.kid
    clock.advance(settings.status_list_validity)  # past the lead time, and old enough to be re-signed
    assert published_kid() == new.kid


def test_an_empty_first_list_is_published_before_any_issuance(
    service: IssuerService, keyring: KeyRing, clock: FakeClock
) -> None:
    assert service.status_list_uris() == [f"{PUBLIC_URL}/statuslists/1"]
    keys = resolver(keyring.signer_for(Purpose.STATUS, now=clock()))
    for ref in ("1", f"{PUBLIC_URL}/statuslists/1"):
        published = service.published_status_list(ref)
        verified = verify_status_list_token(published.token, uri=published.uri, now=clock(),
                                            resolve_key=keys.__getitem__)
        assert verified.status_list.size == 1 << 20 and verified.ttl == 300
        assert verified.exp == clock() + 7 * 86400
    for ref in ("2", "0", "x", "-1", "99999999999999", f"{PUBLIC_URL}/statuslists/", "１"):
        with pytest.raises(StatusListNotFoundError):
            service.published_status_list(ref)


def test_publication_heals_a_missed_re_signing(service: IssuerService, keyring: KeyRing, clock: FakeClock) -> None:
    record, (cred,), _ = issue(service)
    service.published_status_list("1")
    # a crash between the state change and the re-signing: the store moved on, the token did not
    service.store.update_record_state(record.id, expected=RecordState.ACTIVE, new=RecordState.REVOKED,
                                      status_value=INVALID, now=clock(),
                                      audit=service.audit.entry(officer="o", action="revoke", record_id=record.id))
    assert status_at(service, keyring, clock, cred) == INVALID


def test_a_full_list_opens_the_next_and_bumps_the_trust_list(
    store: Store, keyring: KeyRing, clock: FakeClock
) -> None:
    service = IssuerService(store, keyring, IssuerSettings(PUBLIC_URL, status_list_size=16), clock)
    first = verify_trust_list(service.trust_list_token(), root_key=keyring.root.public_key, now=clock())
    assert first.status_lists == (f"{PUBLIC_URL}/statuslists/1",)
    assert first.aggregation_uri == f"{PUBLIC_URL}/statuslists"
    assert service.trust_list_token() == service.trust_list_token()  # unchanged: same token, same version
    _, creds, _ = issue(service, holders=10)
    _, more, _ = issue(service, holders=10)
    lists = {c.status_uri for c in creds + more}
    assert lists == {f"{PUBLIC_URL}/statuslists/1", f"{PUBLIC_URL}/statuslists/2"}
    assert service.status_list_uris() == sorted(lists)
    second = verify_trust_list(service.trust_list_token(), root_key=keyring.root.public_key, now=clock(),
                               min_version=first.version + 1)
    assert second.status_lists == tuple(sorted(lists))
    service.published_status_list("2")


def test_register_needs_a_permit(service: IssuerService) -> None:
    with pytest.raises(InvalidRequestError):
        service.register({"type": "residence_permit"}, officer="alice")  # type: ignore[arg-type]


def test_a_delivery_racing_a_revoke_never_leaves_a_valid_credential(
    service: IssuerService, keyring: KeyRing, clock: FakeClock
) -> None:
    # List 1 exists before any issuance (the service publishes it empty); open it here too, so that the
    # check below does not depend on a delivery having won at least one race.
    service.status_list_uris()
    for _ in range(5):
        record = service.register(sample_permit(), officer="alice")
        offer = service.create_offer(record.id, officer="alice")
        token = service.redeem(offer.pre_authorized_code, offer.tx_code)

        def step(i: int, record_id: str = record.id, token: str = token) -> None:
            try:
                if i == 0:
                    service.revoke(record_id, officer="sup", reason="race")
                else:  # the token delivers each configuration once: the third asks too late
                    service.deliver(token, [KeySigner.generate().public_key], (SD_JWT, QR, SD_JWT)[i - 1])
            except (StateConflictError, InvalidTokenError):
                pass

        race(4, step)
        assert service.get_record(record.id).state is RecordState.REVOKED
        # Each credential's bit in its own list: on a sharded store a racing first delivery may open its
        # district's own list rather than wait for list 1 to be adopted.
        delivered = service.store.delivered(record.id)
        assert all(service.store.status_bits(n).get(idx) == INVALID for n, idx in delivered), delivered


def test_parallel_wrong_pins_cannot_outrun_the_limit(service: IssuerService, settings: IssuerSettings) -> None:
    record = service.register(sample_permit(), officer="alice")
    offer = service.create_offer(record.id, officer="alice")
    wrong = "000000" if offer.tx_code != "000000" else "111111"

    def guess(_: int) -> None:
        with pytest.raises(InvalidGrantError):
            service.redeem(offer.pre_authorized_code, wrong)

    race(20, guess)
    with pytest.raises(InvalidGrantError):
        service.redeem(offer.pre_authorized_code, offer.tx_code)
    assert [e.action for e in service.audit.list()].count("offer_burned") == 1


def test_changes_within_one_second_still_publish_a_newer_list(
    service: IssuerService, keyring: KeyRing, clock: FakeClock
) -> None:
    # Verifiers keep the list with the newest iat; a second list signed in the same second would be
    # ignored as "not newer" and the revocation would stay invisible until the next change.
    record, (cred,), _ = issue(service)
    before = service.published_status_list(cred.status_uri).iat
    service.suspend(record.id, officer="sup", reason="lost card")
    suspended = service.published_status_list(cred.status_uri)
    service.revoke(record.id, officer="sup", reason="moved away")
    revoked = service.published_status_list(cred.status_uri)
    assert before < suspended.iat < revoked.iat <= clock() + 2
    assert status_at(service, keyring, clock, cred) == INVALID


def test_a_burst_of_changes_never_runs_the_iat_far_ahead(service: IssuerService, clock: FakeClock) -> None:
    records = [issue(service)[0] for _ in range(6)]
    for record in records:
        service.suspend(record.id, officer="sup", reason="burst")
    uri = service.status_list_uris()[0]
    assert service.published_status_list(uri).iat <= clock() + 2
    clock.advance(5)  # the change held back by the cap is published by the next read
    latest = service.published_status_list(uri)
    assert latest.iat == clock()


def test_a_deny_reason_is_cleaned_once_for_both_entries(service: IssuerService) -> None:
    record = service.register(sample_permit(CredentialType.RESIDENCE_REGISTRATION), officer="seed")
    service.create_offer(record.id, officer="seed", pending=True)
    with pytest.raises(InvalidRequestError):
        service.deny(record.id, officer="sup", reason="资料\u202e不实")
    assert service.awaiting_approval(record.id) and service.get_record(record.id).state is RecordState.ACTIVE
    service.deny(record.id, officer="sup", reason=" 资料不实 e\u0301 ")
    last = {e.action: e.reason for e in service.audit.list(limit=100)}
    assert last["deny"] == "资料不实 \u00e9" and last["revoke"] == "OTHER: 资料不实 \u00e9"
