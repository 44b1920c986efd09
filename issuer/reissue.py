"""The compromise drill's second half: find every credential a revoked key signed and re-issue it in bulk.

After ``epermit keys revoke KID`` (and a restart of the issuer with the new key ring), the registry knows
which key signed each delivered credential (``Store.deliveries_signed_by``). For each affected record:

- ACTIVE: the record's live credentials are retired (status INVALID, for good) and a new pickup offer is
  made, in one step (``IssuerService.redeliver``, audited with the key id); the offers go out by SMS;
- SUSPENDED: nothing is re-issued now (the officer lifts the suspension, then re-delivers); its credentials
  already fail as UNTRUSTED_ISSUER once verifiers hold the new trust list;
- REVOKED: nothing to do.

Commands: ``epermit keys affected KID --data DIR`` lists them; ``epermit reissue --kid KID --data DIR
[--sms-csv FILE]`` re-issues with a progress bar (tqdm).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from issuer.errors import IssuerError, StateConflictError
from issuer.model import Offer, ReasonCode, Record, RecordState
from issuer.service import IssuerService
from issuer.store import Store
from keys import Purpose

DRILL_OFFICER = "key-compromise-drill"


@dataclass(frozen=True)
class Affected:
    record: Record
    credentials: tuple[tuple[int, int], ...]  # (list_no, idx) of the live credentials the key signed


@dataclass(frozen=True)
class Outcome:
    record_id: str
    action: str  # "reissued" | "skipped_suspended" | "skipped_revoked" | "failed"
    offer: Offer | None = None
    retired: tuple[tuple[int, int], ...] = ()
    detail: str = ""


def affected_records(store: Store, kid: str) -> list[Affected]:
    """Every record with a live credential signed by ``kid``, in record id order."""
    by_record: dict[str, list[tuple[int, int]]] = {}
    for record_id, list_no, idx in store.deliveries_signed_by(kid):
        by_record.setdefault(record_id, []).append((list_no, idx))
    found = []
    for record_id, credentials in sorted(by_record.items()):
        record = store.get_record(record_id)
        if record is not None:
            found.append(Affected(record, tuple(credentials)))
    return found


def reissue(service: IssuerService, kid: str, *, officer: str = DRILL_OFFICER, progress: bool = True,
            progress_file: TextIO | None = None) -> list[Outcome]:
    """Retire and re-offer every ACTIVE record ``kid`` signed for; refuses while ``kid`` still signs."""
    now = service.clock()
    if service.keyring.signer_for(Purpose.CREDENTIAL, now=now).kid == kid:
        raise StateConflictError(f"key {kid} still signs credentials: revoke it (epermit keys revoke) and restart first")
    affected = affected_records(service.store, kid)
    outcomes = []
    for item in _bar(affected, progress, progress_file):
        record = service.get_record(item.record.id)  # fresh: its state may have moved since the listing
        if record.state is RecordState.SUSPENDED:
            outcomes.append(Outcome(record.id, "skipped_suspended", detail="lift, then re-deliver"))
            continue
        if record.state is RecordState.REVOKED:
            outcomes.append(Outcome(record.id, "skipped_revoked"))
            continue
        try:
            retired, offer = service.redeliver(record.id, officer=officer, reason=f"signing key {kid} compromised",
                                               reason_code=ReasonCode.OTHER)
        except IssuerError as exc:  # one record's trouble does not stop the drill; it is reported
            outcomes.append(Outcome(record.id, "failed", detail=str(exc)))
            continue
        outcomes.append(Outcome(record.id, "reissued", offer=offer, retired=tuple(retired)))
    return outcomes


def _bar(items: list[Affected], progress: bool, file: TextIO | None) -> Iterable[Affected]:
    if not progress:
        return items
    from tqdm import tqdm  # type: ignore[import-untyped]

    bar: Iterable[Affected] = tqdm(items, desc="re-issuing", unit="record", file=file or sys.stderr)
    return bar
