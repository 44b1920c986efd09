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

import csv
import io
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from issuer.errors import IssuerError, StateConflictError
from issuer.reasons import ReasonCode
from issuer.records import Offer, Record, RecordState
from issuer.service import IssuerService
from issuer.store import Store
from keys import Purpose
from keys.keystore import write_private_file

DRILL_OFFICER = "key-compromise-drill"
SMS_COLUMNS = ("record_id", "document_number", "name", "offer_uri", "pin", "expires_at")


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


def sms_rows(service: IssuerService, outcomes: Iterable[Outcome]) -> list[dict[str, str]]:
    """One row per new offer: what the SMS to the resident carries (the PIN is shown only here, once)."""
    rows = []
    for outcome in outcomes:
        if outcome.offer is None:
            continue
        permit = service.get_record(outcome.record_id).permit
        rows.append({
            "record_id": outcome.record_id,
            "document_number": permit.document_number,
            "name": permit.holder.name,
            "offer_uri": "openid-credential-offer://?credential_offer_uri="
                         + quote(f"{service.settings.public_url}/offers/{outcome.offer.offer_id}", safe=""),
            "pin": outcome.offer.tx_code,
            "expires_at": str(outcome.offer.expires_at),
        })
    return rows


def write_sms_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """The SMS batch as CSV, written 0600 (it holds pickup PINs); refuses to overwrite a file."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SMS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _csv_safe(value) for name, value in row.items()})
    write_private_file(path, text.getvalue().encode("utf-8"))


def _csv_safe(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ as a formula (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
