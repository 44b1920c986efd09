"""The bureau's rules: card first, six months of registration (supervisor override), validity limits,
the annual endorsement with a new exp, re-delivery retiring the old phone's credentials, revoke final."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from credential.model import CredentialType
from credential.samples import sample_permit
from credential.sdjwt import verify_sd_jwt_vc
from credential.statuslist import INVALID, SUSPENDED, VALID
from issuer.desk import OfficerDesk
from issuer.errors import ForbiddenError, InvalidGrantError, InvalidRequestError, StateConflictError
from issuer.model import Reason, ReasonCode, RecordState, Role
from issuer.rules import BureauRuleError, add_months
from issuer.service import IssuerService
from keys import KeyRing, KeySigner, Purpose
from tests.conftest import FakeClock

from .office import CARD, HOME, PERMIT, officers, with_card
from .test_service import resolver, status_at


def pick_up(service: IssuerService, offer_code: str, pin: str, holders: int = 1):  # type: ignore[no-untyped-def]
    token = service.redeem(offer_code, pin)
    return service.deliver(token, [KeySigner.generate().public_key for _ in range(holders)],
                           service.configuration_ids(token)[0])


def test_a_permit_needs_a_card_held_six_months(service: IssuerService, clock: FakeClock) -> None:
    desk = OfficerDesk(service)
    office = officers(desk)
    clerk, sup = office[(Role.CLERK, HOME)], office[(Role.SUPERVISOR, HOME)]
    # A refusal names no record (the global chain), a registration its district's: a sharded log orders the
    # chains' entries by time, so each step here is a second after the one before.
    with pytest.raises(BureauRuleError) as no_card:
        desk.register(clerk, PERMIT)
    assert no_card.value.error == "registration_required"
    recent = dataclasses.replace(CARD, valid_from=datetime.date(2026, 3, 1), valid_until=datetime.date(2027, 2, 28))
    clock.advance(1)
    card = desk.register(clerk, recent)
    clock.advance(1)
    with pytest.raises(BureauRuleError) as short:
        desk.register(clerk, PERMIT)
    assert short.value.error == "registration_too_short" and short.value.http_status == 409
    clock.advance(1)
    with pytest.raises(InvalidRequestError):  # an override needs a reason
        desk.register(sup, PERMIT, override_reason=" ")
    with pytest.raises(ForbiddenError):  # and a supervisor
        desk.register(clerk, PERMIT, override_reason="lease since 2024")
    clock.advance(1)
    permit = desk.register(sup, PERMIT, override_reason="continuous residence shown by lease since 2024")
    entries = service.audit.list(limit=100)
    assert [e.outcome for e in entries if e.action == "register"] == ["refused", "ok", "refused", "ok"]
    assert [e.outcome for e in entries if e.action == "override_registration"] == ["denied", "ok"]
    assert entries[-1].action == "override_registration" and entries[-1].record_id == permit.id
    with pytest.raises(BureauRuleError) as again:
        desk.register(clerk, PERMIT)
    assert again.value.error == "already_registered"
    service.revoke(card.id, officer=sup.id, reason="moved", reason_code="MOVED_AWAY")
    assert all("张伟" not in e.reason and CARD.holder.citizen_id not in e.reason for e in service.audit.list(limit=100))


def test_six_months_are_enough_and_validity_is_capped(service: IssuerService, clock: FakeClock) -> None:
    desk = OfficerDesk(service)
    clerk = officers(desk)[(Role.CLERK, HOME)]
    with pytest.raises(BureauRuleError) as long_card:
        desk.register(clerk, dataclasses.replace(CARD, valid_until=datetime.date(2026, 11, 1)))
    assert long_card.value.error == "validity_too_long"
    desk.register(clerk, CARD)  # since 2025-11-01; T0 is 2026-05-28: six months have passed
    with pytest.raises(BureauRuleError) as long_permit:
        desk.register(clerk, dataclasses.replace(PERMIT, valid_until=datetime.date(2027, 1, 5)))
    assert long_permit.value.error == "validity_too_long"
    assert desk.register(clerk, PERMIT).state is RecordState.ACTIVE
    assert add_months(datetime.date(2025, 8, 31), 6) == datetime.date(2026, 2, 28)


def test_the_annual_endorsement_issues_fresh_credentials_with_a_new_exp(
    service: IssuerService, keyring: KeyRing, clock: FakeClock
) -> None:
    with_card(service)
    record = service.register(PERMIT, officer="seed")
    offer = service.create_offer(record.id, officer="seed")
    (old,) = pick_up(service, offer.pre_authorized_code, offer.tx_code)
    with pytest.raises(BureauRuleError) as early:
        service.endorse(record.id, officer="io")
    assert early.value.error == "endorsement_not_due"
    clock.now = int(datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC).timestamp())
    endorsed, new_offer = service.endorse(record.id, officer="io")
    assert (endorsed.permit.valid_from, endorsed.permit.valid_until) == (datetime.date(2027, 1, 5),
                                                                         datetime.date(2028, 1, 4))
    (new,) = pick_up(service, new_offer.pre_authorized_code, new_offer.tx_code)
    keys = resolver(keyring.signer_for(Purpose.CREDENTIAL, now=clock())).__getitem__
    old_exp = verify_sd_jwt_vc(old.sd_jwt_vc, resolve_key=keys, now=clock(), require_key_binding=False).claims["exp"]
    later = clock() + 40 * 86400  # the new validity starts when the old one ends
    new_exp = verify_sd_jwt_vc(new.sd_jwt_vc, resolve_key=keys, now=later, require_key_binding=False).claims["exp"]
    assert new_exp - old_exp == 365 * 86400 and new.status_idx != old.status_idx
    with pytest.raises(BureauRuleError):
        service.endorse(with_card(service, dataclasses.replace(CARD, document_number="DJK-2")).id, officer="io")


def test_redelivery_retires_the_old_phone(service: IssuerService, keyring: KeyRing, clock: FakeClock) -> None:
    with_card(service)
    record = service.register(PERMIT, officer="seed")
    offer = service.create_offer(record.id, officer="seed")
    old = pick_up(service, offer.pre_authorized_code, offer.tx_code, holders=2)
    stale = service.create_offer(record.id, officer="seed")  # a pickup still open on the old phone's paper
    clock.advance(1)
    retired, fresh = service.redeliver(record.id, officer="io", reason="phone lost", reason_code="LOST")
    assert sorted(retired) == sorted((1, c.status_idx) for c in old)
    assert service.get_record(record.id).state is RecordState.ACTIVE
    assert [status_at(service, keyring, clock, c) for c in old] == [INVALID, INVALID]
    with pytest.raises(InvalidGrantError):
        service.redeem(stale.pre_authorized_code, stale.tx_code)
    (new,) = pick_up(service, fresh.pre_authorized_code, fresh.tx_code)
    assert status_at(service, keyring, clock, new) == VALID and new.status_idx not in {c.status_idx for c in old}
    clock.advance(1)
    service.suspend(record.id, officer="sup", reason="", reason_code="COURT_ORDER")
    assert [status_at(service, keyring, clock, c) for c in [*old, new]] == [INVALID, INVALID, SUSPENDED]
    clock.advance(1)
    service.lift(record.id, officer="sup", reason="", reason_code="RESOLVED")
    assert [status_at(service, keyring, clock, c) for c in [*old, new]] == [INVALID, INVALID, VALID]
    service.revoke(record.id, officer="sup", reason="", reason_code="FRAUD")
    with pytest.raises(StateConflictError):
        service.redeliver(record.id, officer="io", reason="again")
    with pytest.raises(StateConflictError):
        service.lift(record.id, officer="sup", reason="undo", reason_code="ADMIN_ERROR")
    assert service.audit.list(limit=100)[-1].outcome == "refused"


def test_an_access_token_from_before_the_redelivery_gets_nothing(service: IssuerService) -> None:
    with_card(service)
    record = service.register(PERMIT, officer="seed")
    offer = service.create_offer(record.id, officer="seed")
    token = service.redeem(offer.pre_authorized_code, offer.tx_code)
    service.redeliver(record.id, officer="io", reason="", reason_code=ReasonCode.NEW_DEVICE)
    with pytest.raises(StateConflictError):
        service.deliver(token, [KeySigner.generate().public_key], offer.configuration_ids[0])


def test_reason_codes(service: IssuerService) -> None:
    record = service.register(sample_permit(CredentialType.RESIDENCE_REGISTRATION), officer="seed")
    for code, text in (("lost", "x"), ("OTHER", ""), ("LOST", "two\nlines"), ("LOST", "x" * 161)):
        with pytest.raises(Exception) as bad:
            service.suspend(record.id, officer="sup", reason=text, reason_code=code)
        assert getattr(bad.value, "error", "") == "invalid_request"
    assert service.get_record(record.id).state is RecordState.ACTIVE
    service.suspend(record.id, officer="sup", reason="reported at the window", reason_code="LOST")
    assert service.audit.list(limit=100)[-1].reason == "LOST: reported at the window"
    assert str(Reason(ReasonCode.DECEASED, "")) == "DECEASED"
