"""The issuer's value types: what it keeps, hands out, and records — and nothing that does I/O.

Records, offers, delivered credentials and published status lists; the reasons officers give; the audit
entry and the hash that chains it (every store writes entries with ``chained``); officers, their roles and
what each role may do. Every module of issuer/ may import this one; it imports only credential/ and
issuer.errors, so the store, the services and the HTTP layer share these types without import circles.

Audit entries name the officer and the record id only: never a name, citizen ID or document number.
Editing, deleting, inserting or reordering entries breaks the chain at that point (issuer.audit finds
where); cutting off the tail is caught by comparing with a head noted earlier (the anchor).
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from credential.model import CredentialType, Permit
from credential.text import one_line
from issuer.errors import ForbiddenError, InvalidRequestError

# Records, offers, deliveries

class RecordState(enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Record:
    """One registered permit or card: what an officer acts on."""

    id: str  # random, url-safe
    permit: Permit
    state: RecordState
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Offer:
    """A pickup: the resident redeems it with the PIN.

    The store keeps only keyed hashes (issuer.keyed) of the offer id, the code and the PIN, never one of
    them in clear. The code is derived from the offer id with the store secret, so the by-reference offer
    can be served again from the id in the wallet's URL. An Offer read back (``offer_by_id``) has an empty
    ``tx_code``: the PIN is shown once.
    """

    pre_authorized_code: str  # 256 bits, url-safe: HMAC(store secret, offer_id)
    tx_code: str  # 6-digit PIN
    record_id: str
    expires_at: int
    offer_id: str  # 256 bits random; GET {public_url}/offers/{offer_id} returns the offer JSON
    configuration_ids: tuple[str, ...]  # configuration_ids(type): f"{slug}_sd_jwt", f"{slug}_qr", f"{slug}_qr_basic"
    ref: str  # the offer's name in the store and the audit trail: the keyed hash of offer_id (no secret)


@dataclass(frozen=True)
class DeliveredCredential:
    """One credential, bound to one holder key and one status index, in every encoding we deliver."""

    sd_jwt_vc: str  # issuer-signed SD-JWT VC ending in "~"
    qr_pass: bytes  # COSE_Sign1 bytes of the QR pass, full view
    qr_pass_basic: bytes  # the same pass in the basic view (credential.passclaims.PassView.BASIC)
    status_uri: str
    status_idx: int


@dataclass(frozen=True)
class PickedUp:
    """What one credential request delivered (IssuerService.deliver_pickup)."""

    record: Record
    credentials: list[DeliveredCredential]
    notification_id: str | None  # opened with the delivery; None when not asked for


@dataclass(frozen=True)
class PublishedStatusList:
    uri: str
    token: str
    etag: str  # SHA-256 hex of the token
    iat: int


def configuration_ids(credential_type: CredentialType) -> tuple[str, ...]:
    """The OpenID4VCI credential configurations of one type, every one offered: the same credential as an
    SD-JWT VC, as the full QR pass and as the basic QR pass (wallet_api.configurations describes them)."""
    slug = credential_type.slug
    return (f"{slug}_sd_jwt", f"{slug}_qr", f"{slug}_qr_basic")


def holder_hash(citizen_id: str) -> str:
    """The index key of a holder's records in every store (an index, not a secret: the permit is stored too)."""
    return hashlib.sha256(b"epermit-holder\x1f" + citizen_id.encode("utf-8")).hexdigest()


OFFER_SCHEME = "openid-credential-offer://"


def offer_url(public_url: str, offer_id: str) -> str:
    """Where a wallet fetches the offer object (OpenID4VCI 1.0 §4.1.3, ``credential_offer_uri``)."""
    return f"{public_url}/offers/{quote(offer_id, safe='')}"


def offer_uri(public_url: str, offer_id: str) -> str:
    """The offer by reference, URL-encoded behind the wallet scheme, for any OpenID4VCI wallet; never the PIN."""
    return f"{OFFER_SCHEME}?credential_offer_uri={quote(offer_url(public_url, offer_id), safe='')}"


def pickup_url(public_url: str, offer_id: str) -> str:
    """What every pickup QR and SMS holds: an https page on the wallet API that a phone's camera app opens,
    which says what to do and links to our wallet and to offer_uri (wallet_api.pickup_page); never the PIN."""
    return f"{public_url}/pickup/{quote(offer_id, safe='')}"


# Reasons

MAX_REASON_TEXT = 160


class ReasonCode(enum.Enum):
    LOST = "LOST"  # the phone or the card was lost or stolen
    MOVED_AWAY = "MOVED_AWAY"  # the holder left the district
    FRAUD = "FRAUD"  # obtained or used fraudulently
    DECEASED = "DECEASED"
    COURT_ORDER = "COURT_ORDER"
    ADMIN_ERROR = "ADMIN_ERROR"  # issued or changed by mistake
    RESOLVED = "RESOLVED"  # what caused a suspension is cleared (lift)
    NEW_DEVICE = "NEW_DEVICE"  # re-delivery to a new phone
    OTHER = "OTHER"  # the text says why (required)


REASON_CODES = tuple(code.value for code in ReasonCode)


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    text: str

    def __str__(self) -> str:
        return f"{self.code.value}: {self.text}" if self.text else self.code.value


def parse_reason(code: object, text: object = "") -> Reason:
    """A checked reason; InvalidRequestError for an unknown code or bad text (one printable line)."""
    if not isinstance(code, str) or code not in REASON_CODES:
        raise InvalidRequestError(f"reason_code must be one of {', '.join(REASON_CODES)}")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidRequestError("reason must be text")
    clean = one_line(text, limit=MAX_REASON_TEXT, fold=False)
    if clean is None:
        raise InvalidRequestError(f"reason must be one printable line of at most {MAX_REASON_TEXT} characters")
    if code == ReasonCode.OTHER.value and not clean:
        raise InvalidRequestError("reason_code OTHER needs a reason text")
    return Reason(ReasonCode(code), clean)


# The audit entry and its chain

MAX_ENTRY_REASON = 2000  # what one entry keeps: the reason plus e.g. the status indices it touched
GENESIS = "0" * 64
FORMAT = "epermit-audit-v1"

OK = "ok"  # the action happened
DENIED = "denied"  # role or district did not allow it (nothing changed)
REFUSED = "refused"  # allowed, but the record's state or the bureau's rules did not (nothing changed)
OUTCOMES = (OK, DENIED, REFUSED)


@dataclass(frozen=True)
class AuditEntry:
    seq: int  # 0 until the store appends it
    time: int
    officer: str  # officer id, or "wallet" / "cli" for the resident- and console-side actions
    action: str  # e.g. "register", "revoke", "deliver", "offer_burned"
    record_id: str | None
    reason: str  # reason code and free text, or what was delivered (status indices): no personal data
    outcome: str = OK
    prev_hash: str = ""  # set by the store
    hash: str = ""  # set by the store
    # When a sharded store wrote it, in µs of the writing machine's clock: not hashed, not compared, only the
    # tie-break that orders entries of different chains within one second (issuer.audit_cursor.merged).
    written: int = field(default=0, compare=False)


def canonical(entry: AuditEntry) -> bytes:
    """The bytes the hash covers: a JSON array in a fixed field order, UTF-8, no whitespace."""
    fields = [FORMAT, entry.seq, entry.time, entry.officer, entry.action, entry.record_id, entry.reason,
              entry.outcome, entry.prev_hash]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def chained(entry: AuditEntry, *, seq: int, prev_hash: str, written: int = 0) -> AuditEntry:
    """The entry as appended after one whose hash is ``prev_hash``: what a store writes."""
    linked = AuditEntry(seq, entry.time, entry.officer, entry.action, entry.record_id, entry.reason, entry.outcome,
                        prev_hash, "")  # not dataclasses.replace: this runs per entry in bulk issuance
    return AuditEntry(seq, entry.time, entry.officer, entry.action, entry.record_id, entry.reason, entry.outcome,
                      prev_hash, entry_hash(linked), written)


# Officers and what each role may do

MAX_TOKEN_LENGTH = 128
MAX_OFFICER_NAME = 60
_OFFICER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DISTRICT = re.compile(r"\d{6}")


def officer_name(text: object) -> str:
    """``text`` as an officer's name: one printable line (credential.text.one_line, the rule of every
    human-entered line), 1-60 characters; InvalidRequestError otherwise."""
    clean = one_line(text, limit=MAX_OFFICER_NAME) if isinstance(text, str) else None
    if not clean:
        raise InvalidRequestError(f"officer name must be one printable line of 1-{MAX_OFFICER_NAME} characters")
    return clean


def is_officer_id(text: str) -> bool:
    return _OFFICER_ID.fullmatch(text) is not None


class Role(enum.Enum):
    CLERK = "clerk"
    ISSUING_OFFICER = "issuing_officer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"  # reads the audit entries of its districts' records, and its own
    BUREAU_AUDITOR = "bureau_auditor"  # reads the whole audit log; made on the office machine only
    ADMIN = "admin"


class Action(enum.Enum):
    REGISTER = "register"  # record an application
    OVERRIDE_REGISTRATION = "override_registration"  # register a permit despite too short a registration
    READ_RECORD = "read_record"
    CREATE_OFFER = "create_offer"  # "issue": the pickup offer
    ENDORSE = "endorse"  # the annual endorsement (签注): new validity, new offer
    REDELIVER = "redeliver"  # to a new phone: the old phone's credentials become INVALID
    SUSPEND = "suspend"
    LIFT = "lift"
    REVOKE = "revoke"
    READ_AUDIT = "read_audit"
    MANAGE_OFFICERS = "manage_officers"
    APPROVE = "approve"  # approve or deny an application whose offer was made pending approval (deferred pickup)
    REVEAL_CITIZEN_ID = "reveal_citizen_id"  # show a record's full citizen ID (masked otherwise): audited
    SET_PORTRAIT = "set_portrait"  # take the holder's portrait (issuer.portrait): leads to re-issue
    READ_PORTRAIT = "read_portrait"  # see the portrait kept for a record (biometric data: its district only)


# Separation of duties: each action belongs to one kind of job (an office where one person does two jobs
# gives that person two officer ids). Record actions also need the record's district, and reading the audit
# log is scoped to the auditor's districts unless the auditor is the bureau's (issuer.desk).
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.REGISTER: frozenset({Role.CLERK}),
    Action.OVERRIDE_REGISTRATION: frozenset({Role.SUPERVISOR}),
    Action.READ_RECORD: frozenset({Role.CLERK, Role.ISSUING_OFFICER, Role.SUPERVISOR}),
    Action.CREATE_OFFER: frozenset({Role.ISSUING_OFFICER}),
    Action.ENDORSE: frozenset({Role.ISSUING_OFFICER}),
    Action.REDELIVER: frozenset({Role.ISSUING_OFFICER}),
    Action.SUSPEND: frozenset({Role.SUPERVISOR}),
    Action.LIFT: frozenset({Role.SUPERVISOR}),
    Action.REVOKE: frozenset({Role.SUPERVISOR}),
    Action.READ_AUDIT: frozenset({Role.AUDITOR, Role.BUREAU_AUDITOR}),
    Action.MANAGE_OFFICERS: frozenset({Role.ADMIN}),
    Action.APPROVE: frozenset({Role.SUPERVISOR}),
    Action.REVEAL_CITIZEN_ID: frozenset({Role.CLERK, Role.ISSUING_OFFICER, Role.SUPERVISOR}),
    Action.SET_PORTRAIT: frozenset({Role.CLERK}),
    Action.READ_PORTRAIT: frozenset({Role.CLERK, Role.ISSUING_OFFICER, Role.SUPERVISOR}),
}


@dataclass(frozen=True)
class Officer:
    id: str
    name: str
    role: Role
    districts: tuple[str, ...]  # GB/T 2260 six-digit codes the officer may act on
    disabled: bool = False

    def __post_init__(self) -> None:
        if not _OFFICER_ID.fullmatch(self.id):
            raise InvalidRequestError("officer id must be 1-64 of [A-Za-z0-9._-]")
        if officer_name(self.name) != self.name:  # stored as entered: OfficerRegistry cleans the name first
            raise InvalidRequestError(f"officer name must be one printable line of 1-{MAX_OFFICER_NAME} characters")
        for district in self.districts:
            if not _DISTRICT.fullmatch(district):
                raise InvalidRequestError(f"district {district!r} is not a six-digit code")

    def may(self, action: Action) -> bool:
        return not self.disabled and self.role in PERMISSIONS[action]

    def covers(self, district: str) -> bool:
        return district in self.districts


def authorize(officer: Officer, action: Action) -> None:
    if not officer.may(action):
        raise ForbiddenError(f"role {officer.role.value} may not {action.value}")
