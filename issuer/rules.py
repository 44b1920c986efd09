"""The bureau's rules for registering and endorsing, as pure functions of the holder's records and the day.

- A residence permit (居住证) needs a residence registration card (居住登记卡) held now (ACTIVE, valid
  today), and registration for at least ``min_registration_months`` (counted from the earliest card of the
  holder that was not revoked); a supervisor may override the duration, with a reason, not the card.
- A holder has at most one live (active or suspended) record of each type.
- A permit is valid at most ``permit_validity_months``, a card at most ``registration_card_validity_months``.
- The annual endorsement (签注) is due from ``endorsement_window_days`` before the end of validity (the
  anniversary); it continues the validity for another period from the day after the old end — always from
  the anniversary, never from the day it is granted, so an early or late endorsement neither adds nor loses
  days. A permit lapsed for more than a whole period is not endorsed: the holder applies again.
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

    def __init__(self, rule: str, description: str, *, zh: str | None = None) -> None:
        super().__init__(description)
        self.error = rule
        self.rule = rule
        self.description_zh = zh


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


class EndorsementNotDueError(BureauRuleError):
    """The endorsement window has not opened: ``opens`` is the first day it may be asked for."""

    def __init__(self, opens: datetime.date) -> None:
        day = opens.isoformat()
        super().__init__("endorsement_not_due", f"endorsement can be requested from {day}",
                         zh=f"签注将于 {day} 起可办理")
        self.opens = opens


def endorsement_opens(permit: Permit, settings: IssuerSettings) -> datetime.date:
    """The first day the permit's endorsement may be asked for: ``endorsement_window_days`` before its end."""
    return permit.valid_until - datetime.timedelta(days=settings.endorsement_window_days)


def endorsed(permit: Permit, *, today: datetime.date, settings: IssuerSettings, early: bool = False) -> Permit:
    """The permit with its next period of validity, from the anniversary (the day after the old end).

    EndorsementNotDueError before the window opens, unless ``early`` (an officer deciding a request the
    bureau lets residents file early: the new end is still the anniversary's, so nothing is gained);
    BureauRuleError when it is not a permit or more than a whole period has lapsed."""
    if permit.type is not CredentialType.RESIDENCE_PERMIT:
        raise BureauRuleError("not_endorsable", "only a residence permit is endorsed; a card is re-registered",
                              zh="只有居住证可以签注；居住登记卡请重新登记")
    opens = endorsement_opens(permit, settings)
    if today < opens and not early:
        raise EndorsementNotDueError(opens)
    start = permit.valid_until + ONE_DAY
    end = add_months(start, settings.permit_validity_months) - ONE_DAY
    if end < today:
        ended = permit.valid_until.isoformat()
        raise BureauRuleError("endorsement_lapsed", f"the permit ended {ended}, more than a period ago: apply again",
                              zh=f"居住证已于 {ended} 到期超过一个签注周期，请重新申领")
    return dataclasses.replace(permit, valid_from=start, valid_until=end)
