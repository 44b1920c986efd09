"""The bureau's rules for registering and endorsing, as pure functions of the holder's records and the day.

- A residence permit (居住证) needs a residence registration card (居住登记卡) held now (ACTIVE, valid
  today), and registration for at least ``min_registration_months`` (counted from the earliest card of the
  holder that was not revoked); a supervisor may override the duration, with a reason, not the card.
- A holder has at most one live (active or suspended) record of each type.
- A permit is valid at most ``permit_validity_months``, a card at most ``registration_card_validity_months``.
- The annual endorsement (签注) is due from ``endorsement_window_days`` before the end of validity; it
  continues the validity for another period from the day after the old end (or from today, if later).
Days are civil days in Beijing (credential.passclaims.CHINA_STANDARD_TIME).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
from collections.abc import Sequence

from credential.model import CredentialType, Permit
from credential.passclaims import CHINA_STANDARD_TIME
from issuer.errors import IssuerError
from issuer.model import Record, RecordState
from issuer.settings import IssuerSettings

ONE_DAY = datetime.timedelta(days=1)


class BureauRuleError(IssuerError):
    """The application or the endorsement breaks a bureau rule; ``error`` names the rule (stable code)."""

    http_status = 409

    def __init__(self, rule: str, description: str) -> None:
        super().__init__(description)
        self.error = rule
        self.rule = rule


def beijing_day(now: int) -> datetime.date:
    return datetime.datetime.fromtimestamp(now, CHINA_STANDARD_TIME).date()


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, clamped to the month's end (31 Aug + 6 months = 28/29 Feb)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    return datetime.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def validity_months(kind: CredentialType, settings: IssuerSettings) -> int:
    return (settings.permit_validity_months if kind is CredentialType.RESIDENCE_PERMIT
            else settings.registration_card_validity_months)


def last_valid_day(kind: CredentialType, valid_from: datetime.date, settings: IssuerSettings) -> datetime.date:
    """The longest validity the bureau allows a document of ``kind`` starting ``valid_from`` (the form's
    default): the day before the same day ``validity_months`` later."""
    return add_months(valid_from, validity_months(kind, settings)) - ONE_DAY


def check_validity(permit: Permit, settings: IssuerSettings) -> None:
    if permit.valid_until > last_valid_day(permit.type, permit.valid_from, settings):
        months = validity_months(permit.type, settings)
        raise BureauRuleError("validity_too_long", f"a {permit.type.slug} is valid at most {months} months")


def check_application(
    permit: Permit, holder_records: Sequence[Record], *, today: datetime.date, settings: IssuerSettings,
    override: bool,
) -> None:
    """BureauRuleError unless the application may be registered (``override``: a supervisor's, with reason)."""
    check_validity(permit, settings)
    if any(r.permit.type is permit.type and r.state is not RecordState.REVOKED for r in holder_records):
        raise BureauRuleError("already_registered", f"the holder already has a live {permit.type.slug}")
    if permit.type is not CredentialType.RESIDENCE_PERMIT:
        return
    cards = [r.permit for r in holder_records if r.permit.type is CredentialType.RESIDENCE_REGISTRATION
             and r.state is not RecordState.REVOKED]
    if not any(r.permit.type is CredentialType.RESIDENCE_REGISTRATION and r.state is RecordState.ACTIVE
               and r.permit.valid_from <= today <= r.permit.valid_until for r in holder_records):
        raise BureauRuleError("registration_required", "the holder holds no valid residence registration card")
    since = min(c.valid_from for c in cards)
    months = settings.min_registration_months
    if add_months(since, months) > today and not override:
        raise BureauRuleError(
            "registration_too_short",
            f"registered since {since.isoformat()}: a permit needs {months} months (a supervisor may override)",
        )


def endorsed(permit: Permit, *, today: datetime.date, settings: IssuerSettings) -> Permit:
    """The permit with its next year of validity; BureauRuleError when it is not endorsable (yet)."""
    if permit.type is not CredentialType.RESIDENCE_PERMIT:
        raise BureauRuleError("not_endorsable", "only a residence permit is endorsed; a card is re-registered")
    due = permit.valid_until - datetime.timedelta(days=settings.endorsement_window_days)
    if today < due:
        raise BureauRuleError("endorsement_not_due", f"the endorsement is due from {due.isoformat()}")
    start = max(permit.valid_until + ONE_DAY, today)
    return dataclasses.replace(
        permit, valid_from=start, valid_until=add_months(start, settings.permit_validity_months) - ONE_DAY
    )
