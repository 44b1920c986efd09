"""Pickup sheets, SMS batches and the demo's offer hold live pickups: 0600, even over an existing file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from epermit.cli.sheet import SmsRow, write_sheet, write_sms_csv
from epermit.private_files import open_private, private_folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_sheet_written_over_a_loose_file_is_owner_only(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.html"
    sheet.write_text("old")
    sheet.chmod(0o644)  # os.open's mode alone would keep this
    write_sheet([], sheet, public_url="https://permits.example", title="pickups")
    assert mode(sheet) == 0o600 and "pickups" in sheet.read_text()


def test_the_sms_file_is_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = tmp_path / "sms.csv"
        row = SmsRow("+8613800000000", "rec", "DJK-1", "张伟", "https://permits.example/pickup/x",
                     "openid-credential-offer://?x", "123456", 1)
        assert write_sms_csv(path, [row]) == 1
        assert mode(path) == 0o600
        with pytest.raises(FileExistsError):
            write_sms_csv(path, [row])
    finally:
        os.umask(previous)


def test_a_link_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("not ours to write")
    (tmp_path / "sheet.html").symlink_to(target)
    with pytest.raises(OSError):
        open_private(tmp_path / "sheet.html")
    assert target.read_text() == "not ours to write"


def test_a_private_folder_is_made_or_tightened(tmp_path: Path) -> None:
    made = private_folder(tmp_path / "new" / "data")
    assert mode(made) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    assert mode(private_folder(loose)) == 0o700
