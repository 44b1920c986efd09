"""`epermit issue` streams a file of any size: bounded memory, a malformed row mid-file named by its line,
and a run killed with SIGKILL mid-way taken up by the same command, every row issued exactly once (SQLite
and a real redis-server), the SMS file holding exactly the PINs of the stored offers."""

from __future__ import annotations

import csv
import datetime
import hashlib
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from epermit.cli import main
from issuer.bulk.journal import journal_path
from issuer.keyed import OFFER_ID, PRE_AUTHORIZED_CODE, TX_CODE, KeyedHash
from issuer.store import Store
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing

from .bulk_files import card_row, today, write_cards
from .test_bulk import OfficeFolder, office_folder

__all__ = ["office_folder"]
REPO = Path(__file__).resolve().parents[2]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def command(folder: OfficeFolder, csv_path: Path, *extra: str) -> list[str]:
    return ["issue", "--csv", str(csv_path), "--data", str(folder.data), "--officer", "io", "--clerk", "clerk",
            "--no-progress", *extra]


def spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "epermit.cli", *args], cwd=REPO, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def peak_rss_kib(args: list[str], log: Path) -> int:
    """The peak resident set of one `epermit` process (its own rusage, from wait4), in KiB."""
    with log.open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "epermit.cli", *args], cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, log.read_text()
    return int(usage.ru_maxrss)


def test_a_malformed_row_mid_file_is_named_by_its_line(office_folder: OfficeFolder, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    good = card_row(0, today())
    applications = write_cards(tmp_path / "mid.csv", 600, bad={300: good[:5], 450: [*good[:3], "13", *good[4:]]})
    assert main(command(office_folder, applications, "--batch-rows", "100")) == 1
    err = capsys.readouterr().err
    assert f"{applications}:302: csv" in err and f"{applications}:452: " in err and "nothing issued" in err
    rejected = list(csv.DictReader(applications.with_name("mid.rejected.csv").open(encoding="utf-8")))
    assert [r["line"] for r in rejected] == ["302", "452"]
    assert office_folder.store.bulk_progress(digest(applications)).batches == 0 and not journal_path(applications).exists()
    assert main(command(office_folder, applications, "--batch-rows", "100", "--skip-bad")) == 0
    assert "issued 598 offer(s); skipped 2 bad row(s)" in capsys.readouterr().out


def test_a_quote_never_closed_stops_the_file_at_its_line(office_folder: OfficeFolder, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    applications = write_cards(tmp_path / "runaway.csv", 50)
    with applications.open("a", encoding="utf-8") as out:
        out.write('"' + "x" * 100_000 + "\n")  # one field swallowing the rest of the file
    assert main(command(office_folder, applications)) == 1
    err = capsys.readouterr().err
    assert "line 52" in err and "longer than" in err and "nothing issued" in err
    assert not journal_path(applications).exists() and not list(tmp_path.glob(".*.partial"))


@pytest.mark.slow
def test_a_file_past_the_old_cap_streams_in_bounded_memory(office_folder: OfficeFolder, tmp_path: Path) -> None:
    address = "北京市朝阳区" + "幸福大街" * 18  # 78 characters: a long but valid address, ~0.5 KiB a row
    small = write_cards(tmp_path / "small.csv", 1000, address=address)
    big = write_cards(tmp_path / "big.csv", 21_000, address=address, first=1000)
    assert big.stat().st_size > 8 * 1024 * 1024  # the old in-memory cap: this file was refused
    office_folder.store.close()
    base = peak_rss_kib(command(office_folder, small, "--sms-csv", str(tmp_path / "small-sms.csv")), tmp_path / "a.log")
    peak = peak_rss_kib(command(office_folder, big, "--sms-csv", str(tmp_path / "big-sms.csv")), tmp_path / "b.log")
    # 21 times the rows, the same batches: the peak grows by far less than the file (SQLite's page caches,
    # the allocator), where holding the file, its text and its rows would add several times its size.
    assert peak - base < big.stat().st_size // 1024 // 2, (base, peak)
    with (tmp_path / "big-sms.csv").open(encoding="utf-8") as sms:
        assert sum(1 for _ in sms) == 21_001


def issued_exactly_once(store: Store, keyed: KeyedHash, sms: Path, count: int) -> None:
    """Every row once in the SMS file and once in the store, and the file's PIN is its stored offer's."""
    rows = list(csv.DictReader(sms.open(encoding="utf-8")))
    assert len(rows) == count and len({r["document_number"] for r in rows}) == count
    for r in rows:
        record = store.get_record(r["record_id"].removeprefix("'"))  # a leading - is marked as text, not a formula
        assert record is not None and record.permit.document_number == r["document_number"]
        assert len(store.records_of_holder(record.permit.holder.citizen_id)) == 1  # no second record anywhere
        offer_id = r["pickup_url"].rsplit("/", 1)[1]
        offers = store.offers_of_record(record.id)
        assert [o.offer_id for o in offers] == [keyed.digest(OFFER_ID, offer_id)]
        code = keyed.derive(PRE_AUTHORIZED_CODE, offer_id)
        assert offers[0].tx_code_hash == keyed.digest(TX_CODE, code, r["pin"])


def kill_mid_run(args: list[str], store: Store, bulk_id: str, batches: int, env: dict[str, str]) -> int:
    process = spawn(args, env)
    deadline = time.monotonic() + 300
    while store.bulk_progress(bulk_id).batches < 3:
        assert process.poll() is None, process.communicate()[1].decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    stopped = store.bulk_progress(bulk_id).batches
    assert 3 <= stopped < batches, "the run finished before it was killed: make the file larger"
    return stopped


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_a_run_killed_mid_way_resumes_and_issues_every_row_once(
    office_folder: OfficeFolder, tmp_path: Path, backend: str, request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str], keyring: KeyRing,
) -> None:
    count, size = 3000, 100
    applications = write_cards(tmp_path / "city.csv", count)
    sms = tmp_path / "sms.csv"
    location: list[str] = []
    env: dict[str, str] = {}
    store: Store = office_folder.store
    if backend == "redis":
        from issuer.store.redis import RedisStore

        url = request.getfixturevalue("redis_url")
        prefix = "{t" + uuid.uuid4().hex + "}"
        env = {"EPERMIT_REDIS_PREFIX": prefix}
        os.environ["EPERMIT_REDIS_PREFIX"] = prefix
        request.addfinalizer(lambda: os.environ.pop("EPERMIT_REDIS_PREFIX", None))
        location = ["--redis", url]
        store = RedisStore.from_url(url, prefix=prefix)
        for officer_id, role in (("clerk", "clerk"), ("io", "issuing_officer")):
            assert main(["officers", "add", "--data", str(office_folder.data), *location, "--id", officer_id,
                         "--name", "民警", "--role", role, "--district", "110105"]) == 0
    args = command(office_folder, applications, *location, "--batch-rows", str(size), "--sms-csv", str(sms))
    stopped = kill_mid_run(args, store, digest(applications), count // size, env)
    assert not sms.exists() and journal_path(applications).exists()  # in progress: the SMS file still growing
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"issued {count - stopped * size} offer(s)" in out and f"{stopped * size} issued before" in out
    issued_exactly_once(store, KeyedHash(keyring.store_secret), sms, count)
    assert store.bulk_progress(digest(applications)).batches == 0 and not journal_path(applications).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")) == []
    assert os.stat(sms).st_mode & 0o777 == 0o600
    if isinstance(store, SQLiteStore):
        assert len(store.list_audit(limit=10_000)) == 2 * count  # register + create_offer per row, once
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0


def test_pins_written_for_a_batch_that_was_never_stored_are_cut_away(
    office_folder: OfficeFolder, tmp_path: Path, keyring: KeyRing, capsys: pytest.CaptureFixture[str]
) -> None:
    # The store refuses the sixth batch after its PINs are in the SMS file: the window a kill can also hit.
    applications = write_cards(tmp_path / "city.csv", 800)
    sms = tmp_path / "sms.csv"
    conn = sqlite3.connect(office_folder.data / "epermit.sqlite3")
    conn.execute("CREATE TRIGGER full BEFORE INSERT ON offers WHEN (SELECT count(*) FROM offers) >= 500 "
                 "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    conn.commit()
    args = command(office_folder, applications, "--batch-rows", "100", "--sms-csv", str(sms))
    assert main(args) != 0
    assert "5 batch(es) are issued and kept; run the same command again" in capsys.readouterr().err
    partial = tmp_path / ".sms.csv.partial"
    assert sum(1 for _ in partial.open(encoding="utf-8")) == 1 + 600  # the sixth batch's PINs, never stored
    conn.execute("DROP TRIGGER full")
    conn.commit()
    conn.close()
    assert main(args) == 0
    assert "issued 300 offer(s)" in capsys.readouterr().out
    issued_exactly_once(office_folder.store, KeyedHash(keyring.store_secret), sms, 800)
    assert not partial.exists()


def test_a_second_run_of_the_same_file_waits_its_turn(office_folder: OfficeFolder, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from issuer.bulk.journal import Journal

    applications = write_cards(tmp_path / "city.csv", 10)
    held = Journal(journal_path(applications))  # as a run in progress holds it
    try:
        assert main(command(office_folder, applications)) == 1
        assert "another `epermit issue` runs on this file" in capsys.readouterr().err
    finally:
        held.close()
    assert office_folder.store.bulk_progress(digest(applications)).batches == 0
    assert main(command(office_folder, applications)) == 0 and not journal_path(applications).exists()


def test_a_copy_of_a_file_under_way_cannot_take_its_run_over(
    office_folder: OfficeFolder, tmp_path: Path, keyring: KeyRing, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_cards(tmp_path / "city.csv", 400)
    (tmp_path / "copy").mkdir()
    copy = tmp_path / "copy" / "city.csv"
    copy.write_bytes(first.read_bytes())
    conn = sqlite3.connect(office_folder.data / "epermit.sqlite3")
    conn.execute("CREATE TRIGGER full BEFORE INSERT ON offers WHEN (SELECT count(*) FROM offers) >= 200 "
                 "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    conn.commit()
    sms = tmp_path / "sms.csv"
    assert main(command(office_folder, first, "--batch-rows", "100", "--sms-csv", str(sms))) != 0
    conn.execute("DROP TRIGGER full")
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert main(command(office_folder, copy, "--batch-rows", "100")) == 1
    assert "another copy of the file" in capsys.readouterr().err
    assert office_folder.store.bulk_progress(digest(first)).batches == 2 and not journal_path(copy).exists()
    assert main(command(office_folder, first, "--batch-rows", "100", "--sms-csv", str(sms))) == 0
    issued_exactly_once(office_folder.store, KeyedHash(keyring.store_secret), sms, 400)
    # A file changed while its run was interrupted: refused, the PINs of the stored batches are not overwritten.
    conn = sqlite3.connect(office_folder.data / "epermit.sqlite3")
    conn.execute("CREATE TRIGGER full BEFORE INSERT ON offers WHEN (SELECT count(*) FROM offers) >= 600 "
                 "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    conn.commit()
    more = write_cards(tmp_path / "more.csv", 400, first=400)
    sms2 = tmp_path / "sms2.csv"
    assert main(command(office_folder, more, "--batch-rows", "100", "--sms-csv", str(sms2))) != 0
    with more.open("a", encoding="utf-8") as out:
        out.write(",".join(card_row(900, today())) + "\n")
    capsys.readouterr()
    assert main(command(office_folder, more, "--batch-rows", "100", "--sms-csv", str(sms2))) == 1
    assert "changed after its run was interrupted with 2 batch(es) issued" in capsys.readouterr().err
    assert sum(1 for _ in (tmp_path / ".sms2.csv.partial").open(encoding="utf-8")) == 1 + 300


def test_the_streamed_sheet_is_the_sheet_of_its_rows(office_folder: OfficeFolder, tmp_path: Path,
                                                    keyring: KeyRing) -> None:
    from epermit.cli.sheet import sheet_html
    from issuer.bulk import IssuedRow
    from issuer.model import Offer

    from .test_bulk_sheet import Sheet

    applications = write_cards(tmp_path / "city.csv", 7)
    sheet, sms = tmp_path / "sheet.html", tmp_path / "sms.csv"
    assert main(command(office_folder, applications, "--batch-rows", "3", "--sheet", str(sheet),
                        "--sms-csv", str(sms))) == 0
    text = sheet.read_text(encoding="utf-8")
    assert os.stat(sheet).st_mode & 0o777 == 0o600
    parsed = Sheet(text)
    rows = list(csv.DictReader(sms.open(encoding="utf-8")))
    assert len(parsed.tiles) == len(parsed.slips) == 7
    assert [r["pin"] in slip for r, slip in zip(rows, parsed.slips, strict=True)] == [True] * 7  # in order
    assert not any(r["pin"] in tile for r, tile in zip(rows, parsed.tiles, strict=True))
    # Byte for byte what the whole-batch writer makes of the same rows (tiles, then a page of PIN slips).
    records = [office_folder.store.get_record(r["record_id"].removeprefix("'")) for r in rows]
    issued = []
    for n, (r, record) in enumerate(zip(rows, records, strict=True)):
        assert record is not None
        offer_id = r["pickup_url"].rsplit("/", 1)[1]
        expires = int(datetime.datetime.fromisoformat(r["expires_at"]).timestamp())
        offer = Offer("", r["pin"], record.id, expires, offer_id, (), "")
        issued.append(IssuedRow(n + 2, record.id, offer, r["phone"], record.permit.holder.name,
                                record.permit.document_number, record.permit.type, record.permit.holder.citizen_id[-4:]))
    public_url = r["pickup_url"].split("/pickup/")[0]
    assert text == sheet_html(issued, public_url=public_url, title="city.csv")
