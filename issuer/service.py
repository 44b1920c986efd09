"""IssuerService: the issuance decisions (docs/architecture.md, "The issuer service contract").

Officer-side methods trust the caller to have authenticated and authorised the officer (issuer.desk does
that for the HTTP API); ``officer`` is the id written to the audit trail. State changes are optimistic:
the store applies one only if the record is still in the state it was read in, and sets the status
entries of every delivered credential in the same step; the affected lists are re-signed right after.

The bureau's lifecycle (formerly a helper object) lives here too:
- ``register_application``: the rules of issuer.rules against the holder's records; a refusal is audited
  (outcome ``refused``, the rule's code as the reason) and changes nothing. A supervisor's override of the
  registration period is audited with its reason.
- ``endorse`` (签注): the record's permit gets its next validity (store.update_record_permit, only while
  ACTIVE) and a fresh pickup offer; the credentials then delivered carry the new ``exp``. The credentials
  delivered before keep their own, earlier ``exp``.
- ``set_portrait``: the holder's portrait (issuer.portrait), kept sealed with the permit's new
  ``portrait_sha256`` and its audit entry in one store step, only while ACTIVE. Credentials delivered
  before show the old face (or none): they are retired at once (INVALID for good, their pickups
  cancelled, as by ``redeliver``), since a face the bureau has replaced must stop being shown as the
  holder's; the new pickup offer is an issuing officer's to make (a clerk takes portraits, and does
  not issue). A record with nothing delivered yet keeps its open offer, which delivers the new face.
- ``redeliver``: to a new phone. The old phone's credentials are retired: their status entries become
  INVALID for good while the record stays ACTIVE, and the record's open or redeemed pickups are cancelled,
  in one atomic store step (store.retire_delivered); then the lists are re-signed and a new offer is made.

Delivery: one credential per holder key and pickup. A wallet asks the credential endpoint once per
configuration (SD-JWT VC, full QR pass, basic QR pass), each time with a proof by the same device key; the
first request allocates the status index, and the later ones under the same access token with the same key
get the same credential again — same index, same ``iat``, same signing key — in the encoding they ask for
(the index is remembered as an ephemeral value for the grant's lifetime, keyed by a hash of the access
token and the key's thumbprint). So every encoding a phone holds is revoked, suspended and retired
together, and one pickup uses one index per device key, not one per request. Should the signing key have
changed in between (a rotation), a new index is allocated: the store records which key signed each one.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext

from cryptography.hazmat.primitives.asymmetric import ec

from credential.jwk import PublicKey, key_id
from credential.model import Permit
from credential.passclaims import PassView, validity_window
from credential.qrpass import encode_pass
from credential.sdjwt import issue_sd_jwt_vc
from credential.statuslist import INVALID, SUSPENDED, VALID
from credential.text import one_line
from issuer.audit import AuditLog
from issuer.deferred import APPROVAL, PENDING, Deferral, DeferredTransaction, Notice
from issuer.errors import (
    CredentialRequestDeniedError,
    InvalidRequestError,
    IssuancePendingError,
    RecordNotFoundError,
    StateConflictError,
)
from issuer.keyed import HOLDER_CREDENTIAL, KeyedHash
from issuer.model import (
    MAX_REASON_TEXT,
    REFUSED,
    DeliveredCredential,
    Offer,
    PickedUp,
    PublishedStatusList,
    Reason,
    ReasonCode,
    Record,
    RecordState,
    parse_reason,
)
from issuer.numbering import allocate_document_number
from issuer.pickup import AccessGrant, Pickup
from issuer.portrait.capture import make_portrait
from issuer.portrait.vault import PREVIEW, PortraitUnreadableError, PortraitVault
from issuer.publication import Publisher
from issuer.rules import BureauRuleError, beijing_day, check_application, endorsed
from issuer.settings import Clock, IssuerSettings, system_clock
from issuer.store import Deliverability, Store
from keys import KeyRing, Purpose, PurposeSigner

MAX_HOLDER_KEYS = 10  # credentials per request (OpenID4VCI batch); each gets its own status index
MAX_RECORD_ID = 64
HELD = "holder_credential"  # ephemeral kind: the credential a grant already delivered to one holder key


def uri_no(status_uri: str) -> str:
    """The list number at the end of a status list URI (what the audit trail records)."""
    return status_uri.rsplit("/", 1)[-1]


_STATUS_OF = {RecordState.ACTIVE: VALID, RecordState.SUSPENDED: SUSPENDED, RecordState.REVOKED: INVALID}


def check_override(text: str | None) -> str | None:
    if text is None:
        return None
    clean = one_line(text, limit=MAX_REASON_TEXT, fold=False) if isinstance(text, str) else None
    if not clean:
        raise InvalidRequestError(f"override_reason must be one printable line of 1-{MAX_REASON_TEXT} characters")
    return clean


def _reason(code: ReasonCode | str, text: str) -> Reason:
    return parse_reason(code.value if isinstance(code, ReasonCode) else code, text)


class IssuerService:
    def __init__(
        self, store: Store, keyring: KeyRing, settings: IssuerSettings, clock: Clock = system_clock
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.settings = settings
        self.clock = clock
        self.audit = AuditLog(store, clock)
        # What the store keeps of every secret handed out (codes, PINs, tokens): HMACs under the key ring's
        # store secret, which is not in the store (issuer.keyed).
        self.keyed = KeyedHash(keyring.store_secret)
        self._publisher = Publisher(store, keyring, settings, clock)
        self._pickup = Pickup(store, settings, clock, self.audit, self.keyed)
        self._deferral = Deferral(store, settings, clock, self.audit, self.keyed, self._pickup)
        self.portraits = PortraitVault(keyring.portrait_key)

    # --- officer side --------------------------------------------------------------------------------
    def register(self, permit: Permit, *, officer: str) -> Record:
        """Record a permit as it is, without the bureau's rules (imports, fixtures): officers go through
        register_application."""
        if not isinstance(permit, Permit):
            raise InvalidRequestError("register needs a validated Permit")
        self.check_authority(permit)
        now = self.clock()
        record = Record(secrets.token_urlsafe(16), permit, RecordState.ACTIVE, now, now)
        self.store.insert_record(record, audit=self.audit.entry(officer=officer, action="register",
                                                                record_id=record.id, reason=permit.type.slug))
        return record

    def get_record(self, record_id: str) -> Record:
        record = self.store.get_record(record_id) if 0 < len(record_id) <= MAX_RECORD_ID else None
        if record is None:
            raise RecordNotFoundError(record_id[:MAX_RECORD_ID])
        return record

    def create_offer(self, record_id: str, *, officer: str, pending: bool = False) -> Offer:
        """``pending``: the application is not approved yet; the wallet is deferred until approve()."""
        record = self.get_record(record_id)
        if record.state is not RecordState.ACTIVE:
            raise StateConflictError(f"record is {record.state.value}", state=record.state.value)
        if pending:
            self._deferral.mark_pending(record.id)
        elif self._deferral.is_pending(record.id):
            raise StateConflictError("the application awaits approval", state="pending_approval")
        offer = self._pickup.create_offer(record)
        self.audit.append(officer=officer, action="create_offer", record_id=record.id,
                          reason=f"offer {offer.ref}" + (" pending approval" if pending else ""))
        return offer

    def awaiting_approval(self, record_id: str) -> bool:
        return self._deferral.is_pending(self.get_record(record_id).id)

    def approve(self, record_id: str, *, officer: str) -> Record:
        """Approve an application offered with pending=True: deferred wallets then receive it."""
        record = self.get_record(record_id)
        if record.state is not RecordState.ACTIVE or not self._deferral.clear_pending(record.id):
            raise StateConflictError("the record is not awaiting approval", state=record.state.value)
        self.audit.append(officer=officer, action="approve", record_id=record.id)
        return record

    def deny(self, record_id: str, *, officer: str, reason: str) -> Record:
        """Refuse a pending application: the record is revoked, deferred wallets get credential_request_denied."""
        clean = _reason(ReasonCode.OTHER, reason).text  # checked once: the revoke and the deny entry say the same
        if not self._deferral.is_pending(self.get_record(record_id).id):
            raise StateConflictError("the record is not awaiting approval")
        revoked = self.revoke(record_id, officer=officer, reason=clean)  # first: nothing can be delivered after
        self._deferral.clear_pending(revoked.id)
        self.audit.append(officer=officer, action="deny", record_id=revoked.id, reason=clean)
        return revoked

    def suspend(
        self, record_id: str, *, officer: str, reason: str, reason_code: ReasonCode | str = ReasonCode.OTHER
    ) -> Record:
        return self._transition(record_id, (RecordState.ACTIVE,), RecordState.SUSPENDED, officer,
                                _reason(reason_code, reason), "suspend")

    def lift(
        self, record_id: str, *, officer: str, reason: str, reason_code: ReasonCode | str = ReasonCode.OTHER
    ) -> Record:
        return self._transition(record_id, (RecordState.SUSPENDED,), RecordState.ACTIVE, officer,
                                _reason(reason_code, reason), "lift")

    def revoke(
        self, record_id: str, *, officer: str, reason: str, reason_code: ReasonCode | str = ReasonCode.OTHER
    ) -> Record:
        return self._transition(record_id, (RecordState.ACTIVE, RecordState.SUSPENDED), RecordState.REVOKED,
                                officer, _reason(reason_code, reason), "revoke")

    # The bureau's lifecycle (issuer.lifecycle): registration rules, the annual endorsement, re-delivery.
    def redeliver(
        self, record_id: str, *, officer: str, reason: str, reason_code: ReasonCode | str = ReasonCode.NEW_DEVICE
    ) -> tuple[list[tuple[int, int]], Offer]:
        return self._redeliver(record_id, officer=officer, reason=_reason(reason_code, reason))

    # --- the bureau's lifecycle: checked registration, endorsement (签注), re-delivery --------------------
    def check_authority(self, permit: Permit) -> None:
        """BureauRuleError unless this issuer's keys sign for the permit's authority. Refused at registration:
        such a record could never be delivered (its QR pass would be UNTRUSTED_ISSUER), and a pickup offered
        for it would only spend the resident's code on a refused credential request."""
        if permit.authority_code != self.keyring.authority_code:
            raise BureauRuleError("foreign_authority", f"the permit names authority {permit.authority_code}; this "
                                  f"issuer's keys are authority {self.keyring.authority_code}'s")

    def check_application(self, permit: Permit, *, override: bool = False, pending: tuple[Record, ...] = ()) -> None:
        """BureauRuleError unless ``permit`` may be registered now (``pending``: records about to be added,
        e.g. earlier rows of the same bulk file)."""
        self.check_authority(permit)
        holder = [*self.store.records_of_holder(permit.holder.citizen_id),
                  *(r for r in pending if r.permit.holder.citizen_id == permit.holder.citizen_id)]
        check_application(permit, holder, today=beijing_day(self.clock()), settings=self.settings,
                          override=override)

    def register_application(self, permit: Permit, *, officer: str, override_reason: str | None = None,
                             allocate_number: bool = False) -> Record:
        """``allocate_number``: the permit's document number is replaced by the next of its type's and
        district's sequence (issuer.numbering), taken only once every check has passed."""
        if not isinstance(permit, Permit):
            raise InvalidRequestError("register needs a validated Permit")
        override = check_override(override_reason)
        try:
            self.check_application(permit, override=override is not None)
        except BureauRuleError as exc:
            self.audit.append(officer=officer, action="register", record_id=None, outcome=REFUSED,
                                 reason=f"{permit.type.slug}: {exc.rule}")
            raise
        if allocate_number:
            number = allocate_document_number(self.store, permit.type, permit.district, beijing_day(self.clock()))
            permit = dataclasses.replace(permit, document_number=number)
        record = self.register(permit, officer=officer)
        if override is not None:
            self.audit.append(officer=officer, action="override_registration", record_id=record.id,
                                 reason=override)
        return record

    def endorse(self, record_id: str, *, officer: str) -> tuple[Record, Offer]:
        record = self.get_record(record_id)
        try:
            if record.state is not RecordState.ACTIVE:
                raise StateConflictError(f"cannot endorse a {record.state.value} record", state=record.state.value)
            permit = endorsed(record.permit, today=beijing_day(self.clock()), settings=self.settings)
        except (StateConflictError, BureauRuleError) as exc:
            self.audit.append(officer=officer, action="endorse", record_id=record.id, outcome=REFUSED,
                                 reason=getattr(exc, "rule", None) or f"record is {record.state.value}")
            raise
        updated = self.store.update_record_permit(record.id, expected=RecordState.ACTIVE, permit=permit,
                                                     now=self.clock())
        if updated is None:
            raise StateConflictError("the record changed concurrently; retry")
        self.audit.append(officer=officer, action="endorse", record_id=record.id,
                             reason=f"valid {permit.valid_from.isoformat()} to {permit.valid_until.isoformat()}, "
                                    f"was {record.permit.valid_from.isoformat()} to "
                                    f"{record.permit.valid_until.isoformat()}")
        return updated, self.create_offer(record.id, officer=officer)

    def _redeliver(self, record_id: str, *, officer: str, reason: Reason) -> tuple[list[tuple[int, int]], Offer]:
        record = self.get_record(record_id)
        retired = self.store.retire_delivered(record.id, now=self.clock())
        if retired is None:
            current = self.get_record(record.id).state.value
            self.audit.append(officer=officer, action="redeliver", record_id=record.id, outcome=REFUSED,
                                 reason=f"{reason} (record is {current})")
            raise StateConflictError(f"cannot re-deliver a {current} record", state=current)
        listed = " ".join(f"{list_no}/{idx}" for list_no, idx in retired) or "none"
        self.audit.append(officer=officer, action="redeliver", record_id=record.id,
                             reason=f"{reason}; retired {listed}")
        self.publish_lists(list_no for list_no, _ in retired)
        return retired, self.create_offer(record.id, officer=officer)

    # --- the portrait (issuer.portrait) ----------------------------------------------------------------
    def set_portrait(self, record_id: str, upload: bytes, *, officer: str) -> tuple[Record, list[tuple[int, int]]]:
        """Take the portrait from an uploaded photo (PortraitRejectedError: nothing written); with the
        (list, idx) of the credentials delivered before, now retired (module docstring)."""
        self.get_record(record_id)  # RecordNotFoundError before any image work
        return self.keep_portrait(record_id, make_portrait(upload), officer=officer)

    def preview_portrait(self, record_id: str, upload: bytes) -> tuple[bytes, bytes]:
        """(the portrait an upload gives, that portrait sealed for a preview): nothing is written; the sealed
        preview, handed back, is what keep_preview keeps."""
        record = self.get_record(record_id)
        portrait = make_portrait(upload)
        return portrait, self.portraits.seal(record.id, portrait, use=PREVIEW)

    def keep_preview(self, record_id: str, sealed_preview: bytes, *, officer: str) -> tuple[Record, list[tuple[int, int]]]:
        record = self.get_record(record_id)
        return self.keep_portrait(record.id, self.portraits.open(record.id, sealed_preview, use=PREVIEW),
                                  officer=officer)

    def keep_portrait(self, record_id: str, portrait: bytes, *, officer: str) -> tuple[Record, list[tuple[int, int]]]:
        """Keep a portrait made by issuer.portrait.capture (set_portrait, keep_preview)."""
        record = self.get_record(record_id)
        if record.state is not RecordState.ACTIVE:
            self.audit.append(officer=officer, action="set_portrait", record_id=record.id, outcome=REFUSED,
                              reason=f"record is {record.state.value}")
            raise StateConflictError(f"cannot change the portrait of a {record.state.value} record",
                                     state=record.state.value)
        digest = hashlib.sha256(portrait).digest()
        holder = dataclasses.replace(record.permit.holder, portrait_sha256=digest)
        entry = self.audit.entry(officer=officer, action="set_portrait", record_id=record.id,
                                 reason=f"{len(portrait)} bytes, sha256 {digest.hex()[:16]}")
        updated = self.store.put_portrait(record.id, self.portraits.seal(record.id, portrait),
                                          expected=RecordState.ACTIVE, now=self.clock(), audit=entry,
                                          permit=dataclasses.replace(record.permit, holder=holder))
        if updated is None:
            raise StateConflictError("the record changed concurrently; retry")
        if not self.store.delivered(record.id):  # nothing out there: an open offer delivers the new face
            return updated, []
        retired = self.store.retire_delivered(record.id, now=self.clock()) or []
        listed = " ".join(f"{list_no}/{idx}" for list_no, idx in retired) or "none"
        self.audit.append(officer=officer, action="set_portrait", record_id=record.id,
                          reason=f"old portrait's credentials retired {listed}")
        self.publish_lists(list_no for list_no, _ in retired)
        return updated, retired

    def portrait_of(self, record: Record) -> bytes | None:
        """The portrait the record's permit names (its bytes hash to portrait_sha256), None if it has none."""
        sealed = self.store.get_portrait(record.id)
        if sealed is None:
            return None
        portrait = self.portraits.open(record.id, sealed)
        if hashlib.sha256(portrait).digest() != record.permit.holder.portrait_sha256:
            raise PortraitUnreadableError(record.id)  # a store that pairs a permit with another face
        return portrait

    def publish_lists(self, list_numbers: Iterable[int]) -> None:
        for list_no in sorted(set(list_numbers)):
            self._publisher.publish(list_no)

    def _transition(
        self, record_id: str, allowed: tuple[RecordState, ...], new: RecordState, officer: str, reason: Reason,
        action: str,
    ) -> Record:
        for _ in range(len(allowed) + 1):  # a concurrent change may move the record between allowed states
            record = self.get_record(record_id)
            if record.state not in allowed:
                self.audit.append(officer=officer, action=action, record_id=record.id, outcome=REFUSED,
                                  reason=f"{reason} (record is {record.state.value})")
                raise StateConflictError(f"cannot {action} a {record.state.value} record", state=record.state.value)
            entry = self.audit.entry(officer=officer, action=action, record_id=record.id, reason=str(reason))
            updated = self.store.update_record_state(  # the state, its status bits and the entry: one step
                record.id, expected=record.state, new=new, status_value=_STATUS_OF[new], now=self.clock(), audit=entry
            )
            if updated is not None:
                self.publish_lists(list_no for list_no, _ in self.store.delivered(record.id))
                return updated
        raise StateConflictError("the record changed concurrently; retry")

    # --- wallet side ---------------------------------------------------------------------------------
    def offer_by_id(self, offer_id: str) -> Offer:
        return self._pickup.offer_by_id(offer_id)

    def offer_known(self, offer_id: str) -> bool:
        return self._pickup.offer_known(offer_id)

    def redeem(self, pre_authorized_code: str, tx_code: str | None, *, dpop_jkt: str | None = None) -> str:
        """An access token for the code and PIN; with ``dpop_jkt`` it is bound to that DPoP key (RFC 9449). A
        record that cannot be delivered now is refused before the code is spent."""
        now = self.clock()
        # _check_deliverable's rule as data, for the store's step; the refusal's words come from it.
        rule = Deliverability(self.keyring.authority_code, beijing_day(now).isoformat())
        return self._pickup.redeem(pre_authorized_code, tx_code, deliverable=self._deliverable_now, dpop_jkt=dpop_jkt,
                                   rule=rule)

    def _deliverable_now(self, record_id: str) -> None:
        self._check_deliverable(self.get_record(record_id), self.clock())

    def new_nonce(self, *, counts: Sequence[tuple[str, str, int, int]] = ()) -> str:
        """A fresh c_nonce; RateLimitedError (nothing stored) once one of ``counts`` (the caller's rate limits:
        kind, key, window, limit), counted in the same store step, passes its limit."""
        return self._pickup.new_nonce(counts=counts)

    def consume_nonce(self, nonce: str) -> None:
        self._pickup.consume_nonce(nonce)

    def access_grant(self, access_token: str) -> AccessGrant:
        """What a live access token grants, and the DPoP key it is bound to; InvalidTokenError otherwise."""
        return self._pickup.grant(access_token)

    def configuration_ids(self, access_token: str) -> list[str]:
        return list(self._pickup.grant(access_token).configuration_ids)

    def deliver(self, access_token: str, holder_keys: Sequence[PublicKey], configuration_id: str, *,
                nonces: Sequence[str] = (), grant: AccessGrant | None = None) -> list[DeliveredCredential]:
        """The credentials of one configuration, bound to ``holder_keys`` (one request: a batch). The access
        token delivers each configuration once: a second request raises InvalidTokenError; a refused one
        (any error) leaves the delivery to the token. ``nonces``: the c_nonces of the key proofs, spent with
        the delivery (InvalidNonceError). IssuancePendingError while the application awaits approval (the
        wallet API then calls defer). ``grant``: the token's, when the caller has just read it."""
        return self.deliver_pickup(access_token, holder_keys, configuration_id, nonces=nonces, grant=grant,
                                   notify=False).credentials

    def deliver_pickup(self, access_token: str, holder_keys: Sequence[PublicKey], configuration_id: str, *,
                       nonces: Sequence[str] = (), grant: AccessGrant | None = None, notify: bool = True,
                       reads: Sequence[tuple[str, str]] = (),
                       vet: Callable[[tuple[str | None, ...]], None] | None = None) -> PickedUp:
        """deliver, with the record delivered for and (``notify``) a notification_id opened (OpenID4VCI
        §8.3): the credential endpoint's store calls, each step once. ``reads``: durable ephemeral values the
        caller checks, read with the record and handed to ``vet`` before any other check (it raises to refuse)."""
        grant = grant or self._pickup.grant(access_token)
        self._check_covered(grant, configuration_id)

        notification = self._deferral.new_notification(grant, access_token, configuration_id) if notify else None
        # The notification id is put with the spending (a failed delivery leaves one nobody was told).
        spend = functools.partial(self._pickup.delivery, access_token, configuration_id, nonces=nonces,
                                  puts=() if notification is None else (notification[1],))
        record, delivered = self._deliver_to(grant.record_id, grant.offer_id, holder_keys, access_token, spend=spend,
                                             reads=reads, vet=vet)
        return PickedUp(record, delivered, None if notification is None else notification[0])

    def _deliver_to(self, record_id: str, offer_id: str, holder_keys: Sequence[PublicKey], access_token: str, *,
                    spend: Callable[[], AbstractContextManager[None]] = nullcontext,
                    reads: Sequence[tuple[str, str]] = (),
                    vet: Callable[[tuple[str | None, ...]], None] | None = None,
                    ) -> tuple[Record, list[DeliveredCredential]]:
        """``spend``: what the delivery uses up once every check passed (the token's delivery of the
        configuration), given back if the delivery fails; a deferred transaction was spent when taken."""
        self._check_holder_keys(holder_keys)
        now = self.clock()
        held = [(HELD, self.keyed.digest(HOLDER_CREDENTIAL, access_token, key_id(key))) for key in holder_keys]
        # The record, its approval marker, the offer and what the grant delivered to these keys before: one read
        # (the delivery's own step re-checks that the record is ACTIVE).
        view = self.store.delivery_view(record_id, offer_id, [(APPROVAL, record_id), *held, *reads], now)
        if vet is not None:
            vet(view.values[1 + len(held):])
        if view.record is None:
            raise RecordNotFoundError(record_id[:MAX_RECORD_ID])
        record = view.record
        if view.values[0] == PENDING:
            raise IssuancePendingError(record.id)
        if view.offer is None or view.offer.state == "cancelled":  # a re-delivery, suspension or revocation closed it
            raise StateConflictError("the pickup was cancelled", state="cancelled")
        self._check_deliverable(record, now)
        nbf, exp = validity_window(record.permit)  # Beijing days, as in the QR pass
        # The newest usable key at the issuer's clock (the one that dates the credential); recorded below.
        signer = self.keyring.signer_for(Purpose.CREDENTIAL, now=now)
        with spend():
            delivered = [self._deliver_one(record, key, earlier, remember=slot, signer=signer, now=now, nbf=nbf,
                                           exp=exp)
                         for key, slot, earlier in zip(holder_keys, held, view.values[1:1 + len(held)], strict=True)]
        indices = " ".join(f"{uri_no(d.status_uri)}/{d.status_idx}" for d in delivered)
        self.audit.append(officer="wallet", action="deliver", record_id=record.id,
                          reason=f"offer {offer_id}; status {indices}")
        return record, delivered

    def _check_deliverable(self, record: Record, now: int) -> None:
        """StateConflictError unless the record's credentials can be delivered at ``now``."""
        if record.state is not RecordState.ACTIVE:
            raise StateConflictError(f"record is {record.state.value}", state=record.state.value)
        if validity_window(record.permit)[1] <= now:
            raise StateConflictError("the permit's validity has ended")
        try:  # records registered before registration checked the authority
            self.check_authority(record.permit)
        except BureauRuleError as exc:
            raise StateConflictError(str(exc)) from exc

    @staticmethod
    def _check_covered(grant: AccessGrant, configuration_id: str) -> None:
        if configuration_id not in grant.configuration_ids:
            raise InvalidRequestError("the access token does not cover that configuration")

    @staticmethod
    def _check_holder_keys(holder_keys: Sequence[PublicKey]) -> None:
        if not 0 < len(holder_keys) <= MAX_HOLDER_KEYS:
            raise InvalidRequestError(f"between 1 and {MAX_HOLDER_KEYS} holder keys per request")
        for key in holder_keys:  # the QR pass carries the holder key as a P-256 COSE_Key
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
                raise InvalidRequestError("holder keys must be P-256")

    # --- deferred issuance and notifications (OpenID4VCI §9, §11; issuer.deferred) ----------------------
    def defer(self, access_token: str, holder_keys: Sequence[PublicKey], configuration_id: str, *,
              nonces: Sequence[str] = (), grant: AccessGrant | None = None) -> DeferredTransaction:
        """Keep verified holder keys until approval; the access token stays valid as long as the transaction.
        ``nonces``: the key proofs' c_nonces, spent with the delivery (as deliver)."""
        grant = grant or self._pickup.grant(access_token)
        self._check_holder_keys(holder_keys)
        self._check_covered(grant, configuration_id)
        # The transaction is the one delivery.
        with self._pickup.delivery(access_token, configuration_id, nonces=nonces):
            transaction = self._deferral.open_transaction(grant, access_token, configuration_id, holder_keys)
        self._pickup.extend(access_token, self._deferral.transaction_ttl)
        self.audit.append(officer="wallet", action="deliver_deferred", record_id=grant.record_id,
                          reason=f"{len(holder_keys)} credential(s), offer {grant.offer_id}")
        return transaction

    def deferred_credentials(
        self, access_token: str, transaction_id: str
    ) -> tuple[DeferredTransaction, list[DeliveredCredential] | None]:
        """The credentials once approved (the transaction is then used up); None while still pending.
        InvalidTransactionIdError: unknown, used, expired, another token's. CredentialRequestDeniedError:
        refused, suspended or revoked (the transaction is dropped)."""
        self._pickup.grant(access_token)  # InvalidTokenError first
        transaction = self._deferral.peek(transaction_id, access_token)
        record = self.get_record(transaction.record_id)
        if record.state is RecordState.ACTIVE and self._deferral.is_pending(record.id):
            return transaction, None
        transaction = self._deferral.take(transaction_id, access_token)  # exactly one poll goes on
        try:
            return transaction, self._deliver_to(record.id, transaction.offer_id, transaction.holder_keys,
                                                 access_token)[1]
        except (StateConflictError, IssuancePendingError) as exc:
            raise CredentialRequestDeniedError(f"the credential will not be issued: {exc}") from exc

    def open_notification(self, access_token: str, configuration_id: str, *, grant: AccessGrant | None = None) -> str:
        """A notification_id for one credential response (OpenID4VCI §8.3)."""
        return self._deferral.open_notification(grant or self._pickup.grant(access_token), access_token,
                                                configuration_id)

    def notify(self, access_token: str, notification_id: str, event: str, description: str | None = None, *,
               grant: AccessGrant | None = None) -> Notice:
        """Record the wallet's report (audit: pickup_confirmed / pickup_failed / pickup_deleted), idempotently;
        what the notification id stood for (a resident's request finishes on it: issuer.requests). ``grant``:
        the token's, when the caller has just read it (else it is read: InvalidTokenError first)."""
        if grant is None:
            self._pickup.grant(access_token)
        return self._deferral.notify(access_token, notification_id, event, description)

    def _deliver_one(self, record: Record, holder_key: PublicKey, earlier: str | None, *, remember: tuple[str, str],
                     signer: PurposeSigner, now: int, nbf: int, exp: int) -> DeliveredCredential:
        """The credential for one key. ``earlier``: what this grant delivered to the key before (HELD, under
        ``remember``), if anything."""
        held = json.loads(earlier) if earlier is not None else None
        if held is not None and held["kid"] == signer.kid:
            # This key's credential under this grant, asked for in another encoding (module docstring). The
            # index is bound to the record already: a revoke since has set it, the check above refused us.
            list_no, idx, iat = int(held["list"]), int(held["idx"]), int(held["iat"])
        else:
            # Allocated on a list of the record's district and bound to the record only while it is ACTIVE, in one
            # step: a revoke that lands first refuses us, one that lands later sets this index too. Remembered in
            # the same step, as long as anything may still be delivered with this token (deferred transactions
            # extend it).
            ttl = max(self.settings.access_token_ttl, self._deferral.transaction_ttl)
            allocated = self._publisher.allocate_delivered(record.id, record.permit.district, now, kid=signer.kid,
                                                           remember=(*remember, ttl))
            if allocated is None:
                raise StateConflictError("record is no longer active")
            (list_no, idx), iat = allocated, now
        uri = self.settings.status_list_uri(list_no)
        sd_jwt = issue_sd_jwt_vc(
            record.permit, issuer=self.settings.public_url, signer=signer,
            holder_key=holder_key, status_uri=uri, status_idx=idx, now=iat, exp=exp, nbf=nbf,
            # x5c for X.509-resolving peers (HAIP): the signing certificate; the root is the trust anchor.
            certificates=(self.keyring.certificates[signer.kid],),
            portrait=self.portrait_of(record) if record.permit.holder.portrait_sha256 is not None else None,
        )
        qr_pass, qr_pass_basic = (
            encode_pass(record.permit, signer=signer, holder_key=holder_key, status_uri=uri, status_idx=idx,
                        now=iat, view=view)
            for view in (PassView.FULL, PassView.BASIC)
        )
        return DeliveredCredential(sd_jwt, qr_pass, qr_pass_basic, uri, idx)

    # --- publication ---------------------------------------------------------------------------------
    def status_list_uris(self) -> list[str]:
        return self._publisher.uris()

    def published_status_list(self, uri_or_number: str) -> PublishedStatusList:
        return self._publisher.published(uri_or_number)

    def trust_list_token(self) -> str:
        return self._publisher.trust_list_token()
