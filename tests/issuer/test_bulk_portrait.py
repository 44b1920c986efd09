"""The bulk CSV's ``portrait`` column: a photo per row, relative to the CSV's folder, kept sealed with the record."""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import io
from pathlib import Path

import pytest

from credential.samples import sample_permit
from epermit.cli import main
from issuer.model import Officer, Role
from issuer.officers import OfficerRegistry
from issuer.portrait.capture import make_portrait
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, save_keyring
from tests.portrait_support import encoded, source_image

from .conftest import PUBLIC_URL
from .office import CARD, HOME

PHOTO = encoded(source_image(), "JPEG", quality=90)


def applications(rows: list[tuple[dict[str, object], str]]) -> bytes:
    columns = [*sample_permit().to_dict(), "portrait"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for permit, portrait in rows:
        values = {**permit, "portrait": portrait}
        writer.writerow(["" if values[c] is None else str(values[c]) for c in columns])
    return out.getvalue().encode("utf-8")


def test_the_command_keeps_each_rows_portrait(tmp_path: Path, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "office"
    (data / "keys").mkdir(parents=True)
    save_keyring(keyring, data / "keys", b"test passphrase", scrypt_n=2**14)
    store = SQLiteStore(data / "epermit.sqlite3")
    registry = OfficerRegistry(store)
    registry.put(Officer("clerk", "柜员", Role.CLERK, (HOME,)))
    registry.put(Officer("io", "民警", Role.ISSUING_OFFICER, (HOME,)))
    monkeypatch.setenv("EPERMIT_KEY_PASSPHRASE", "test passphrase")
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
    card = dataclasses.replace(CARD, valid_from=today - datetime.timedelta(days=200),
                               valid_until=today + datetime.timedelta(days=164))
    permit = sample_permit(valid_from=today, valid_until=today + datetime.timedelta(days=364))
    folder = tmp_path / "intake"
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "zhang.jpg").write_bytes(PHOTO)
    (tmp_path / "outside.jpg").write_bytes(PHOTO)
    sheet = folder / "applications.csv"
    other = sample_permit(resident=1, valid_from=today, valid_until=today + datetime.timedelta(days=364))
    sheet.write_bytes(applications([(card.to_dict(), ""), (permit.to_dict(), "photos/zhang.jpg"),
                                    (other.to_dict(), "../outside.jpg")]))
    code = main(["issue", "--csv", str(sheet), "--data", str(data), "--officer", "io", "--clerk", "clerk",
                 "--no-progress", "--skip-bad", "--public-url", "https://jzz.example.gov.cn"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"{sheet}:4: " in captured.err and "portrait" in captured.err  # the escape is the row's error
    records = {r.permit.type.slug: r for r in store.records_of_holder(CARD.holder.citizen_id)}
    kept = records["residence_permit"]
    assert kept.permit.holder.portrait_sha256 == hashlib.sha256(make_portrait(PHOTO)).digest()
    assert records["residence_registration"].permit.holder.portrait_sha256 is None
    service = IssuerService(store, keyring, IssuerSettings(PUBLIC_URL))
    assert service.portrait_of(kept) == make_portrait(PHOTO)
    audit = [(e.officer, e.action) for e in service.audit.list(limit=100) if e.record_id == kept.id]
    assert audit == [("clerk", "register"), ("clerk", "set_portrait"), ("io", "create_offer")]
