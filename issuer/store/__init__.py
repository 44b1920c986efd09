"""The one store interface: SQLite (sqlite_store.py) and Redis (redis_store.py) implement it.

Every method is atomic on its own. Read-modify-write steps that must not interleave across threads or
processes (state changes, single use, allocation) are single methods here, so a back end can make each one
a transaction (SQLite ``BEGIN IMMEDIATE``) or a script (Redis Lua). Secrets reach the store only as keyed
hashes (issuer.keyed: HMAC under a secret kept with the keys, never here), never in clear; the store cannot
and need not tell them from any other string.
Back-end failures (unreachable, stays locked) raise issuer.errors.StoreUnavailableError.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from credential.model import Permit
from credential.statuslist import StatusList
from issuer.model import AuditEntry, Officer, PublishedStatusList, Record, RecordState


class StatusListFullError(Exception):
    """The list is allocated past its fill limit: the caller opens the next list."""

    def __init__(self, list_no: int) -> None:
        super().__init__(f"status list {list_no} is full")
        self.list_no = list_no


# A list stops taking new indices at this fill, so random allocation needs few retries (and herd privacy stays).
FILL_LIMIT = 0.9


@dataclass(frozen=True)
class StoredOffer:
    offer_id: str  # the keyed hash of the offer id (Offer.ref); the id itself is only in the wallet's URL
    record_id: str
    code_hash: str  # keyed hash of the pre-authorized code
    tx_code_hash: str  # keyed hash over the code and the PIN
    expires_at: int
    configuration_ids: tuple[str, ...]
    state: str  # "open" | "redeemed" | "burned" | "cancelled" (by a re-delivery, a suspension or a revocation)
    created_at: int


@dataclass(frozen=True)
class StoredTrustList:
    version: int
    fingerprint: str  # what the list was signed over (keys, status lists): a change bumps the version
    token: str
    iat: int


@dataclass(frozen=True)
class StoredStatusList:
    published: PublishedStatusList
    generation: int  # the list's status_generation the token was signed over


@dataclass(frozen=True)
class OfficerSecrets:
    """What an officer signs in to the console with, as the store keeps it (issuer.signin)."""

    password_hash: str | None  # issuer.passwords: scrypt with its parameters; None: no password set
    totp_sealed: str | None  # issuer.totp: the TOTP secret sealed under the store secret; None: not enrolled
    totp_last_step: int  # the last TOTP step that signed the officer in (a code is used once)
    generation: int  # bumped by a password change, a TOTP enrolment or reset, a change or disabling: a
    # console session lives only while the officer's generation is the one it was opened at


@dataclass(frozen=True)
class Registration:
    """One row of a bulk registration as the store writes it: a new record, its pickup offer, and the audit
    entries of both (unchained, in order)."""

    record: Record
    offer: StoredOffer
    audit: tuple[AuditEntry, ...]
    portrait: bytes | None = None  # sealed (issuer.portrait.vault), kept with the record in the same step


@dataclass(frozen=True)
class BulkStep:
    """Where a batch of a streamed bulk run (issuer.bulk.run) stands: the file (its SHA-256), the batch's
    number counted from 0, and the run (a random token: the journal that wrote the batch's PINs). The store
    keeps per file the run and the number of batches it has stored, and stores a batch only as that run's
    next one, in the same atomic step as its rows: a batch is stored once, whatever is killed when, and a
    second run of the same file (another copy of it) cannot take over the first's count."""

    bulk_id: str
    batch: int
    run: str


@dataclass(frozen=True)
class BulkProgress:
    run: str  # "" when no run of the file is under way
    batches: int


def same_holder(old: Permit, new: Permit) -> None:
    """A permit's replacement (an endorsement, a new portrait) keeps the type, the holder and the district."""
    if (old.type, old.holder.citizen_id, old.district) != (new.type, new.holder.citizen_id, new.district):
        raise ValueError("a changed permit keeps the type, the holder and the district")


@dataclass(frozen=True)
class StoredRequest:
    """A resident's request (issuer.requests) as the store keeps it: the fields it is found by, and the rest
    as JSON (``data``: what the request asks and what became of it; ids, dates and keyed hashes, no secret)."""

    id: str
    kind: str  # "endorse" | "lost" | "address" | "deregister"
    state: str  # "submitted" | "queued" | "approved" | "denied" | "done"
    record_id: str
    district: str  # the queue it is in: the record's district, or the new one of an address change
    holder: str  # issuer.model.holder_hash of the citizen ID
    created_at: int
    updated_at: int
    data: str


@dataclass(frozen=True)
class StoredNotification:
    """One message of the outbox (issuer.notifications): ids and words, never a name or a citizen ID."""

    id: str
    holder: str  # holder_hash: whose wallet shows it
    record_id: str  # what the SMS gateway addresses (its directory has the phone numbers, this store has none)
    kind: str
    data: str  # JSON: the message's parameters (request id, dates) and its zh/en words
    created_at: int
    state: str  # "pending" | "sent" | "failed" (gave up after the retries)
    attempts: int
    next_attempt_at: int


# Kinds of ephemeral values that are short-lived and only ever *grant* something (a nonce, an access token and
# its delivery rights, a DPoP proof id, a rate window): a deployment may keep them off the fsync'd path (a second,
# non-persistent Redis: docs/redis.md), since losing them all at once only refuses (a wallet starts over). Every
# other kind (PIN attempts, approval markers, recovery codes, deferred transactions, logins) stays durable.
SHORT_LIVED_KINDS = frozenset({"c_nonce", "access_token", "delivery", "notification", "notification_seen",
                               "dpop_jti", "dpop_nonce", "dpop_nonce_now"})


def short_lived(kind: str) -> bool:
    """Whether values of ``kind`` may live on the ephemeral store (rate counters are ``rate_*``)."""
    return kind in SHORT_LIVED_KINDS or kind.startswith("rate_")


@dataclass(frozen=True)
class EphemeralStep:
    """Several ephemeral operations as one atomic step (one script, one transaction), in this order: every
    counter of ``counts`` (kind, key, ttl, limit) is incremented as by Store.increment, and if any count passes
    its limit the step stops there (nothing taken, read or written); then ``takes`` (kind, key), all or none: if
    any is missing or expired, none is taken; then ``gets`` (kind, key), read without consuming; then, only if
    every take succeeded, ``puts`` (kind, key, value, ttl), and ``adds`` (the same), each put only where no live
    value is. The kinds of one step are all short-lived or none."""

    counts: tuple[tuple[str, str, int, int], ...] = ()
    takes: tuple[tuple[str, str], ...] = ()
    gets: tuple[tuple[str, str], ...] = ()
    puts: tuple[tuple[str, str, str, int], ...] = ()
    adds: tuple[tuple[str, str, str, int], ...] = ()

    def kinds(self) -> set[str]:
        return {op[0] for ops in (self.counts, self.takes, self.gets, self.puts, self.adds) for op in ops}


@dataclass(frozen=True)
class EphemeralResult:
    counts: tuple[int, ...]  # each counter's new count (all of them, also when limited)
    limited: bool  # a count passed its limit: nothing else was done
    taken: tuple[str, ...] | None  # the values taken, in order; None: one was missing (none taken) or limited
    got: tuple[str | None, ...]  # () when limited or a take failed
    added: tuple[bool, ...] = ()  # per add: put now (no live value was there); () when limited or a take failed


@dataclass(frozen=True)
class Redemption:
    """What Store.redeem_offer found and did. ``outcome``: "redeemed" (the one caller that got the code),
    "wrong_pin" (counted; ``burned`` when this attempt burned the code), "exhausted" (the attempts were used up
    already), "invalid" (unknown, used, burned, cancelled or expired code), "undeliverable" (the right PIN, but
    the record cannot be delivered now: nothing spent)."""

    outcome: str
    attempts: int = 0
    burned: bool = False
    offer: StoredOffer | None = None
    record: Record | None = None  # "undeliverable": the record as found (None: there is none); else maybe None


@dataclass(frozen=True)
class DeliveryView:
    record: Record | None
    offer: StoredOffer | None
    values: tuple[str | None, ...]


@dataclass(frozen=True)
class Deliverability:
    """What redeem_offer checks of the offer's record before it spends the code (issuer.service's rule, also
    applied by a back end that cannot call back into Python in its step): the record is ACTIVE, its permit is
    of ``authority_code`` and valid until at least ``valid_until_from`` (an ISO date, Beijing); "" checks
    nothing."""

    authority_code: str
    valid_until_from: str


class Store(Protocol):
    # --- records -------------------------------------------------------------------------------------
    def insert_record(self, record: Record, *, audit: AuditEntry | None = None) -> None:
        """Add a new record; an existing id raises issuer.errors.StateConflictError. ``audit``: the record's
        entry, appended to the chain (as append_audit) in the same atomic step: both or neither."""
        ...

    def get_record(self, record_id: str) -> Record | None: ...

    def insert_registrations(self, registrations: Sequence[Registration], *,
                             step: BulkStep | None = None) -> list[AuditEntry]:
        """Bulk registration, one atomic step for the whole batch: every record (as insert_record), its offer
        (as insert_offer) and the audit entries, appended to the chain in order (as append_audit) — all or
        nothing. An existing record id, offer id or code raises issuer.errors.StateConflictError and writes
        nothing. ``step``: the file's stored batches must be ``step.batch`` of ``step.run`` (none of any run
        for batch 0), else StateConflictError and nothing written; they become ``step.batch + 1``. Returns
        the entries as chained."""
        ...

    def bulk_progress(self, bulk_id: str) -> BulkProgress:
        """Which run of the file is under way and how many of its batches are stored (none: "", 0)."""
        ...

    def end_bulk(self, bulk_id: str) -> None:
        """Forget the run's count (it is done): the same file submitted again is a new run."""
        ...

    def update_record_state(
        self, record_id: str, *, expected: RecordState, new: RecordState, status_value: int, now: int,
        audit: AuditEntry,
    ) -> Record | None:
        """Only if the record's state is ``expected``: set ``new``, set every live (not retired) delivered
        status index of the record to ``status_value``, cancel the record's "open" offers if it leaves ACTIVE
        (a suspended or revoked record's pickup must not redeem; a lift does not reopen them), and append
        ``audit`` to the chain (as append_audit), in one atomic step: a crash leaves all of it or none.
        Returns the updated record, else None (and nothing is appended)."""
        ...

    def record_states(self) -> Iterator[tuple[str, RecordState]]:
        """(id, state) of every record, in no set order (the audit cross-check reads them all)."""
        ...

    def record_districts(self, record_ids: Sequence[str]) -> dict[str, str]:
        """The district of each of these records that exists, in one read (scoping the audit log: an entry
        names a record id only, and a record's district never changes)."""
        ...

    def records_of_holder(self, citizen_id: str) -> list[Record]:
        """Every record whose permit's holder has this citizen ID (any type, any state), oldest first."""
        ...

    def records_of_holders(self, citizen_ids: Sequence[str]) -> dict[str, list[Record]]:
        """records_of_holder for many holders in one read (bulk validation): a key for every given ID."""
        ...

    def update_record_permit(
        self, record_id: str, *, expected: RecordState, permit: Permit, now: int
    ) -> Record | None:
        """Only if the record's state is ``expected``: replace its permit (the annual endorsement's new
        validity; same holder, type and district). Returns the updated record, else None."""
        ...

    def retire_delivered(self, record_id: str, *, now: int) -> list[tuple[int, int]] | None:
        """Re-delivery, one atomic step, only while the record is ACTIVE (else None): every live delivered
        index of the record is set to INVALID (1) and marked retired for good (later state changes of the
        record leave it INVALID), each list's generation is bumped, and the record's "open" and
        "redeemed" offers become "cancelled". Returns the retired (list_no, idx)."""
        ...

    def retire_indices(self, record_id: str, indices: Sequence[tuple[int, int]], *, now: int) -> list[tuple[int, int]]:
        """Retire some of the record's delivered indices in any record state, one atomic step: each given
        (list_no, idx) delivered for this record and not yet retired is set to INVALID (1) for good and marked
        retired (as retire_delivered does), the lists' generations are bumped. Others are skipped. Returns the
        ones retired now (the old phone's credential once the new one is confirmed, issuer.requests)."""
        ...

    # --- resident requests (issuer.requests) ----------------------------------------------------------
    def insert_request(self, request: StoredRequest) -> None:
        """Add a new request; an existing id raises issuer.errors.StateConflictError."""
        ...

    def get_request(self, request_id: str) -> StoredRequest | None: ...

    def update_request(self, request: StoredRequest, *, expected: str) -> bool:
        """Replace the request's state, updated_at and data, only if its stored state is ``expected`` (exactly
        one concurrent decision wins). Kind, record, district, holder and created_at never change."""
        ...

    def requests_of_holder(self, holder: str) -> list[StoredRequest]:
        """Every request of the holder (holder_hash), oldest first."""
        ...

    def requests_in_districts(self, districts: Sequence[str], states: Sequence[str], *,
                              limit: int = 100) -> list[StoredRequest]:
        """The requests of these districts in these states, oldest first (the officers' queue)."""
        ...

    # --- the notifications outbox (issuer.notifications) -----------------------------------------------
    def insert_notification(self, notification: StoredNotification) -> None: ...

    def notifications_of_holder(self, holder: str, *, limit: int = 50) -> list[StoredNotification]:
        """The holder's messages, newest first."""
        ...

    def due_notifications(self, now: int, *, limit: int = 100) -> list[StoredNotification]:
        """Pending messages whose next attempt is due at ``now``, oldest first."""
        ...

    def update_notification(self, notification_id: str, *, state: str, attempts: int,
                            next_attempt_at: int) -> None:
        """Record one delivery attempt's outcome (one deliverer runs at a time: docs/resident-requests.md)."""
        ...

    # --- portraits: sealed bytes only (issuer.portrait.vault); the store never holds one in clear ------
    def put_portrait(
        self, record_id: str, sealed: bytes, *, expected: RecordState, permit: Permit, now: int, audit: AuditEntry
    ) -> Record | None:
        """Only if the record's state is ``expected``: keep ``sealed`` as its portrait (replacing any), replace
        its permit (the new portrait_sha256; same holder, type and district, else ValueError) and append
        ``audit`` to the chain, in one atomic step. Returns the updated record, else None (nothing written)."""
        ...

    def get_portrait(self, record_id: str) -> bytes | None:
        """The record's sealed portrait; None if it has none."""
        ...

    # --- status lists --------------------------------------------------------------------------------
    def shard_of(self, district: str) -> str:
        """The shard a district's records, offers, status lists and audit chain live in: the district itself
        on a sharded back end (Redis: one hash tag per district), "" on one that has a single shard (SQLite).
        A record's credentials take their indices from lists of its shard, so that a state change sets them
        in the same atomic step."""
        ...

    def open_status_list(self, list_no: int, size: int, *, shard: str = "") -> bool:
        """Create list ``list_no`` with ``size`` entries in ``shard`` if absent; True if this call created it
        (a list number opened before stays in the shard it was opened in)."""
        ...

    def status_list_numbers(self, *, shard: str | None = None) -> list[int]:
        """Every opened list (None) or the lists of one shard, ascending."""
        ...

    def allocate_status_index(self, list_no: int, size: int) -> int:
        """A random index of list ``list_no`` (opened with ``size`` if absent) never handed out before.
        StatusListFullError once the list is FILL_LIMIT allocated."""
        ...

    def set_status(self, list_no: int, idx: int, value: int) -> None:
        """Set one allocated entry; LookupError if it was never allocated."""
        ...

    def status_bits(self, list_no: int) -> StatusList:
        """The whole list as it is now; LookupError for a list never opened."""
        ...

    def status_generation(self, list_no: int) -> int:
        """A counter bumped by every status change of the list (orders concurrent publications)."""
        ...

    # --- delivered credentials -----------------------------------------------------------------------
    def add_delivered(self, record_id: str, list_no: int, idx: int, now: int, *, kid: str | None = None) -> bool:
        """Bind an allocated index to the record, only while the record is ACTIVE (else False): so a
        delivery can never slip past a concurrent suspend or revoke. The list must be one of the record's
        shard (``shard_of`` its district), else ValueError. ``kid``: the key that signs this
        credential, recorded in the same step (for the compromise drill, issuer/reissue.py)."""
        ...

    def allocate_delivered(self, record_id: str, list_no: int, size: int, now: int, *, kid: str | None = None,
                           remember: tuple[str, str, int] | None = None) -> int | None:
        """allocate_status_index and add_delivered as one atomic step: a random index of list ``list_no``
        (opened with ``size`` if absent) never handed out before, bound to the record, only while the record is
        ACTIVE (else None, and nothing is allocated). StatusListFullError once the list is FILL_LIMIT allocated.
        ``remember`` (kind, key, ttl): also put the ephemeral value JSON {"list", "idx", "iat": now, "kid"}
        there, in the same step (what a grant delivered to a holder key: issuer.service), read back by
        delivery_view of the record (a sharded back end keeps it in the record's shard, beside its deliveries).
        The list must be one of the record's shard or none's yet (then it is opened there), else ValueError."""
        ...

    def delivery_view(self, record_id: str, offer_id: str, ephemeral: Sequence[tuple[str, str]],
                      now: int) -> DeliveryView:
        """What a credential request checks before it delivers, in one read: the record, the offer and the
        ephemeral values (kind, key; as get_ephemeral) of ``ephemeral`` (not a consistent snapshot: the
        delivery's own step re-checks the record's state)."""
        ...

    def deliveries_signed_by(self, kid: str) -> list[tuple[str, int, int]]:
        """(record_id, list_no, idx) of every live (not retired) credential signed by ``kid``."""
        ...

    def delivered(self, record_id: str) -> list[tuple[int, int]]:
        """(list_no, idx) of every credential delivered for the record (retired ones included)."""
        ...

    # --- offers --------------------------------------------------------------------------------------
    def insert_offer(self, offer: StoredOffer) -> None: ...

    def get_offer(self, offer_id: str) -> StoredOffer | None: ...

    def get_offer_by_code_hash(self, code_hash: str) -> StoredOffer | None: ...

    def finish_offer(self, code_hash: str, *, state: str, now: int) -> bool:
        """Move an open, unexpired offer to ``state`` ("redeemed" or "burned"). Exactly one concurrent caller
        gets True."""
        ...

    def offers_of_record(self, record_id: str) -> list[StoredOffer]:
        """Every offer made for the record (any state), oldest first (the record page: open ones, picked up)."""
        ...

    # --- ephemeral single-use values and counters ----------------------------------------------------
    def put_ephemeral(self, kind: str, key: str, value: str, ttl: int, now: int) -> None: ...

    def get_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        """Read without consuming (access tokens live until their TTL)."""
        ...

    def take_ephemeral(self, kind: str, key: str, now: int) -> str | None:
        """Read and delete: exactly one concurrent caller gets the value; expired values are None."""
        ...

    def increment(self, kind: str, key: str, ttl: int, now: int) -> int:
        """Add one and return the new count; the count starts over ``ttl`` seconds after its first step."""
        ...

    def ephemeral_step(self, step: EphemeralStep, now: int) -> EphemeralResult:
        """The operations of ``step`` in one atomic step (see EphemeralStep)."""
        ...

    # --- the pickup's redemption: one step per token request ------------------------------------------
    def redeem_offer(self, code_hash: str, tx_code_hash: str, *, now: int, max_attempts: int,
                     deliverable: Deliverability, redeemed: AuditEntry, burned: AuditEntry,
                     grants: Sequence[tuple[str, str, str, int]] = ()) -> Redemption:
        """The token request's store step, atomic: find the open, unexpired offer of ``code_hash``; count one
        PIN attempt (kind "pin_attempts", kept durably for the offer's lifetime) *before* comparing; past
        ``max_attempts``: "exhausted"; a wrong ``tx_code_hash``: "wrong_pin", and the attempt that reaches
        the limit burns the offer and appends ``burned``; the right one: unless the record is deliverable
        (``deliverable``) "undeliverable" with nothing spent, else the offer is redeemed (exactly one
        concurrent caller), ``redeemed`` is appended to the audit chain (as append_audit) and the ephemeral
        ``grants`` (kind, key, value, ttl: the access token and its delivery rights) are put — in the same
        step where they live in the same store, else right after it."""
        ...

    # --- sequences (document numbers) ----------------------------------------------------------------
    def allocate_number(self, sequence: str) -> int:
        """The next number of the named sequence (1, 2, 3, ...), each handed out exactly once, also to
        concurrent callers. Kept for good: no TTL, not dropped by a migration (unlike the counters above),
        since a number handed out twice would be two residents' documents under one number."""
        ...

    # --- officers ------------------------------------------------------------------------------------
    def put_officer(self, officer: Officer) -> None:
        """Insert or replace."""
        ...

    def insert_officer(self, officer: Officer) -> bool:
        """Add a new officer; False, and nothing written, if the id exists."""
        ...

    def change_officer(self, officer: Officer) -> int | None:
        """Replace an existing officer (name, role, districts, disabled), revoke every token of it and bump its
        generation (ending its console sessions), in one atomic step, so that neither a token nor a session
        acts with the new role or districts; how many tokens were live, or None (nothing written) if there is
        no officer with this id."""
        ...

    def get_officer(self, officer_id: str) -> Officer | None: ...

    def list_officers(self) -> list[Officer]: ...

    def add_officer_token(self, token_hash: str, officer_id: str, *, expires_at: int, now: int) -> None: ...

    def officer_for_token(self, token_hash: str, now: int) -> str | None:
        """The officer id of a live (unexpired, unrevoked) token."""
        ...

    def revoke_officer_tokens(self, officer_id: str) -> int:
        """Revoke every token of the officer; returns how many were live."""
        ...

    def revoke_officer_token(self, token_hash: str) -> str | None:
        """Revoke one token; the officer id if it was live (unrevoked), else None."""
        ...

    # --- officers' console credentials (issuer.signin) ---------------------------------------------------
    def get_officer_secrets(self, officer_id: str) -> OfficerSecrets | None:
        """The officer's password hash, sealed TOTP secret, last TOTP step and generation (an officer with
        none set: None, None, 0, 0); None if there is no such officer."""
        ...

    def set_officer_password(self, officer_id: str, password_hash: str) -> int | None:
        """Replace the password hash and bump the generation (ending every console session of the officer)
        in one step; the new generation, or None (nothing written) if there is no such officer."""
        ...

    def set_officer_totp(self, officer_id: str, totp_sealed: str | None, *, generation: int | None = None) -> int | None:
        """Enrol (a sealed secret) or reset (None) the TOTP secret, start its steps over (last step 0) and bump
        the generation, in one step, only if the officer exists and, when ``generation`` is given, is still at
        it (an enrolment begun before a password change or a reset must not land). The new generation, or None
        (nothing written)."""
        ...

    def use_totp_step(self, officer_id: str, step: int, *, generation: int) -> bool:
        """Record ``step`` as used, only if it is later than the last used step and the officer is still at
        ``generation`` (the code was checked against the secret of that generation). Exactly one concurrent
        caller with the same step gets True."""
        ...

    def end_officer_sessions(self, officer_id: str) -> int | None:
        """Bump the generation (every console session of the officer ends); the new one, None if no officer."""
        ...

    # --- console sessions (server-side: the cookie holds a random id, the store its hash) --------------
    def add_officer_session(self, session_hash: str, officer_id: str, *, generation: int, expires_at: int,
                            now: int) -> None:
        """A session of ``officer_id``, opened when the officer was at ``generation``."""
        ...

    def officer_for_session(self, session_hash: str, now: int) -> str | None:
        """The officer id of a live session: not ended, unexpired, and opened at the officer's current
        generation, so that a password change, a TOTP reset, a change or disabling ends it at once."""
        ...

    def end_officer_session(self, session_hash: str) -> bool:
        """End a session (sign-out); False if there was none."""
        ...

    # --- publication ---------------------------------------------------------------------------------
    def put_published_status_list(self, list_no: int, published: PublishedStatusList, *, generation: int) -> bool:
        """Keep the token unless one signed over a later generation is already stored."""
        ...

    def get_published_status_list(self, list_no: int) -> StoredStatusList | None: ...

    def get_trust_list(self) -> StoredTrustList | None: ...

    def put_trust_list(self, trust_list: StoredTrustList) -> bool:
        """Keep it unless a higher version is already stored."""
        ...

    # --- audit ---------------------------------------------------------------------------------------
    def audit_chains(self) -> list[str]:
        """The audit log's chains, "" (the global chain) first. A sharded back end keeps one chain per shard
        (the entries about a district's records, appended in the step that changes them) besides the global
        one (every other entry); each chain has its own seq from 1 and is verified on its own."""
        ...

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        """Append to the hash chain of the entry's record's shard (global: none or an unknown record) in one
        atomic step: read the last entry (seq, hash; none: 0, GENESIS),
        store ``issuer.audit.chained(entry, seq=last_seq + 1, prev_hash=last_hash)`` and return it.
        Concurrent appends must serialise (SQLite: one BEGIN IMMEDIATE; Redis: WATCH/MULTI or Lua)."""
        ...

    def list_audit(self, *, after: int = 0, limit: int = 100, chain: str = "") -> list[AuditEntry]:
        """Entries of ``chain`` with seq > ``after``, by seq, exactly as stored (with prev_hash and hash)."""
        ...

    def audit_of_record(self, record_id: str, *, before: int | None = None, limit: int = 100) -> list[AuditEntry]:
        """The entries naming ``record_id`` with seq < ``before`` (None: up to the head), newest first, at most
        ``limit``, exactly as stored: read through a per-record index, never by scanning the log (the record
        page reads a record's history on every view; the log grows by every action of every office)."""
        ...

    def audit_head(self, chain: str = "") -> tuple[int, str] | None:
        """(seq, hash) of the last entry of ``chain``, None for an empty one: one read (the auditor's page)."""
        ...
