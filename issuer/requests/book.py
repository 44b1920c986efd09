"""A request's own bookkeeping: written, moved along its states (compare-and-set in the store), audited,
and told to the resident (the outbox), for issuer.requests.service and issuer.requests.decide."""

from __future__ import annotations

import dataclasses
import secrets

from issuer.audit import AuditLog
from issuer.keyed import KeyedHash
from issuer.model import REFUSED, Record, holder_hash
from issuer.notifications import NoticeKind, Outbox
from issuer.requests.errors import RequestNotFoundError, RequestStateError
from issuer.requests.model import (
    NEXT_STATES,
    QUEUED,
    RESIDENT,
    RULES,
    SUBMITTED,
    RequestKind,
    RequestState,
    ResidentRequest,
)
from issuer.requests.words import answer
from issuer.service import IssuerService

REQUEST_TOKEN = "request_token"  # noqa: S105 - a keyed-hash label, not a secret
OPEN_STATES = (RequestState.SUBMITTED, RequestState.QUEUED, RequestState.APPROVED)


class RequestBook:
    def __init__(self, service: IssuerService, outbox: Outbox) -> None:
        self.service = service
        self.store = service.store
        self.audit: AuditLog = service.audit
        self.clock = service.clock
        self.keyed: KeyedHash = service.keyed
        self.outbox = outbox

    def new(self, kind: RequestKind, record: Record, *, district: str, address: str | None = None,
             new_district: str | None = None, record_ids: tuple[str, ...] = ()) -> tuple[ResidentRequest, str]:
        now = self.clock()
        request_id, token = secrets.token_urlsafe(12), secrets.token_urlsafe(32)
        request = ResidentRequest(
            request_id, kind, RequestState.SUBMITTED, record.id, district,
            holder_hash(record.permit.holder.citizen_id), now, now, address=address, new_district=new_district,
            record_ids=record_ids or (record.id,), token_hash=self.keyed.digest(REQUEST_TOKEN, request_id, token),
        )
        self.store.insert_request(request.stored())
        self.audit.append(officer=RESIDENT, action=SUBMITTED, record_id=record.id,
                          reason=f"request {request_id} {kind.value}" + (f" to {new_district}" if new_district else ""))
        return request, token

    def enqueue(self, request: ResidentRequest, because: str) -> ResidentRequest:
        request = self.move(request, RequestState.QUEUED, queued_because=because)
        self.audit.append(officer=RULES, action=QUEUED, record_id=request.record_id,
                          reason=f"request {request.id} to district {request.district}: {because}")
        return request

    def move(self, request: ResidentRequest, state: RequestState, **changes: object) -> ResidentRequest:
        if state not in NEXT_STATES[request.state]:
            raise RequestStateError(f"a {request.state.value} request cannot become {state.value}",
                                    state=request.state.value)
        return self.save(request, state, **changes)

    def save(self, request: ResidentRequest, state: RequestState, **changes: object) -> ResidentRequest:
        updated = dataclasses.replace(request, state=state, updated_at=self.clock(), **changes)  # type: ignore[arg-type]
        if not self.store.update_request(updated.stored(), expected=request.state.value):
            current = self.get(request.id)
            raise RequestStateError(f"the request is {current.state.value}", state=current.state.value)
        return updated

    def get(self, request_id: str) -> ResidentRequest:
        stored = self.store.get_request(request_id)
        if stored is None:
            raise RequestNotFoundError(request_id[:64])
        return ResidentRequest.from_stored(stored)

    def no_open_request(self, record: Record) -> None:
        for stored in self.store.requests_of_holder(holder_hash(record.permit.holder.citizen_id)):
            if record.id in ResidentRequest.from_stored(stored).record_ids and stored.state in (
                    s.value for s in OPEN_STATES):
                raise RequestStateError(f"request {stored.id} of this credential is still {stored.state}",
                                        state=stored.state)

    def refused(self, kind: RequestKind, record: Record, rule: str) -> None:
        self.audit.append(officer=RESIDENT, action=SUBMITTED, record_id=record.id, outcome=REFUSED,
                          reason=f"{kind.value}: {rule}")

    def tell(self, request: ResidentRequest) -> None:
        words = answer(request)
        record = self.service.get_record(request.record_id)
        self.outbox.write(record, NoticeKind.REQUEST_DECIDED, zh=words["zh"], en=words["en"],
                          params={"request_id": request.id, "state": request.state.value})
