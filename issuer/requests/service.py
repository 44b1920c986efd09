"""ResidentRequests: what a resident asks online, judged by the bureau's rules or an officer, then delivered.

Three steps kept apart, so that the OpenID4VCI authorization-code flow can later replace the last one:
- **submit** (the resident, authenticated by a ResidentAuthenticator; a lost phone by citizen ID and recovery
  code): checked, written ``submitted``, then judged at once — the rules approve it, or it waits ``queued``
  in the district's queue; a deregistration is carried out at once.
- **decide** (the rules or an officer: ``approve``/``deny``): what the bureau changes — the permit's new
  validity or address, the new district's record, the lost phone's credentials retired.
- **deliver** (the resident's wallet, ``deliver``): a pickup offer for the record (the pre-authorized flow
  of the first pickup); once the wallet confirms the new credential (OpenID4VCI notification
  ``credential_accepted``, ``confirmed``) the old credential is retired, or for a move to another district
  the old record revoked (MOVED_AWAY), and the request is ``done``.
Every step is audited (issuer.requests.model's actions) and answered in Chinese and English (words.answer);
each decision writes a message to the outbox (issuer.notifications). A refusal changes nothing.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Sequence

from credential.citizen_id import validate_citizen_id
from credential.codes import validate_district
from credential.errors import CredentialError
from credential.text import one_line
from issuer.errors import ForbiddenError, InvalidRequestError
from issuer.model import DENIED, REFUSED, Action, Offer, Officer, ReasonCode, RecordState, holder_hash
from issuer.notifications import NoticeKind, Outbox
from issuer.requests.authn import ResidentIdentity
from issuer.requests.book import REQUEST_TOKEN, RequestBook
from issuer.requests.decide import Decisions
from issuer.requests.errors import RequestNotFoundError, RequestStateError
from issuer.requests.model import (
    APPROVED,
    DELIVERY,
    DONE,
    LOST_SUSPEND,
    ONE_TIME_CODE,
    RESIDENT,
    RULES,
    RequestKind,
    RequestState,
    ResidentRequest,
)
from issuer.requests.model import DENIED as DENIED_ACTION
from issuer.requests.onetime import OneTimeCodes
from issuer.requests.recovery import RecoveryCodes, RecoveryLimits
from issuer.rules import BureauRuleError
from issuer.service import IssuerService

REQUEST_OFFER = "request_offer"  # ephemeral kind: offer ref -> request id (the confirmation finds its request)
MAX_ADDRESS = 80

# Which officer may decide which request: the desk's separation of duties (issuer.model.PERMISSIONS) for the
# action the approval performs. Reading the queue is READ_RECORD.
DECIDING_ACTION = {RequestKind.ENDORSE: Action.ENDORSE, RequestKind.LOST: Action.REDELIVER,
                   RequestKind.ADDRESS: Action.REGISTER, RequestKind.DEREGISTER: Action.REVOKE}


class ResidentRequests:
    def __init__(self, service: IssuerService, *, recovery: RecoveryLimits | None = None) -> None:
        self.service = service
        self.store = service.store
        self.audit = service.audit
        self.clock = service.clock
        self.outbox = Outbox(service.store, service.clock)
        self.recovery = RecoveryCodes(service.store, service.keyed, service.audit, service.clock,
                                      recovery or RecoveryLimits())
        self.codes = OneTimeCodes(service.store, service.keyed, service.audit, service.clock, self.outbox)
        self.book = RequestBook(service, self.outbox)
        self.decisions = Decisions(self.book)

    # --- the resident's side -------------------------------------------------------------------------
    def submit(self, who: ResidentIdentity, kind: RequestKind | str, *, address: str | None = None,
               district: str | None = None) -> tuple[ResidentRequest, str]:
        """The request and its bearer token (shown once: the wallet polls and picks up with it)."""
        kind = _kind(kind)
        record = who.record
        if kind is RequestKind.LOST:
            raise InvalidRequestError("a lost phone is reported with the citizen ID and the recovery code")
        self.book.no_open_request(record)
        new_address = new_district = None
        if kind is RequestKind.ENDORSE:
            try:  # too early (with the day it opens), lapsed, not a permit: refused, nothing queued
                self.decisions.check_endorsable(record)
            except BureauRuleError as exc:
                self.book.refused(kind, record, exc.rule)
                raise
        if kind is RequestKind.ADDRESS:
            new_address, new_district = _address(address, district or record.permit.district)
            try:  # the Holder's own address rules, before anything is written
                dataclasses.replace(record.permit.holder, address=new_address)
            except CredentialError as exc:
                raise InvalidRequestError(f"address: {exc}") from exc
            if new_address == record.permit.holder.address and new_district == record.permit.district:
                raise InvalidRequestError("the new address is the address the credential already has")
        request, token = self.book.new(kind, record, district=new_district or record.permit.district,
                                   address=new_address, new_district=new_district)
        if kind is RequestKind.ENDORSE:
            blocker = self.decisions.endorse_blocker(record)
            request = self.decisions.approve(request, RULES) if blocker is None else self.book.enqueue(request, blocker)
        elif kind is RequestKind.ADDRESS:
            request = self.book.enqueue(request, "officer_review")
        else:  # deregistration: the resident's own decision, carried out at once
            self.service.revoke(record.id, officer=RESIDENT, reason=f"deregistered online, request {request.id}",
                                reason_code=ReasonCode.MOVED_AWAY)
            request = self.book.move(request, RequestState.DONE, decided_by=RULES)
            self.audit.append(officer=RESIDENT, action=DONE, record_id=record.id, reason=f"request {request.id}")
            self.book.tell(request)
        return request, token

    def lost(self, citizen_id: str, recovery_code: str, *, client: str) -> tuple[ResidentRequest, str]:
        """From a new phone: the lost phone's credentials are suspended at once; re-delivery waits for an
        officer. RecoveryRefusedError / RateLimitedError: nothing changed but the audited, counted failure."""
        if not isinstance(citizen_id, str) or not isinstance(recovery_code, str) or len(citizen_id) > 18:
            raise InvalidRequestError("citizen_id and recovery_code are required")
        try:
            citizen_id = citizen_id.upper()
            validate_citizen_id(citizen_id)
        except CredentialError as exc:
            raise InvalidRequestError("citizen_id is not a valid citizen ID") from exc
        self.recovery.check(citizen_id, recovery_code, client=client)
        # Only the active records: one an officer suspended (fraud, a court order) stays as the officer left it,
        # and an approval of this request must not lift it.
        live = [r for r in self.store.records_of_holder(citizen_id) if r.state is RecordState.ACTIVE]
        if not live:
            raise RequestStateError("no active credential to suspend: ask your police station", state="suspended")
        for record in live:
            self.book.no_open_request(record)
        for record in live:
            self.service.suspend(record.id, officer=RESIDENT, reason="lost phone, reported online",
                                 reason_code=ReasonCode.LOST)
            self.audit.append(officer=RESIDENT, action=LOST_SUSPEND, record_id=record.id)
            self.outbox.write(record, NoticeKind.SUSPENDED, zh="您的证件已因手机丢失而暂停。",
                              en="Your credential is suspended: the phone was reported lost.")
        self.recovery.spend(citizen_id)  # used: the pickup on the new phone hands out a new one
        first = live[0]
        request, token = self.book.new(RequestKind.LOST, first, district=first.permit.district,
                                   record_ids=tuple(r.id for r in live))
        return self.book.enqueue(request, "new_device"), token

    def send_code(self, request: ResidentRequest) -> None:
        """A one-time code to the registered phone number, for a lost phone's queued re-delivery."""
        self._lost_and_queued(request)
        self.codes.send(request, self.service.get_record(request.record_id))

    def confirm_code(self, request: ResidentRequest, code: str) -> ResidentRequest:
        """The right code approves the re-delivery as an officer would; a wrong one changes nothing."""
        self._lost_and_queued(request)
        self.codes.check(request, code)
        return self.decisions.approve(request, ONE_TIME_CODE)

    @staticmethod
    def _lost_and_queued(request: ResidentRequest) -> None:
        if request.kind is not RequestKind.LOST or request.state is not RequestState.QUEUED:
            raise RequestStateError("a one-time code is for a lost phone's request waiting for re-delivery",
                                    state=request.state.value)

    def mine(self, who: ResidentIdentity) -> list[ResidentRequest]:
        return [ResidentRequest.from_stored(s)
                for s in self.store.requests_of_holder(holder_hash(who.record.permit.holder.citizen_id))]

    def by_token(self, request_id: str, token: str) -> ResidentRequest:
        """The request whose bearer token this is; RequestNotFoundError for anything else (one answer)."""
        stored = self.store.get_request(request_id) if 0 < len(request_id) <= 64 else None
        request = ResidentRequest.from_stored(stored) if stored is not None else None
        given = self.service.keyed.digest(REQUEST_TOKEN, request_id, token) if len(token) <= 128 else ""
        if request is None or not hmac.compare_digest(request.token_hash, given):
            raise RequestNotFoundError(request_id[:64])
        return request

    def deliver(self, request: ResidentRequest) -> list[Offer]:
        """Offers for the approved request's new credentials (the PIN is in them). Each call makes fresh ones
        and burns the request's earlier offers not yet redeemed: one live pickup per request at a time."""
        if request.state is not RequestState.APPROVED or request.kind is RequestKind.DEREGISTER:
            raise RequestStateError(f"a {request.state.value} request has nothing to pick up",
                                    state=request.state.value)
        for ref in request.offer_refs:
            earlier = self.store.get_offer(ref)
            if earlier is not None and earlier.state == "open":
                self.store.finish_offer(earlier.code_hash, state="burned", now=self.clock())
        targets = (request.record_ids if request.kind is RequestKind.LOST
                   else (request.new_record_id or request.record_id,))
        offers = [self.service.create_offer(record_id, officer=RESIDENT) for record_id in targets]
        ttl = self.service.settings.offer_ttl + self.service.settings.access_token_ttl
        for offer in offers:
            self.store.put_ephemeral(REQUEST_OFFER, offer.ref, request.id, ttl, self.clock())
        request = self.book.save(request, request.state, offer_refs=(*request.offer_refs, *(o.ref for o in offers)))
        self.audit.append(officer=RESIDENT, action=DELIVERY, record_id=request.record_id,
                          reason=f"request {request.id}; " + " ".join(f"offer {o.ref}" for o in offers))
        return offers

    def confirmed(self, offer_ref: str) -> ResidentRequest | None:
        """The wallet accepted a credential of ``offer_ref``: finish the request it was made for, if any."""
        request_id = self.store.get_ephemeral(REQUEST_OFFER, offer_ref, self.clock())
        stored = self.store.get_request(request_id) if request_id else None
        if stored is None:
            return None
        request = ResidentRequest.from_stored(stored)
        if request.state is not RequestState.APPROVED:
            return request  # repeated reports of the other configurations: done already
        if request.new_record_id is not None:  # a move to another district: the old district's record goes
            old = self.service.get_record(request.record_id)
            if old.state is not RecordState.REVOKED:
                self.service.revoke(old.id, officer=RESIDENT, reason=f"moved to {request.new_district}, request "
                                    f"{request.id}", reason_code=ReasonCode.MOVED_AWAY)
        elif request.retire:
            retired = self.store.retire_indices(request.record_id, request.retire, now=self.clock())
            self.service.publish_lists(list_no for list_no, _ in retired)
            self.audit.append(officer=RESIDENT, action="retire_old", record_id=request.record_id,
                              reason=f"request {request.id}; retired "
                                     + (" ".join(f"{n}/{i}" for n, i in retired) or "none"))
        try:
            request = self.book.move(request, RequestState.DONE)
        except RequestStateError:
            return self.book.get(request.id)  # a concurrent report finished it
        self.audit.append(officer=RESIDENT, action=DONE, record_id=request.record_id, reason=f"request {request.id}")
        return request

    # --- the officers' side --------------------------------------------------------------------------
    def queue(self, officer: Officer, *, states: Sequence[RequestState] = (RequestState.QUEUED,),
              limit: int = 100) -> list[ResidentRequest]:
        """The requests of the officer's districts, oldest first."""
        self._allow(officer, Action.READ_RECORD, None)
        found = self.store.requests_in_districts(officer.districts, [s.value for s in states], limit=limit)
        return [ResidentRequest.from_stored(s) for s in found]

    def approve(self, officer: Officer, request_id: str) -> ResidentRequest:
        request = self._for_officer(officer, request_id)
        if request.state is not RequestState.QUEUED:
            self.audit.append(officer=officer.id, action=APPROVED, record_id=request.record_id, outcome=REFUSED,
                              reason=f"request {request.id} is {request.state.value}")
            raise RequestStateError(f"the request is {request.state.value}", state=request.state.value)
        return self.decisions.approve(request, officer.id)

    def deny(self, officer: Officer, request_id: str, reason: str) -> ResidentRequest:
        clean = one_line(reason, limit=160, fold=False) if isinstance(reason, str) else None
        if not clean:
            raise InvalidRequestError("a denial needs a reason: one printable line of at most 160 characters")
        request = self._for_officer(officer, request_id)
        if request.state is not RequestState.QUEUED:
            self.audit.append(officer=officer.id, action=DENIED_ACTION, record_id=request.record_id,
                              outcome=REFUSED, reason=f"request {request.id} is {request.state.value}")
            raise RequestStateError(f"the request is {request.state.value}", state=request.state.value)
        request = self.book.move(request, RequestState.DENIED, decided_by=officer.id, reason=clean)
        self.audit.append(officer=officer.id, action=DENIED_ACTION, record_id=request.record_id,
                          reason=f"request {request.id}: {clean}")
        self.book.tell(request)
        return request

    def _allow(self, officer: Officer, action: Action, record_id: str | None) -> None:
        if not officer.may(action):
            self.audit.append(officer=officer.id, action=action.value, record_id=record_id, outcome=DENIED,
                              reason=f"role {officer.role.value}")
            raise ForbiddenError(f"role {officer.role.value} may not {action.value}")

    def _for_officer(self, officer: Officer, request_id: str) -> ResidentRequest:
        """The request, if the officer's role may decide its kind and it is in the officer's districts
        (outside them: the same answer as a missing one, audited)."""
        stored = self.store.get_request(request_id) if 0 < len(request_id) <= 64 else None
        if stored is None:
            raise RequestNotFoundError(request_id[:64])
        request = ResidentRequest.from_stored(stored)
        self._allow(officer, DECIDING_ACTION[request.kind], request.record_id)
        if not officer.covers(request.district):
            self.audit.append(officer=officer.id, action=APPROVED, record_id=request.record_id, outcome=DENIED,
                              reason=f"request {request.id}: district {request.district}")
            raise RequestNotFoundError(request_id[:64])
        return request


def _kind(kind: RequestKind | str) -> RequestKind:
    if isinstance(kind, RequestKind):
        return kind
    try:
        return RequestKind(kind)
    except ValueError:
        raise InvalidRequestError(f"kind must be one of {', '.join(k.value for k in RequestKind)}") from None


def _address(address: object, district: object) -> tuple[str, str]:
    clean = one_line(address, limit=MAX_ADDRESS) if isinstance(address, str) else None
    if not clean:
        raise InvalidRequestError(f"address must be one printable line of 1-{MAX_ADDRESS} characters")
    try:
        code = validate_district(district, field="district")
    except CredentialError as exc:
        raise InvalidRequestError(f"district: {exc}") from exc
    return clean, code
