"""Bulk issuance from CSV: every bad row reported with its line, nothing issued unless --skip-bad;
the printable sheet and the SMS file; and the `epermit issue` command end to end."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from credential.model import Permit
from credential.samples import sample_permit
from epermit.cli import main
from epermit.cli.issue import run_bulk
from epermit.cli.sheet import SmsRow, write_sheet, write_sms_csv
from epermit.public_url import remember_public_url
from issuer.bulk import read_rows, validate_rows
from issuer.desk import OfficerDesk
from issuer.model import Officer, Role, pickup_url
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, save_keyring

from .conftest import PUBLIC_URL
from .office import CARD, HOME, officers
from .test_console_routes import qr_texts

COLUMNS = [*sample_permit().to_dict(), "phone"]
OFFICE_URL = "https://permits.example.gov.cn"  # the wallet API's public origin the office folder remembers


def row(permit_dict: dict[str, object], phone: str = "13800138000") -> list[str]:
    values = {**permit_dict, "phone": phone}
    return ["" if values[c] is None else str(values[c]) for c in COLUMNS]


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def applications(card_permit: Permit = CARD, permit_permit: Permit | None = None) -> bytes:
    card = card_permit.to_dict()
    permit = (permit_permit or sample_permit()).to_dict()
    other_card = dataclasses.replace(card_permit, holder=sample_permit(resident=1).holder,
                                     document_number="DJK-110105-2025-000002").to_dict()
    bad_id = {**other_card, "citizen_id": "650102199507213420", "document_number": "DJK-X"}
    far = {**other_card, "district": "310101", "document_number": "DJK-Y"}
    return csv_bytes([row(card), row(permit), row(other_card, phone=""), row(bad_id), row(far),
                      row({**card, "sex": "x", "document_number": "DJK-Z"}), ["too", "short"]])


def applications_today() -> bytes:
    """The same rows dated from today (Beijing time): the CLI runs on the real clock."""
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
    card = dataclasses.replace(CARD, valid_from=today - datetime.timedelta(days=200),
                               valid_until=today + datetime.timedelta(days=164))
    return applications(card, sample_permit(valid_from=today, valid_until=today + datetime.timedelta(days=364)))


@pytest.fixture
def desk(service: IssuerService) -> OfficerDesk:
    return OfficerDesk(service)


def test_bad_rows_are_reported_by_line_and_nothing_is_issued(desk: OfficerDesk) -> None:
    office = officers(desk)
    clerk, io_ = office[(Role.CLERK, HOME)], office[(Role.ISSUING_OFFICER, HOME)]
    issued, bad = run_bulk(desk, applications(), clerk=clerk, officer=io_, skip_bad=False, progress=False)
    assert issued == []
    assert [(b.line, b.reason.split(":")[0]) for b in bad] == [
        (5, "citizen_id"), (6, "forbidden"), (7, "sex"), (8, "csv")]
    assert desk.service.store.records_of_holder(CARD.holder.citizen_id) == []
    assert [e.outcome for e in desk.service.audit.list(limit=100)] == ["denied"]  # the other district's row


def test_skip_bad_issues_the_good_rows_through_the_desk(desk: OfficerDesk, tmp_path: Path) -> None:
    office = officers(desk)
    clerk, io_ = office[(Role.CLERK, HOME)], office[(Role.ISSUING_OFFICER, HOME)]
    issued, bad = run_bulk(desk, applications(), clerk=clerk, officer=io_, skip_bad=True, progress=True)
    assert [r.line for r in issued] == [2, 3, 4] and len(bad) == 4  # the permit row relies on the card row above
    actions = [(e.officer, e.action) for e in desk.service.audit.list(limit=100) if e.outcome == "ok"]
    assert actions.count((clerk.id, "register")) == 3 and actions.count((io_.id, "create_offer")) == 3
    sheet, sms = tmp_path / "sheet.html", tmp_path / "sms.csv"
    write_sheet(issued, sheet, public_url=PUBLIC_URL, title="朝阳 pickups")
    text = sheet.read_text()
    assert text.count("data:image/png;base64,") == 3 and issued[0].offer.tx_code in text and "张伟" in text
    assert qr_texts(text) == [pickup_url(PUBLIC_URL, row.offer.offer_id) for row in issued]  # a camera opens it
    assert os.stat(sheet).st_mode & 0o777 == 0o600
    assert write_sms_csv(sms, [SmsRow.of_bulk(row, PUBLIC_URL) for row in issued if row.phone]) == 2
    lines = list(csv.reader(sms.open()))
    assert lines[0] == ["phone", "record_id", "document_number", "name", "pickup_url", "offer_uri", "pin",
                        "expires_at"]
    assert lines[1][0] == "13800138000" and lines[1][4] == f"{PUBLIC_URL}/pickup/{issued[0].offer.offer_id}"
    assert lines[1][5].startswith("openid-credential-offer://")
    assert os.stat(sms).st_mode & 0o777 == 0o600


def test_a_role_that_may_not_register_reports_every_row(desk: OfficerDesk) -> None:
    office = officers(desk)
    good, bad = validate_rows(read_rows(applications()), desk, clerk=office[(Role.AUDITOR, HOME)], now=0)
    assert good == [] and len(bad) == 7


@pytest.mark.parametrize("data", [b"", b"\xff\xfe", b"nope,columns\n1,2\n", b"type,type\n", b'"a\n'])
def test_unusable_files(desk: OfficerDesk, data: bytes) -> None:
    with pytest.raises(Exception) as bad:
        read_rows(data)
    assert getattr(bad.value, "field", None) == "csv"


@dataclass
class OfficeFolder:
    data: Path
    applications: Path
    store: SQLiteStore

    def issue(self, *extra: str) -> int:
        return main(["issue", "--csv", str(self.applications), "--data", str(self.data), "--officer", "io",
                     "--clerk", "clerk", "--no-progress", *extra])

    def registered(self) -> int:
        return len(self.store.records_of_holder(CARD.holder.citizen_id))


@pytest.fixture
def office_folder(tmp_path: Path, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> OfficeFolder:
    data = tmp_path / "office"
    (data / "keys").mkdir(parents=True)
    save_keyring(keyring, data / "keys", b"test passphrase", scrypt_n=2**14)
    store = SQLiteStore(data / "epermit.sqlite3")
    registry = OfficerRegistry(store)
    registry.put(Officer("clerk", "柜员", Role.CLERK, (HOME,)))
    registry.put(Officer("io", "民警", Role.ISSUING_OFFICER, (HOME,)))
    applications_csv = tmp_path / "applications.csv"
    applications_csv.write_bytes(applications_today())
    monkeypatch.setenv("EPERMIT_KEY_PASSPHRASE", "test passphrase")
    remember_public_url(data, OFFICE_URL)  # as `epermit serve --public-url` leaves it
    return OfficeFolder(data, applications_csv, store)


def test_the_command(office_folder: OfficeFolder, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    applications_csv = office_folder.applications
    assert office_folder.issue() == 1
    err = capsys.readouterr().err
    assert f"{applications_csv}:5: citizen_id" in err and "nothing issued" in err
    sheet = tmp_path / "sheet.html"
    assert office_folder.issue("--skip-bad", "--sheet", str(sheet), "--sms-csv", str(tmp_path / "sms.csv")) == 0
    out = capsys.readouterr().out
    assert re.match(r"已签发 3 份领取，跳过 4 行有误的申请。issued 3 offer\(s\); skipped 4 bad row\(s\); sheet ", out)
    assert sheet.is_file()
    assert office_folder.registered() == 2  # 张伟's card and permit
    assert main(["issue", "--csv", str(applications_csv), "--data", str(office_folder.data), "--officer",
                 "nobody"]) == 2  # usage


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


@pytest.mark.parametrize("where", ["no such folder", "a folder", "an existing SMS file"])
def test_an_unwritable_output_leaves_nothing_issued_and_a_rerun_works(
    office_folder: OfficeFolder, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    # The sheet and the SMS file are the only copies of the PINs: nothing may be stored before they are written.
    sheet, sms = tmp_path / "out" / "sheet.html", tmp_path / "out" / "sms.csv"
    if where == "a folder":
        sheet.mkdir(parents=True)
    elif where == "an existing SMS file":
        sms.parent.mkdir()
        sms.write_text("yesterday's batch\n")
    assert office_folder.issue("--skip-bad", "--sheet", str(sheet), "--sms-csv", str(sms)) == 2
    assert "nothing issued" in capsys.readouterr().err
    assert office_folder.registered() == 0
    assert [e.action for e in office_folder.store.list_audit(limit=100) if e.outcome == "ok"] == []
    if sheet.parent.is_dir():
        assert leftovers(sheet.parent) == []
    good_sheet, good_sms = tmp_path / "sheet.html", tmp_path / "sms.csv"
    assert office_folder.issue("--skip-bad", "--sheet", str(good_sheet), "--sms-csv", str(good_sms)) == 0
    assert office_folder.registered() == 2 and leftovers(tmp_path) == []
    pins = [row["pin"] for row in csv.DictReader(good_sms.open(encoding="utf-8"))]
    assert len(pins) == 2 and all(pin in good_sheet.read_text() for pin in pins)
    assert os.stat(good_sheet).st_mode & 0o777 == 0o600 and os.stat(good_sms).st_mode & 0o777 == 0o600


def test_a_store_failure_leaves_no_sheet_and_no_offers(office_folder: OfficeFolder, tmp_path: Path) -> None:
    conn = sqlite3.connect(office_folder.data / "epermit.sqlite3")
    conn.execute("CREATE TRIGGER full BEFORE INSERT ON offers BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    conn.close()
    sheet = tmp_path / "sheet.html"
    assert office_folder.issue("--skip-bad", "--sheet", str(sheet)) != 0
    assert not sheet.exists() and leftovers(tmp_path) == []
    assert office_folder.registered() == 0
