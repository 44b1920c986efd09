"""What an approval changes (by the bureau's rules, an officer, or a lost phone's one-time code), and the
rules that keep an endorsement from being automatic. The request is ``approved`` afterwards; the delivery
and the retirement of the old credential come later (issuer.requests.service)."""

from __future__ import annotations

import dataclasses

from credential.model import CredentialType, Permit
from issuer.errors import StateConflictError
from issuer.model import REFUSED, ReasonCode, Record, RecordState
from issuer.requests.book import RequestBook
from issuer.requests.model import APPROVED, RequestKind, RequestState, ResidentRequest
from issuer.rules import BureauRuleError, beijing_day, endorsed


class Decisions:
    def __init__(self, book: RequestBook) -> None:
        self.book = book
        self.service = book.service
        self.store = book.store
        self.audit = book.audit
        self.clock = book.clock

    def approve(self, request: ResidentRequest, decider: str) -> ResidentRequest:
        """Carry out an approval (the rules' or an officer's); the request is then ``approved``."""
        record = self.service.get_record(request.record_id)
        changes: dict[str, object] = {}
        if request.kind is RequestKind.ENDORSE:
            if record.state is not RecordState.ACTIVE:
                raise StateConflictError(f"cannot endorse a {record.state.value} record", state=record.state.value)
            today = beijing_day(self.clock())
            try:  # the new end is the anniversary's, whoever approves and whenever (issuer.rules.endorsed)
                permit = endorsed(record.permit, today=today, settings=self.service.settings,
                                  early=self.service.settings.early_endorsement_requests)
            except BureauRuleError as exc:  # e.g. a request queued early before the bureau's rule changed
                self.audit.append(officer=decider, action="endorse", record_id=record.id, outcome=REFUSED,
                                  reason=f"request {request.id}: {exc.rule}")
                raise
            # Valid from today, not from the day after the old end: the old credential is revoked as soon as
            # the new one is confirmed, so the new one must already hold (docs/resident-requests.md).
            permit = dataclasses.replace(permit, valid_from=today)
            self._replace_permit(record, permit)
            self.audit.append(officer=decider, action="endorse", record_id=record.id,
                              reason=f"request {request.id}: valid {permit.valid_from} to {permit.valid_until}")
            changes["retire"] = tuple(self.store.delivered(record.id))
        elif request.kind is RequestKind.ADDRESS:
            assert request.address is not None and request.new_district is not None
            holder = dataclasses.replace(record.permit.holder, address=request.address)
            if request.new_district == record.permit.district:
                self._replace_permit(record, dataclasses.replace(record.permit, holder=holder))
                changes["retire"] = tuple(self.store.delivered(record.id))
            else:
                moved = self.service.register(dataclasses.replace(record.permit, holder=holder,
                                                                  district=request.new_district), officer=decider)
                changes["new_record_id"] = moved.id
            self.audit.append(officer=decider, action="address_change", record_id=record.id,
                              reason=f"request {request.id}" + (f": new record {changes['new_record_id']}"
                                                                if "new_record_id" in changes else ""))
        elif request.kind is RequestKind.LOST:
            for record_id in request.record_ids:  # the lost phone's credentials never come back: retired first
                retired = self.store.retire_indices(record_id, self.store.delivered(record_id), now=self.clock())
                self.service.publish_lists(list_no for list_no, _ in retired)
                if self.service.get_record(record_id).state is RecordState.SUSPENDED:  # by this request only
                    self.service.lift(record_id, officer=decider, reason=f"re-delivery, request {request.id}",
                                      reason_code=ReasonCode.NEW_DEVICE)
                self.audit.append(officer=decider, action="redeliver", record_id=record_id,
                                  reason=f"request {request.id}; retired "
                                         + (" ".join(f"{n}/{i}" for n, i in retired) or "none"))
        request = self.book.move(request, RequestState.APPROVED, decided_by=decider, **changes)
        self.audit.append(officer=decider, action=APPROVED, record_id=request.record_id, reason=f"request {request.id}")
        self.book.tell(request)
        return request

    def _replace_permit(self, record: Record, permit: Permit) -> None:
        if self.store.update_record_permit(record.id, expected=RecordState.ACTIVE, permit=permit,
                                           now=self.clock()) is None:
            raise StateConflictError("the record changed concurrently; retry")

    def check_endorsable(self, record: Record) -> None:
        """BureauRuleError when the resident may not even file the endorsement: not a permit, lapsed, or
        before the window (unless the bureau queues early ones: ``early_endorsement_requests``)."""
        settings = self.service.settings
        endorsed(record.permit, today=beijing_day(self.clock()), settings=settings,
                 early=settings.early_endorsement_requests)

    def endorse_blocker(self, record: Record) -> str | None:
        """The rule that keeps an endorsement from being automatic, or None (issuer.rules)."""
        try:
            endorsed(record.permit, today=beijing_day(self.clock()), settings=self.service.settings)
        except BureauRuleError as exc:
            return exc.rule  # endorsement_not_due: filed early, where the bureau's rule queues it
        today = beijing_day(self.clock())
        holder = self.store.records_of_holder(record.permit.holder.citizen_id)
        if any(r.state is RecordState.SUSPENDED for r in holder):
            return "flagged"
        if not any(r.permit.type is CredentialType.RESIDENCE_REGISTRATION and r.state is RecordState.ACTIVE
                   and r.permit.valid_from <= today <= r.permit.valid_until for r in holder):
            return "registration_required"
        return None
