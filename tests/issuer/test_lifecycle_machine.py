"""A hypothesis state machine over the lifecycle: whatever officers and wallets do, the published, signed
status lists always say exactly what replaying the audit log says, and the chain always verifies."""

from __future__ import annotations

import re
import tempfile
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from credential.model import CredentialType
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME, sample_permit
from credential.statuslist import INVALID, SUSPENDED, VALID, verify_status_list_token
from issuer.audit import all_entries, verify_chain
from issuer.errors import StateConflictError
from issuer.model import AuditEntry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, KeySigner, Purpose
from tests.conftest import T0, FakeClock

from .conftest import PUBLIC_URL

_STATUS = {"active": VALID, "suspended": SUSPENDED, "revoked": INVALID}
_MOVES = {"suspend": "suspended", "lift": "active", "revoke": "revoked", "register": "active"}
_PAIR = re.compile(r"(\d+)/(\d+)")


@cache
def machine_keyring() -> KeyRing:
    return KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=T0 - 86400)


def replay(entries: list[AuditEntry]) -> dict[tuple[int, int], int]:
    """The status every delivered credential must have, from the audit log alone."""
    state: dict[str, str] = {}
    live: dict[str, set[tuple[int, int]]] = {}
    retired: set[tuple[int, int]] = set()
    for e in entries:
        if e.outcome != "ok" or e.record_id is None:
            continue
        if e.action in _MOVES:
            state[e.record_id] = _MOVES[e.action]
        elif e.action == "deliver":
            pairs = {(int(a), int(b)) for a, b in _PAIR.findall(e.reason.partition("; status ")[2])}
            live.setdefault(e.record_id, set()).update(pairs)
        elif e.action == "redeliver":
            pairs = {(int(a), int(b)) for a, b in _PAIR.findall(e.reason.rpartition("; retired ")[2])}
            live[e.record_id] = live.get(e.record_id, set()) - pairs
            retired |= pairs
    expected = {pair: INVALID for pair in retired}
    for record_id, pairs in live.items():
        expected.update({pair: _STATUS[state[record_id]] for pair in pairs})
    return expected


class Lifecycle(RuleBasedStateMachine):
    records = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.clock = FakeClock()
        self.store = SQLiteStore(Path(self.dir.name) / "epermit.sqlite3")
        self.service = IssuerService(self.store, machine_keyring(), IssuerSettings(PUBLIC_URL, status_list_size=2048),
                                     self.clock)
        self.count = 0

    def teardown(self) -> None:
        self.store.close()
        self.dir.cleanup()

    @rule(target=records, card=st.booleans())
    def register(self, card: bool) -> str:
        self.count += 1
        kind = CredentialType.RESIDENCE_REGISTRATION if card else CredentialType.RESIDENCE_PERMIT
        permit = sample_permit(kind, resident=self.count % 2, document_number=f"DOC-{self.count}")
        return self.service.register(permit, officer="clerk").id

    @rule(record=records, holders=st.integers(1, 2))
    def pick_up(self, record: str, holders: int) -> None:
        self.clock.advance(1)
        try:
            offer = self.service.create_offer(record, officer="io")
            token = self.service.redeem(offer.pre_authorized_code, offer.tx_code)
            self.service.deliver(token, [KeySigner.generate().public_key for _ in range(holders)],
                                 offer.configuration_ids[0])
        except StateConflictError:
            assert self.service.get_record(record).state.value != "active"

    @rule(record=records, action=st.sampled_from(["suspend", "lift", "revoke", "redeliver"]))
    def change(self, record: str, action: str) -> None:
        self.clock.advance(1)
        before = self.service.get_record(record).state.value
        try:
            getattr(self.service, action)(record, officer="sup", reason="step", reason_code="OTHER")
        except StateConflictError:
            allowed = {"suspend": ["active"], "lift": ["suspended"], "revoke": ["active", "suspended"],
                       "redeliver": ["active"]}[action]
            assert before not in allowed
            assert self.service.get_record(record).state.value == before

    @invariant()
    def published_lists_equal_the_replayed_audit_log(self) -> None:
        entries = list(all_entries(self.store))
        verify_chain(entries)
        expected = replay(entries)
        status_key = {s.kid: s.public_key for s in machine_keyring().signers_of(Purpose.STATUS)}
        for uri in self.service.status_list_uris():
            list_no = int(uri.rsplit("/", 1)[1])
            token = self.service.published_status_list(uri).token
            bits = verify_status_list_token(token, uri=uri, resolve_key=status_key.__getitem__,
                                            now=self.clock()).status_list
            for (n, idx), value in expected.items():
                if n == list_no:
                    assert bits.get(idx) == value, (n, idx)
        delivered = {pair for rid in {e.record_id for e in entries if e.record_id}
                     for pair in self.store.delivered(rid)}
        assert delivered == set(expected)


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(max_examples=25, stateful_step_count=20, deadline=None,
                                  suppress_health_check=[HealthCheck.too_slow])
