"""The bureau's lifecycle on top of IssuerService: checked registration, the annual endorsement, re-delivery.

- ``register_application``: the rules of issuer.rules against the holder's records; a refusal is audited
  (outcome ``refused``, the rule's code as the reason) and changes nothing. A supervisor's override of the
  registration period is audited with its reason.
- ``endorse`` (签注): the record's permit gets its next validity (store.update_record_permit, only while
  ACTIVE) and a fresh pickup offer; the credentials then delivered carry the new ``exp``. The credentials
  delivered before keep their own, earlier ``exp``.
- ``redeliver``: to a new phone. The old phone's credentials are retired: their status entries become
  INVALID for good while the record stays ACTIVE, and the record's open or redeemed pickups are cancelled,
  in one atomic store step (store.retire_delivered); then the lists are re-signed and a new offer is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credential.model import Permit
from issuer.audit import REFUSED
from issuer.errors import InvalidRequestError, StateConflictError
from issuer.reasons import MAX_REASON_TEXT, Reason
from issuer.records import Offer, Record, RecordState
from issuer.rules import BureauRuleError, beijing_day, check_application, endorsed

if TYPE_CHECKING:
    from issuer.service import IssuerService


def check_override(text: str | None) -> str | None:
    if text is None:
        return None
    clean = text.strip() if isinstance(text, str) else ""
    if not clean or len(clean) > MAX_REASON_TEXT or not clean.isprintable():
        raise InvalidRequestError(f"override_reason must be one printable line of 1-{MAX_REASON_TEXT} characters")
    return clean


class Lifecycle:
    def __init__(self, service: IssuerService) -> None:
        self._service = service

    def check_application(self, permit: Permit, *, override: bool, pending: tuple[Record, ...] = ()) -> None:
        """BureauRuleError unless ``permit`` may be registered now (``pending``: records about to be added,
        e.g. earlier rows of the same bulk file)."""
        service = self._service
        holder = [*service.store.records_of_holder(permit.holder.citizen_id),
                  *(r for r in pending if r.permit.holder.citizen_id == permit.holder.citizen_id)]
        check_application(permit, holder, today=beijing_day(service.clock()), settings=service.settings,
                          override=override)

    def register_application(self, permit: Permit, *, officer: str, override_reason: str | None) -> Record:
        service = self._service
        if not isinstance(permit, Permit):
            raise InvalidRequestError("register needs a validated Permit")
        override = check_override(override_reason)
        try:
            self.check_application(permit, override=override is not None)
        except BureauRuleError as exc:
            service.audit.append(officer=officer, action="register", record_id=None, outcome=REFUSED,
                                 reason=f"{permit.type.slug}: {exc.rule}")
            raise
        record = service.register(permit, officer=officer)
        if override is not None:
            service.audit.append(officer=officer, action="override_registration", record_id=record.id,
                                 reason=override)
        return record

    def endorse(self, record_id: str, *, officer: str) -> tuple[Record, Offer]:
        service = self._service
        record = service.get_record(record_id)
        try:
            if record.state is not RecordState.ACTIVE:
                raise StateConflictError(f"cannot endorse a {record.state.value} record", state=record.state.value)
            permit = endorsed(record.permit, today=beijing_day(service.clock()), settings=service.settings)
        except (StateConflictError, BureauRuleError) as exc:
            service.audit.append(officer=officer, action="endorse", record_id=record.id, outcome=REFUSED,
                                 reason=getattr(exc, "rule", None) or f"record is {record.state.value}")
            raise
        updated = service.store.update_record_permit(record.id, expected=RecordState.ACTIVE, permit=permit,
                                                     now=service.clock())
        if updated is None:
            raise StateConflictError("the record changed concurrently; retry")
        service.audit.append(officer=officer, action="endorse", record_id=record.id,
                             reason=f"valid {permit.valid_from.isoformat()} to {permit.valid_until.isoformat()}")
        return updated, service.create_offer(record.id, officer=officer)

    def redeliver(self, record_id: str, *, officer: str, reason: Reason) -> tuple[list[tuple[int, int]], Offer]:
        service = self._service
        record = service.get_record(record_id)
        retired = service.store.retire_delivered(record.id, now=service.clock())
        if retired is None:
            current = service.get_record(record.id).state.value
            service.audit.append(officer=officer, action="redeliver", record_id=record.id, outcome=REFUSED,
                                 reason=f"{reason} (record is {current})")
            raise StateConflictError(f"cannot re-deliver a {current} record", state=current)
        listed = " ".join(f"{list_no}/{idx}" for list_no, idx in retired) or "none"
        service.audit.append(officer=officer, action="redeliver", record_id=record.id,
                             reason=f"{reason}; retired {listed}")
        service.publish_lists(list_no for list_no, _ in retired)
        return retired, service.create_offer(record.id, officer=officer)
