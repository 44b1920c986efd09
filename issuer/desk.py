"""OfficerDesk: the officer operations behind authentication, with the role and district checks.

Roles gate actions (ForbiddenError, 403). Districts behave like tenants: a record outside the officer's
districts answers exactly like a missing one (RecordNotFoundError, 404), so ids cannot be probed across
districts. Every denial goes to the audit trail.
"""

from __future__ import annotations

from credential.model import Permit
from issuer.audit import AuditEntry
from issuer.errors import ForbiddenError, RecordNotFoundError
from issuer.officers import Action, Officer, OfficerRegistry
from issuer.records import Offer, Record
from issuer.service import IssuerService

DENIED = "authz_denied"


class OfficerDesk:
    def __init__(self, service: IssuerService) -> None:
        self.service = service
        self.officers = OfficerRegistry(service.store, clock=service.clock)

    def authenticate(self, token: str) -> Officer:
        return self.officers.authenticate(token)

    def register(self, officer: Officer, permit: Permit) -> Record:
        self._allow(officer, Action.REGISTER, None)
        if not officer.covers(permit.district):
            self._deny(officer, None, f"{Action.REGISTER.value} in district {permit.district}")
            raise ForbiddenError("the permit's district is not one of the officer's districts")
        return self.service.register(permit, officer=officer.id)

    def get_record(self, officer: Officer, record_id: str) -> Record:
        return self._record(officer, Action.READ_RECORD, record_id)

    def create_offer(self, officer: Officer, record_id: str) -> Offer:
        record = self._record(officer, Action.CREATE_OFFER, record_id)
        return self.service.create_offer(record.id, officer=officer.id)

    def suspend(self, officer: Officer, record_id: str, reason: str) -> Record:
        record = self._record(officer, Action.SUSPEND, record_id)
        return self.service.suspend(record.id, officer=officer.id, reason=reason)

    def lift(self, officer: Officer, record_id: str, reason: str) -> Record:
        record = self._record(officer, Action.LIFT, record_id)
        return self.service.lift(record.id, officer=officer.id, reason=reason)

    def revoke(self, officer: Officer, record_id: str, reason: str) -> Record:
        record = self._record(officer, Action.REVOKE, record_id)
        return self.service.revoke(record.id, officer=officer.id, reason=reason)

    def audit_entries(self, officer: Officer, *, after: int, limit: int) -> list[AuditEntry]:
        self._allow(officer, Action.READ_AUDIT, None)
        return self.service.audit.list(after=after, limit=limit)

    def _allow(self, officer: Officer, action: Action, record_id: str | None) -> None:
        if not officer.may(action):
            self._deny(officer, record_id, f"role {officer.role.value} may not {action.value}")
            raise ForbiddenError(f"role {officer.role.value} may not {action.value}")

    def _record(self, officer: Officer, action: Action, record_id: str) -> Record:
        self._allow(officer, action, None)
        record = self.service.get_record(record_id)  # RecordNotFoundError for a missing one
        if not officer.covers(record.permit.district):
            self._deny(officer, record.id, f"{action.value} in district {record.permit.district}")
            raise RecordNotFoundError(record_id)
        return record

    def _deny(self, officer: Officer, record_id: str | None, reason: str) -> None:
        self.service.audit.append(officer=officer.id, action=DENIED, record_id=record_id, reason=reason)
