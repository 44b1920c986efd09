"""What a bulk issuance hands out and hands back: the printable sheet (no PIN on a QR tile), the SMS file's
expiry in Beijing time, the mainland phone rule, the rejected rows (a CSV submitted again as it is), the
progress bar, and the public URL the links point at (remembered, checked)."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from credential.citizen_id import citizen_id_check_digit
from credential.errors import InvalidApplicationError
from credential.model import Holder
from credential.samples import sample_permit
from epermit.cli import main
from epermit.cli.issue import run_bulk
from epermit.cli.sheet import SmsRow, sheet_html, write_sms_csv
from epermit.public_url import PUBLIC_URL_FILE, remember_public_url, remembered_public_url
from issuer.bulk import IssuedRow, mainland_mobile, read_rows
from issuer.desk import OfficerDesk
from issuer.model import Role, pickup_url
from issuer.service import IssuerService

from .conftest import PUBLIC_URL
from .office import CARD, HOME, officers
from .test_bulk import OFFICE_URL, OfficeFolder, csv_bytes, office_folder, row
from .test_console_routes import qr_texts

__all__ = ["office_folder"]  # the fixture, shared with test_bulk


class Sheet(HTMLParser):
    """The text inside every element marked data-testid=pickup-tile / pin-slip, in document order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tiles: list[str] = []
        self.slips: list[str] = []
        self.ids: dict[str, str] = {}
        self._open: list[tuple[str, list[str] | None]] = []  # (tag, the list its text goes to)
        self._where: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        kind = {"pickup-tile": self.tiles, "pin-slip": self.slips}.get(found.get("data-testid") or "")
        if kind is not None:
            kind.append("")
            self._open.append((tag, kind))
        elif tag not in ("img", "br", "meta"):
            self._open.append((tag, None))
        if found.get("id"):
            self._where = found["id"]
            self.ids[self._where or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for _, kind in self._open:
            if kind is not None:
                kind[-1] += data
        if self._where is not None:
            self.ids[self._where] += data


@pytest.fixture
def desk(service: IssuerService) -> OfficerDesk:
    return OfficerDesk(service)


def wang_min(first17: str) -> Holder:
    """A woman called 王敏 born 1992-04-08 (an even sequence digit), with her own citizen ID."""
    return dataclasses.replace(sample_permit(resident=1).holder, name="王敏", name_pinyin="WANG MIN", ethnicity=1,
                               birth_date=datetime.date(1992, 4, 8),
                               citizen_id=first17 + citizen_id_check_digit(first17))


def two_wang_min() -> bytes:
    """张伟's card, then two residents called 王敏 (a card each): the sheet must tell the 王敏 apart."""
    first = dataclasses.replace(CARD, holder=wang_min("11010519920408002"), document_number="DJK-110105-2025-000011")
    second = dataclasses.replace(CARD, holder=wang_min("41010219920408004"), document_number="DJK-110105-2025-000012")
    return csv_bytes([row(CARD.to_dict()), row(first.to_dict()), row(second.to_dict(), phone="+86 139-0013-9000")])


def issued_rows(desk: OfficerDesk, data: bytes) -> list[IssuedRow]:
    office = officers(desk)
    issued, bad = run_bulk(desk, data, clerk=office[(Role.CLERK, HOME)], officer=office[(Role.ISSUING_OFFICER, HOME)],
                           skip_bad=False, progress=False)
    assert bad == []
    return issued


def test_no_pin_sits_on_a_qr_tile(desk: OfficerDesk) -> None:
    issued = issued_rows(desk, two_wang_min())
    text = sheet_html(issued, public_url=PUBLIC_URL, title="applications.csv")
    sheet = Sheet(text)
    pins = [r.offer.tx_code for r in issued]
    assert len(sheet.tiles) == len(sheet.slips) == 3
    for tile in sheet.tiles:
        assert not any(pin in tile for pin in pins), tile
    # The slips come after every tile (their own pages), in the tiles' order, each with its own PIN.
    assert text.index('data-testid="pin-slip"') > text.rindex('data-testid="pickup-tile"')
    assert 'id="pin-slips"' in text and "break-before: page" in text
    for tile, slip, issued_row in zip(sheet.tiles, sheet.slips, issued, strict=True):
        assert issued_row.offer.tx_code in slip
        for mark in (issued_row.document_number, issued_row.citizen_id_last4):
            assert mark in tile and mark in slip  # a slip is matched to its tile, never by the name
        assert issued_row.name in tile and issued_row.name not in slip
    # Two 王敏: the same name, told apart by document number and the citizen ID's last four.
    wang = [t for t in sheet.tiles if "王敏" in t]
    assert len(wang) == 2 and issued[1].citizen_id_last4 != issued[2].citizen_id_last4
    assert issued[1].citizen_id_last4 == wang_min("11010519920408002").citizen_id[-4:]
    # Each QR is the pickup page, nothing else; the title names the type; one line names the wallet.
    assert qr_texts(text) == [pickup_url(PUBLIC_URL, r.offer.offer_id) for r in issued]
    assert sheet.ids["sheet-title"].startswith("电子居住登记卡领取单 · Electronic registration card pickup sheet")
    assert "epermit 钱包" in sheet.ids["which-wallet"] and "epermit wallet" in sheet.ids["which-wallet"]
    expiry = datetime.datetime.fromtimestamp(issued[0].offer.expires_at, datetime.timezone(datetime.timedelta(hours=8)))
    assert expiry.strftime("%Y-%m-%d %H:%M") + "+08:00" in sheet.tiles[0] and "北京时间" in sheet.tiles[0]


def test_a_sheet_of_both_types_names_both(desk: OfficerDesk) -> None:
    issued = issued_rows(desk, applications_of_both())
    assert {r.credential_type.slug for r in issued} == {"residence_registration", "residence_permit"}
    title = Sheet(sheet_html(issued, public_url=PUBLIC_URL, title="b.csv")).ids["sheet-title"]
    assert title.startswith("电子居住证 / 居住登记卡领取单") and "residence permit / registration card" in title
    kinds = [t.split("·")[0].strip() for t in Sheet(sheet_html(issued, public_url=PUBLIC_URL, title="b")).tiles]
    assert kinds == ["电子居住登记卡", "电子居住证"]


def applications_of_both() -> bytes:
    return csv_bytes([row(CARD.to_dict()), row(sample_permit().to_dict())])


def test_the_sms_file_says_when_the_offer_ends_in_beijing_time(desk: OfficerDesk, tmp_path: Path) -> None:
    issued = issued_rows(desk, two_wang_min())
    sms = tmp_path / "sms.csv"
    write_sms_csv(sms, [SmsRow.of_bulk(r, PUBLIC_URL) for r in issued])
    rows = list(csv.DictReader(sms.open(encoding="utf-8")))
    when = datetime.datetime.fromisoformat(rows[0]["expires_at"])
    assert when.utcoffset() == datetime.timedelta(hours=8) and int(when.timestamp()) // 60 == issued[0].offer.expires_at // 60
    assert rows[2]["phone"] == "13900139000"  # "+86 139-0013-9000" kept as its 11 digits


@pytest.mark.parametrize(("given", "kept"), [
    ("13800138000", "13800138000"), ("+8613800138000", "13800138000"), ("8619912345678", "19912345678"),
    ("138 0013 8000", "13800138000"), ("+86 138-0013-8000", "13800138000"), ("", ""),
])
def test_mainland_mobiles_are_kept_as_eleven_digits(given: str, kept: str) -> None:
    assert mainland_mobile(given) == kept


@pytest.mark.parametrize("given", ["12800138000", "1380013800", "138001380000", "+1 415 555 0100", "+44 7700 900123",
                                   "010-12345678", "１３８００１３８０００", "138OO138000", "+86+8613800138000"])
def test_other_numbers_are_refused(given: str) -> None:
    with pytest.raises(InvalidApplicationError) as refused:
        mainland_mobile(given)
    assert refused.value.field == "phone"


def test_a_row_with_a_foreign_number_is_rejected_with_its_line(desk: OfficerDesk) -> None:
    office = officers(desk)
    data = csv_bytes([row(CARD.to_dict(), phone="+1 415 555 0100")])
    issued, bad = run_bulk(desk, data, clerk=office[(Role.CLERK, HOME)], officer=office[(Role.ISSUING_OFFICER, HOME)],
                           skip_bad=True, progress=False)
    assert issued == [] and [(b.line, b.reason.split(":")[0]) for b in bad] == [(2, "phone")]


def test_the_progress_bar_covers_checking_issuing_and_the_sheet(
    office_folder: OfficeFolder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "sheet.html"
    assert main(["issue", "--csv", str(office_folder.applications), "--data", str(office_folder.data),
                 "--officer", "io", "--clerk", "clerk", "--skip-bad", "--progress", "--sheet", str(sheet)]) == 0
    err = capsys.readouterr().err
    assert "检查 checking" in err and "7/7" in err  # every row checked
    assert "签发 issuing" in err and "领取单 sheet" in err and "3/3" in err
    assert office_folder.issue("--skip-bad") == 0  # --no-progress (and no terminal): no bar at all
    assert "checking" not in capsys.readouterr().err


def test_rejected_rows_come_back_as_a_csv_that_is_submitted_again_as_it_is(
    office_folder: OfficeFolder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert office_folder.issue() == 1  # bad rows: nothing issued, the rejected ones written beside the input
    rejected = office_folder.applications.with_name("applications.rejected.csv")
    assert "applications.rejected.csv" in capsys.readouterr().err
    assert os.stat(rejected).st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(rejected.open(encoding="utf-8")))
    header = next(csv.reader(rejected.open(encoding="utf-8")))
    assert header[0] == "line" and header[-2:] == ["reason_zh", "reason_en"]
    assert header[1:-2] == next(csv.reader(office_folder.applications.open(encoding="utf-8")))
    assert [r["line"] for r in rows] == ["5", "6", "7", "8"]
    by_line = {r["line"]: r for r in rows}
    assert by_line["5"]["reason_zh"].startswith("公民身份号码：校验码不符")
    assert by_line["5"]["reason_en"].startswith("Citizen ID: The check digit is wrong")
    assert "辖区" in by_line["6"]["reason_zh"] and "district" in by_line["6"]["reason_en"]
    assert by_line["7"]["reason_zh"].startswith("性别") and by_line["8"]["reason_zh"].startswith("本行的列数")
    for r in rows:  # words for a clerk, not the validator's messages
        assert "_" not in r["reason_zh"] + r["reason_en"], r
    # The clerk corrects line 5's citizen ID in the rejected file and submits that file as it is.
    fixed = tmp_path / "fixed.csv"
    lines = list(csv.reader(rejected.open(encoding="utf-8")))
    lines = [lines[0], *[ln for ln in lines[1:] if ln[0] == "5"]]
    resident = sample_permit(resident=1).holder.citizen_id
    lines[1][header.index("citizen_id")] = resident
    with fixed.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(lines)
    assert main(["issue", "--csv", str(fixed), "--data", str(office_folder.data), "--officer", "io",
                 "--clerk", "clerk", "--no-progress"]) == 0
    assert "issued 1 offer(s); skipped 0 bad row(s)" in capsys.readouterr().out
    assert [r.permit.document_number for r in office_folder.store.records_of_holder(resident)] == ["DJK-X"]
    assert not fixed.with_name("fixed.rejected.csv").exists()
    # The same file again: the rule that the holder already has a card speaks, in words.
    assert main(["issue", "--csv", str(fixed), "--data", str(office_folder.data), "--officer", "io",
                 "--clerk", "clerk", "--no-progress"]) == 1
    again = list(csv.DictReader(fixed.with_name("fixed.rejected.csv").open(encoding="utf-8")))
    assert [r["line"] for r in again] == ["2"] and again[0]["reason_zh"] == "此人已有同类有效证件。"


def test_a_rejected_file_reads_back_with_its_formula_marks_dropped(tmp_path: Path) -> None:
    from epermit.cli.rejected import rejected_csv_text
    from issuer.bulk import BadRow, read_table

    fields = {**{k: str(v) for k, v in CARD.to_dict().items() if v is not None}, "phone": "+8613800138000",
              "address": "=HYPERLINK(1)"}
    text = rejected_csv_text(list(fields), [BadRow(9, "phone: x", fields)])
    assert "'+8613800138000" in text and "'=HYPERLINK" in text  # neutralised for a spreadsheet
    table = read_table(text.encode("utf-8"))
    assert table.header == tuple(fields) and table.rows[0].fields == fields  # the reason columns ignored
    assert read_rows(text.encode("utf-8")) == table.rows


# --- the public URL the links point at ---------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081", "https://127.0.0.1:8443", "https://localhost",
                                 "http://permits.example.gov.cn", "https://[::1]:8081", "https://0.0.0.0"])
def test_links_no_phone_can_open_are_refused(office_folder: OfficeFolder, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str], url: str) -> None:
    sheet, sms = tmp_path / "sheet.html", tmp_path / "sms.csv"
    assert office_folder.issue("--skip-bad", "--public-url", url, "--sheet", str(sheet), "--sms-csv", str(sms)) == 2
    err = capsys.readouterr().err
    assert "--insecure-http" in err and "公共地址" in err and "public URL" in err
    assert not sheet.exists() and not sms.exists() and office_folder.registered() == 0
    # Told explicitly (local testing), it goes ahead.
    assert office_folder.issue("--skip-bad", "--public-url", url, "--insecure-http", "--sms-csv", str(sms)) == 0
    assert next(csv.DictReader(sms.open(encoding="utf-8")))["pickup_url"].startswith(url.rstrip("/") + "/pickup/")


def test_the_remembered_url_is_used_and_the_option_overrides_it(office_folder: OfficeFolder, tmp_path: Path) -> None:
    assert remembered_public_url(office_folder.data) == OFFICE_URL
    assert os.stat(office_folder.data / PUBLIC_URL_FILE).st_mode & 0o777 == 0o600
    sms = tmp_path / "sms.csv"
    assert office_folder.issue("--skip-bad", "--sms-csv", str(sms)) == 0
    assert {r["pickup_url"].split("/pickup/")[0] for r in csv.DictReader(sms.open(encoding="utf-8"))} == {OFFICE_URL}
    other = tmp_path / "other.csv"
    remember_public_url(office_folder.data, "http://127.0.0.1:8081")  # a loopback remembered: refused
    assert office_folder.issue("--skip-bad", "--sms-csv", str(other)) == 2 and not other.exists()


def test_keys_init_remembers_the_public_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import functools

    from epermit.cli import keys as keys_cli
    from keys import init_keys

    monkeypatch.setattr(keys_cli, "init_keys", functools.partial(init_keys, scrypt_n=2**14))
    monkeypatch.setenv("EPERMIT_KEY_PASSPHRASE", "a long operator passphrase")
    data = tmp_path / "office"
    data.mkdir()
    init = ["keys", "init", "--authority-code", "110105", "--authority-name", "北京市公安局朝阳分局"]
    assert main([*init, "--dir", str(data / "keys"), "--public-url", "not a url"]) == 2
    assert not (data / "keys").exists()  # refused before any key is made
    assert main([*init, "--dir", str(data / "keys"), "--public-url", "https://permits.example.gov.cn/"]) == 0
    assert "remembered" in capsys.readouterr().out
    assert remembered_public_url(data) == "https://permits.example.gov.cn"
