"""A small office for the lifecycle tests: one officer per role in 朝阳 (110105), one per role in 黄浦 (310101),
张伟's registration card held since 2025-11-01 (six months before T0)."""

from __future__ import annotations

import datetime

from credential.model import CredentialType, Permit
from credential.samples import sample_permit
from issuer.desk import OfficerDesk
from issuer.model import Officer, Record, Role
from issuer.service import IssuerService

HOME, AWAY = "110105", "310101"
CARD = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=datetime.date(2025, 11, 1),
                     valid_until=datetime.date(2026, 10, 31), document_number="DJK-110105-2025-000001")
PERMIT = sample_permit()


def officers(desk: OfficerDesk) -> dict[tuple[Role, str], Officer]:
    made = {}
    for role in Role:
        for district in (HOME, AWAY):
            officer = Officer(f"{role.value}-{district}", "警官", role, (district,))
            desk.officers.put(officer)
            made[(role, district)] = officer
    return made


def with_card(service: IssuerService, card: Permit = CARD) -> Record:
    return service.register(card, officer="seed")
