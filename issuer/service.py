"""IssuerService: the issuance decisions (docs/architecture.md, "The issuer service contract").

Officer-side methods trust the caller to have authenticated and authorised the officer (issuer.desk does
that for the HTTP API); ``officer`` is the id written to the audit trail. State changes are optimistic:
the store applies one only if the record is still in the state it was read in, and sets the status
entries of every delivered credential in the same step; the affected lists are re-signed right after.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric import ec

from credential.jwk import PublicKey
from credential.model import Permit
from credential.passclaims import validity_window
from credential.qrpass import encode_pass
from credential.sdjwt import issue_sd_jwt_vc
from credential.statuslist import INVALID, SUSPENDED, VALID
from issuer.audit import MAX_REASON, AuditLog
from issuer.clock import Clock, system_clock
from issuer.errors import InvalidRequestError, RecordNotFoundError, StateConflictError
from issuer.pickup import Pickup
from issuer.publication import Publisher
from issuer.records import DeliveredCredential, Offer, PublishedStatusList, Record, RecordState
from issuer.settings import IssuerSettings
from issuer.store import Store
from keys.keyring import KeyRing

MAX_HOLDER_KEYS = 10  # credentials per request (OpenID4VCI batch); each gets its own status index
MAX_RECORD_ID = 64
_STATUS_OF = {RecordState.ACTIVE: VALID, RecordState.SUSPENDED: SUSPENDED, RecordState.REVOKED: INVALID}


def check_reason(reason: str) -> str:
    """The officer's reason for a state change: required, one line, at most MAX_REASON characters."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > MAX_REASON or not text.isprintable():
        raise InvalidRequestError(f"reason must be 1-{MAX_REASON} printable characters")
    return text


class IssuerService:
    def __init__(
        self, store: Store, keyring: KeyRing, settings: IssuerSettings, clock: Clock = system_clock
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.settings = settings
        self.clock = clock
        self.audit = AuditLog(store, clock)
        self._publisher = Publisher(store, keyring, settings, clock)
        self._pickup = Pickup(store, settings, clock, self.audit)

    # --- officer side --------------------------------------------------------------------------------
    def register(self, permit: Permit, *, officer: str) -> Record:
        if not isinstance(permit, Permit):
            raise InvalidRequestError("register needs a validated Permit")
        now = self.clock()
        record = Record(secrets.token_urlsafe(16), permit, RecordState.ACTIVE, now, now)
        self.store.insert_record(record)
        self.audit.append(officer=officer, action="register", record_id=record.id,
                          reason=f"{permit.type.slug} {permit.document_number}")
        return record

    def get_record(self, record_id: str) -> Record:
        record = self.store.get_record(record_id) if 0 < len(record_id) <= MAX_RECORD_ID else None
        if record is None:
            raise RecordNotFoundError(record_id[:MAX_RECORD_ID])
        return record

    def create_offer(self, record_id: str, *, officer: str) -> Offer:
        record = self.get_record(record_id)
        if record.state is not RecordState.ACTIVE:
            raise StateConflictError(f"record is {record.state.value}", state=record.state.value)
        offer = self._pickup.create_offer(record)
        self.audit.append(officer=officer, action="create_offer", record_id=record.id,
                          reason=f"offer {offer.offer_id}")
        return offer

    def suspend(self, record_id: str, *, officer: str, reason: str) -> Record:
        return self._transition(record_id, (RecordState.ACTIVE,), RecordState.SUSPENDED, officer, reason, "suspend")

    def lift(self, record_id: str, *, officer: str, reason: str) -> Record:
        return self._transition(record_id, (RecordState.SUSPENDED,), RecordState.ACTIVE, officer, reason, "lift")

    def revoke(self, record_id: str, *, officer: str, reason: str) -> Record:
        return self._transition(
            record_id, (RecordState.ACTIVE, RecordState.SUSPENDED), RecordState.REVOKED, officer, reason, "revoke"
        )

    def _transition(
        self, record_id: str, allowed: tuple[RecordState, ...], new: RecordState, officer: str, reason: str,
        action: str,
    ) -> Record:
        text = check_reason(reason)
        for _ in range(len(allowed) + 1):  # a concurrent change may move the record between allowed states
            record = self.get_record(record_id)
            if record.state not in allowed:
                self.audit.append(officer=officer, action=f"{action}_refused", record_id=record.id,
                                  reason=f"record is {record.state.value}")
                raise StateConflictError(f"cannot {action} a {record.state.value} record", state=record.state.value)
            updated = self.store.update_record_state(
                record.id, expected=record.state, new=new, status_value=_STATUS_OF[new], now=self.clock()
            )
            if updated is not None:
                self.audit.append(officer=officer, action=action, record_id=record.id, reason=text)
                for list_no in sorted({list_no for list_no, _ in self.store.delivered(record.id)}):
                    self._publisher.publish(list_no)
                return updated
        raise StateConflictError("the record changed concurrently; retry")

    # --- wallet side ---------------------------------------------------------------------------------
    def offer_by_id(self, offer_id: str) -> Offer:
        return self._pickup.offer_by_id(offer_id)

    def redeem(self, pre_authorized_code: str, tx_code: str | None) -> str:
        return self._pickup.redeem(pre_authorized_code, tx_code)

    def new_nonce(self) -> str:
        return self._pickup.new_nonce()

    def consume_nonce(self, nonce: str) -> None:
        self._pickup.consume_nonce(nonce)

    def configuration_ids(self, access_token: str) -> list[str]:
        return list(self._pickup.grant(access_token).configuration_ids)

    def deliver(self, access_token: str, holder_keys: Sequence[PublicKey]) -> list[DeliveredCredential]:
        grant = self._pickup.grant(access_token)
        if not 0 < len(holder_keys) <= MAX_HOLDER_KEYS:
            raise InvalidRequestError(f"between 1 and {MAX_HOLDER_KEYS} holder keys per request")
        for key in holder_keys:  # the QR pass carries the holder key as a P-256 COSE_Key
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
                raise InvalidRequestError("holder keys must be P-256")
        record = self.get_record(grant.record_id)
        now = self.clock()
        nbf, exp = validity_window(record.permit)  # Beijing days, as in the QR pass
        if record.state is not RecordState.ACTIVE:
            raise StateConflictError(f"record is {record.state.value}", state=record.state.value)
        if exp <= now:
            raise StateConflictError("the permit's validity has ended")
        delivered = [self._deliver_one(record, key, now=now, nbf=nbf, exp=exp) for key in holder_keys]
        self.audit.append(officer="wallet", action="deliver", record_id=record.id,
                          reason=f"{len(delivered)} credential(s), offer {grant.offer_id}")
        return delivered

    def _deliver_one(self, record: Record, holder_key: PublicKey, *, now: int, nbf: int, exp: int) -> DeliveredCredential:
        list_no, idx = self._publisher.allocate()
        # Bound to the record only while it is ACTIVE, atomically: a revoke that lands first refuses us,
        # one that lands later sets this index too.
        if not self.store.add_delivered(record.id, list_no, idx, now):
            raise StateConflictError("record is no longer active")
        uri = self.settings.status_list_uri(list_no)
        sd_jwt = issue_sd_jwt_vc(
            record.permit, issuer=self.settings.public_url, signer=self.keyring.credential_signer,
            holder_key=holder_key, status_uri=uri, status_idx=idx, now=now, exp=exp, nbf=nbf,
        )
        qr_pass = encode_pass(record.permit, signer=self.keyring.credential_signer, holder_key=holder_key,
                              status_uri=uri, status_idx=idx, now=now)
        return DeliveredCredential(sd_jwt, qr_pass, uri, idx)

    # --- publication ---------------------------------------------------------------------------------
    def status_list_uris(self) -> list[str]:
        return self._publisher.uris()

    def published_status_list(self, uri_or_number: str) -> PublishedStatusList:
        return self._publisher.published(uri_or_number)

    def trust_list_token(self) -> str:
        return self._publisher.trust_list_token()
