"""OfficerDesk: the officer operations behind authentication, with the role and district checks.

Roles gate actions (ForbiddenError, 403). Districts behave like tenants: a record outside the officer's
districts answers exactly like a missing one (RecordNotFoundError, 404), so ids cannot be probed across
districts. Every denial goes to the audit trail (outcome ``denied``) and changes nothing else.
The HTTP API (issuer.api) and the bulk CSV issuance (issuer.bulk) both go through here.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from credential.citizen_id import validate_citizen_id
from credential.model import Permit
from issuer.audit import Anchor, AuditPage, AuditScope, ChainReport, verify_chains
from issuer.audit_cursor import AuditCursor
from issuer.audit_search import AuditFilter, NewestPage, search_newest
from issuer.errors import ForbiddenError, NotFoundError, OfficerExistsError, RecordNotFoundError, UnauthorizedError
from issuer.history import RecordHistory, record_history
from issuer.logins import ConsoleLogins, SecondFactorError, SignIn
from issuer.model import DENIED, REFUSED, Action, Offer, Officer, Reason, Record, Role
from issuer.officers import OfficerChange, OfficerRegistry
from issuer.service import IssuerService
from issuer.signin import DEFAULT_LIMITS, SignInGuard, SignInLimits


class OfficerDesk:
    def __init__(self, service: IssuerService, *, sign_in: SignInLimits = DEFAULT_LIMITS) -> None:
        self.service = service
        self.officers = OfficerRegistry(service.store, keyed=service.keyed, clock=service.clock)
        self.sign_ins = SignInGuard(service.store, service.audit, service.clock, sign_in, service.keyed)
        self.logins = ConsoleLogins(service.store, keyed=service.keyed, clock=service.clock)

    def authenticate(self, token: str, *, client: str, officer_id: str | None = None) -> Officer:
        """The officer behind a bearer token (the API: ``officer_id`` None), or a token that must be a live
        token of ``officer_id``. Failures are audited and throttled (issuer.signin): RateLimitedError before
        any check while the client or the officer id is blocked, else UnauthorizedError with one message.
        The console does not take tokens: it signs in with ``sign_in``."""
        channel = "api" if officer_id is None else "console"
        self.sign_ins.check(client=client, officer_id=officer_id)
        try:
            officer = self.officers.authenticate(token)
            if officer_id is not None and not hmac.compare_digest(officer.id.encode(), officer_id.encode()):
                raise UnauthorizedError("invalid or expired token")
        except UnauthorizedError:
            self.sign_ins.failed(client=client, officer_id=officer_id, channel=channel)
            raise
        return officer

    def sign_in(self, officer_id: str, password: str, code: str, *, client: str) -> SignIn:
        """A console sign-in's password and TOTP code (issuer.logins), throttled and audited like a token:
        a wrong password is channel ``console``, a right password with a wrong or used code ``console totp``
        (someone has the password: the audit says so)."""
        self.sign_ins.check(client=client, officer_id=officer_id)
        try:
            return self.logins.check(officer_id, password, code)
        except SecondFactorError:
            self.sign_ins.failed(client=client, officer_id=officer_id, channel="console totp")
            raise
        except UnauthorizedError:
            self.sign_ins.failed(client=client, officer_id=officer_id, channel="console")
            raise

    def finish_enrolment(self, enrolment_id: str, code: str, *, officer_id: str, client: str, ttl: int) -> str:
        """The first code of a TOTP enrolment begun at sign-in: a session id; throttled and audited."""
        self.sign_ins.check(client=client, officer_id=officer_id)
        try:
            officer, session_id = self.logins.finish_enrolment(enrolment_id, code, ttl=ttl)
        except UnauthorizedError:
            self.sign_ins.failed(client=client, officer_id=officer_id, channel="console totp enrolment")
            raise
        self.service.audit.append(officer=officer.id, action="totp_enrol", record_id=None, reason="console")
        return session_id

    # --- records -------------------------------------------------------------------------------------
    def register(self, officer: Officer, permit: Permit, *, override_reason: str | None = None,
                 allocate_number: bool = False) -> Record:
        """A clerk registers; a supervisor registers only with an override of the registration period.
        ``allocate_number``: the system gives the document number (the console; issuer.numbering)."""
        self.allow_register(officer, permit, override=override_reason is not None)
        return self.service.register_application(permit, officer=officer.id, override_reason=override_reason,
                                                 allocate_number=allocate_number)

    def allow_register(self, officer: Officer, permit: Permit, *, override: bool) -> None:
        action = Action.OVERRIDE_REGISTRATION if override else Action.REGISTER
        self._allow(officer, action, None)
        if not officer.covers(permit.district):
            self._deny(officer, action, None, f"district {permit.district}")
            raise ForbiddenError("the permit's district is not one of the officer's districts")

    def allow_offer(self, officer: Officer, permit: Permit) -> None:
        """The checks of create_offer for a permit not registered yet (bulk issuance checks every row first)."""
        self._allow(officer, Action.CREATE_OFFER, None)
        if not officer.covers(permit.district):
            self._deny(officer, Action.CREATE_OFFER, None, f"district {permit.district}")
            raise ForbiddenError("the permit's district is not one of the issuing officer's districts")

    def get_record(self, officer: Officer, record_id: str) -> Record:
        return self._record(officer, Action.READ_RECORD, record_id)

    def find_by_citizen_id(self, officer: Officer, citizen_id: str) -> list[Record]:
        """The holder's records within the officer's districts, oldest first (others are left out, unsaid).

        The citizen ID is checked first (InvalidApplicationError, 400: nothing searched, nothing audited).
        The audit entry says only that a search happened and how many records it showed and left out:
        never the citizen ID, nor a hash of it (an 18-digit ID with a known structure is easily brute-forced).
        """
        self._allow(officer, Action.READ_RECORD, None)
        validate_citizen_id(citizen_id)
        found = self.service.store.records_of_holder(citizen_id)
        shown = [record for record in found if officer.covers(record.permit.district)]
        self.service.audit.append(officer=officer.id, action="search_holder", record_id=None,
                                  reason=f"{len(shown)} shown, {len(found) - len(shown)} outside districts")
        return shown

    def record_history(self, officer: Officer, record_id: str, *, before: int | None = None) -> RecordHistory:
        """The record's history page (issuer.history): its audit entries, offers, pickups and validity.
        Reading a record is not audited (the page is opened all day); revealing its citizen ID is."""
        return record_history(self.service.store, self.get_record(officer, record_id), before=before)

    def reveal_citizen_id(self, officer: Officer, record_id: str) -> Record:
        """The record, to show its full citizen ID once: audited (``reveal_citizen_id`` with the record id).
        Outside the officer's role or districts it is refused (and audited as denied) like any action."""
        record = self._record(officer, Action.REVEAL_CITIZEN_ID, record_id)
        self.service.audit.append(officer=officer.id, action=Action.REVEAL_CITIZEN_ID.value, record_id=record.id)
        return record

    def awaiting_approval(self, officer: Officer, record_id: str) -> bool:
        """Whether the record's offer awaits a supervisor's approval (read access to the record needed)."""
        return self.service.awaiting_approval(self.get_record(officer, record_id).id)

    def create_offer(self, officer: Officer, record_id: str, *, pending: bool = False) -> Offer:
        record = self._record(officer, Action.CREATE_OFFER, record_id)
        return self.service.create_offer(record.id, officer=officer.id, pending=pending)

    def approve(self, officer: Officer, record_id: str) -> Record:
        record = self._record(officer, Action.APPROVE, record_id)
        return self.service.approve(record.id, officer=officer.id)

    def deny(self, officer: Officer, record_id: str, reason: str) -> Record:
        record = self._record(officer, Action.APPROVE, record_id)
        return self.service.deny(record.id, officer=officer.id, reason=reason)

    def endorse(self, officer: Officer, record_id: str) -> tuple[Record, Offer]:
        record = self._record(officer, Action.ENDORSE, record_id)
        return self.service.endorse(record.id, officer=officer.id)

    def redeliver(self, officer: Officer, record_id: str, reason: Reason) -> tuple[list[tuple[int, int]], Offer]:
        record = self._record(officer, Action.REDELIVER, record_id)
        return self.service.redeliver(record.id, officer=officer.id, reason=reason.text,
                                      reason_code=reason.code)

    def suspend(self, officer: Officer, record_id: str, reason: Reason) -> Record:
        record = self._record(officer, Action.SUSPEND, record_id)
        return self.service.suspend(record.id, officer=officer.id, reason=reason.text, reason_code=reason.code)

    def lift(self, officer: Officer, record_id: str, reason: Reason) -> Record:
        record = self._record(officer, Action.LIFT, record_id)
        return self.service.lift(record.id, officer=officer.id, reason=reason.text, reason_code=reason.code)

    def revoke(self, officer: Officer, record_id: str, reason: Reason) -> Record:
        record = self._record(officer, Action.REVOKE, record_id)
        return self.service.revoke(record.id, officer=officer.id, reason=reason.text, reason_code=reason.code)

    # --- the portrait: biometric data, for officers of the record's district only ----------------------
    def set_portrait(self, officer: Officer, record_id: str, upload: bytes) -> tuple[Record, list[tuple[int, int]]]:
        record = self._record(officer, Action.SET_PORTRAIT, record_id)
        return self.service.set_portrait(record.id, upload, officer=officer.id)

    def preview_portrait(self, officer: Officer, record_id: str, upload: bytes) -> tuple[bytes, bytes]:
        """What an upload would give, and that sealed for keep_preview; nothing written, nothing audited."""
        record = self._record(officer, Action.SET_PORTRAIT, record_id)
        return self.service.preview_portrait(record.id, upload)

    def keep_preview(self, officer: Officer, record_id: str, sealed_preview: bytes) -> tuple[Record, list[tuple[int, int]]]:
        record = self._record(officer, Action.SET_PORTRAIT, record_id)
        return self.service.keep_preview(record.id, sealed_preview, officer=officer.id)

    def portrait(self, officer: Officer, record_id: str) -> bytes:
        """The record's portrait file; NotFoundError when it has none. Every read is audited."""
        record = self._record(officer, Action.READ_PORTRAIT, record_id)
        portrait = self.service.portrait_of(record)
        if portrait is None:
            raise NotFoundError("the record has no portrait")
        self.service.audit.append(officer=officer.id, action=Action.READ_PORTRAIT.value, record_id=record.id)
        return portrait

    # --- audit ---------------------------------------------------------------------------------------
    def audit_entries(self, officer: Officer, *, after: int | AuditCursor, limit: int,
                      wanted: AuditFilter | None = None) -> AuditPage:
        """The entries the auditor may read: its districts' records and its own actions; the bureau's auditor
        reads them all (issuer.audit.AuditScope); ``wanted`` narrows them (record, officer, action, dates)."""
        admits = None if wanted is None or wanted.empty else wanted.admits
        return self.service.audit.read(self._audit_scope(officer), after=after, limit=limit, wanted=admits)

    def audit_search(self, officer: Officer, wanted: AuditFilter, *, before: int | AuditCursor | None = None,
                     limit: int = 50) -> NewestPage:
        """The auditor's page: the entries of its scope (as audit_entries) that ``wanted`` admits, newest first."""
        return search_newest(self.service.store, self._audit_scope(officer), wanted, before=before, limit=limit)

    def audit_chain(self, officer: Officer, *, expect: Anchor | None = None) -> ChainReport:
        """The chain check of the whole log, genesis to head (every district's entries: the hashes link them
        all), AuditChainError at the first entry that does not fit; only an auditor may run it."""
        self._allow(officer, Action.READ_AUDIT, None)
        return verify_chains(self.service.store, expect=expect)

    def audit_head(self, officer: Officer) -> Anchor | None:
        """The anchor of the log now: every chain's head together (issuer.audit_anchor)."""
        self._allow(officer, Action.READ_AUDIT, None)
        store = self.service.store
        return Anchor.of_heads({c: h for c in store.audit_chains() if (h := store.audit_head(c)) is not None})

    def _audit_scope(self, officer: Officer) -> AuditScope:
        self._allow(officer, Action.READ_AUDIT, None)
        bureau = officer.role is Role.BUREAU_AUDITOR
        return AuditScope(officer.id, None if bureau else frozenset(officer.districts))

    # --- officers (administrators, within their own districts) ---------------------------------------
    def list_officers(self, admin: Officer) -> list[Officer]:
        self._allow(admin, Action.MANAGE_OFFICERS, None)
        return [o for o in self.officers.list() if self._manages(admin, o)]

    def add_officer(self, admin: Officer, officer_id: str, *, name: str, role: Role | str,
                    districts: Sequence[str]) -> Officer:
        """A new officer in the admin's districts; an existing id is refused (409, audited ``refused``) whoever
        manages it: a new role or districts is ``change_officer``."""
        self._allow(admin, Action.MANAGE_OFFICERS, None)
        self._not_bureau_wide(admin, role, officer_id)
        self._within_own_districts(admin, officer_id, districts)
        try:
            added = self.officers.add(officer_id, name=name, role=role, districts=districts)
        except OfficerExistsError as exc:
            self.service.audit.append(officer=admin.id, action="officer_add", record_id=None, outcome=REFUSED,
                                      reason=f"{exc.officer_id} exists")
            raise
        self.service.audit.append(officer=admin.id, action="officer_add", record_id=None,
                                  reason=f"{added.id} {added.role.value} {','.join(added.districts)}")
        return added

    def change_officer(self, admin: Officer, officer_id: str, *, name: str | None = None,
                       role: Role | str | None = None, districts: Sequence[str] | None = None) -> OfficerChange:
        """A new name, role or districts for an officer of the admin's districts (audited ``officer_change``);
        the officer's tokens are revoked and its console sessions end. An administrator cannot change itself
        (nor so give itself another role), and the new districts must be its own."""
        target = self._managed(admin, officer_id)
        if target.id == admin.id:
            self._deny(admin, Action.MANAGE_OFFICERS, None, f"change own officer {admin.id}")
            raise ForbiddenError("an administrator cannot change their own role, districts or name")
        if role is not None:
            self._not_bureau_wide(admin, role, target.id)
        if districts is not None:
            self._within_own_districts(admin, target.id, districts)
        change = self.officers.change(target.id, name=name, role=role, districts=districts)
        self.service.audit.append(officer=admin.id, action="officer_change", record_id=None, reason=str(change))
        return change

    def disable_officer(self, admin: Officer, officer_id: str) -> Officer:
        target = self._managed(admin, officer_id)
        disabled = self.officers.disable(target.id)
        self.service.audit.append(officer=admin.id, action="officer_disable", record_id=None, reason=target.id)
        return disabled

    def issue_token(self, admin: Officer, officer_id: str, *, ttl: int) -> str:
        target = self._managed(admin, officer_id)
        token = self.officers.issue_token(target.id, ttl=ttl)
        self.service.audit.append(officer=admin.id, action="token_issue", record_id=None,
                                  reason=f"{target.id} ttl {ttl}")
        return token

    def revoke_tokens(self, admin: Officer, officer_id: str) -> int:
        target = self._managed(admin, officer_id)
        count = self.officers.revoke_tokens(target.id)
        self.service.audit.append(officer=admin.id, action="token_revoke", record_id=None,
                                  reason=f"{target.id} all ({count})")
        return count

    # --- checks --------------------------------------------------------------------------------------
    @staticmethod
    def _manages(admin: Officer, officer: Officer) -> bool:
        """A district's administrator manages the officers of its districts; nobody's API manages the
        bureau's auditors (the office machine's `epermit officers` does)."""
        return (officer.role is not Role.BUREAU_AUDITOR and bool(officer.districts)
                and set(officer.districts) <= set(admin.districts))

    def _within_own_districts(self, admin: Officer, officer_id: str, districts: Sequence[str]) -> None:
        if not districts or not set(districts) <= set(admin.districts):
            self._deny(admin, Action.MANAGE_OFFICERS, None, f"officer {officer_id[:64]} outside own districts")
            raise ForbiddenError("an administrator manages officers of their own districts only")

    def _not_bureau_wide(self, admin: Officer, role: Role | str, officer_id: str) -> None:
        if role in (Role.BUREAU_AUDITOR, Role.BUREAU_AUDITOR.value):
            self._deny(admin, Action.MANAGE_OFFICERS, None, f"officer {officer_id[:64]} bureau_auditor")
            raise ForbiddenError("a bureau auditor is made on the office machine (epermit officers), not by an "
                                 "administrator of districts")

    def _managed(self, admin: Officer, officer_id: str) -> Officer:
        self._allow(admin, Action.MANAGE_OFFICERS, None)
        target = self.officers.get(officer_id[:64])
        if target is None or not self._manages(admin, target):
            if target is not None:
                self._deny(admin, Action.MANAGE_OFFICERS, None, f"officer {target.id} outside own districts")
            raise NotFoundError("no such officer")  # the same answer for one outside the admin's districts
        return target

    def _allow(self, officer: Officer, action: Action, record_id: str | None) -> None:
        if not officer.may(action):
            self._deny(officer, action, record_id, f"role {officer.role.value}")
            raise ForbiddenError(f"role {officer.role.value} may not {action.value}")

    def _record(self, officer: Officer, action: Action, record_id: str) -> Record:
        self._allow(officer, action, None)
        record = self.service.get_record(record_id)  # RecordNotFoundError for a missing one
        if not officer.covers(record.permit.district):
            self._deny(officer, action, record.id, f"district {record.permit.district}")
            raise RecordNotFoundError(record_id)
        return record

    def _deny(self, officer: Officer, action: Action, record_id: str | None, why: str) -> None:
        self.service.audit.append(officer=officer.id, action=action.value, record_id=record_id, outcome=DENIED,
                                  reason=why)
