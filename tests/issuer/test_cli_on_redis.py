"""The officer-side commands on a Redis deployment (`--redis URL`, a real redis-server): officers, bulk
issuance, the audit log and the key-compromise commands work on the Redis store, the data folder holding
the keys only."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from credential.samples import sample_permit
from epermit.cli import main
from issuer.store.redis import RedisStore
from keys import KeyRing, Purpose, save_keyring

from .test_bulk import applications_today


def test_issue_audit_and_reissue_on_redis(
    redis_url: str, keyring: KeyRing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "office"
    (data / "keys").mkdir(parents=True)
    save_keyring(keyring, data / "keys", b"test passphrase", scrypt_n=2**14)
    monkeypatch.setenv("EPERMIT_KEY_PASSPHRASE", "test passphrase")
    prefix = "{t" + uuid.uuid4().hex + "}"
    monkeypatch.setenv("EPERMIT_REDIS_PREFIX", prefix)
    location = ["--data", str(data), "--redis", redis_url]
    for officer_id, role in (("clerk", "clerk"), ("io", "issuing_officer")):
        assert main(["officers", "add", *location, "--id", officer_id, "--name", "民警", "--role", role,
                     "--district", "110105"]) == 0
    applications = tmp_path / "applications.csv"
    applications.write_bytes(applications_today())
    assert main(["issue", "--csv", str(applications), *location, "--officer", "io", "--clerk", "clerk",
                 "--skip-bad", "--no-progress", "--public-url", "https://permits.example.cn"]) == 0
    assert "issued 3 offer(s)" in capsys.readouterr().out
    store = RedisStore.from_url(redis_url, prefix=prefix)
    assert len(store.records_of_holder(sample_permit().holder.citizen_id)) == 2
    assert not (data / "epermit.sqlite3").exists()  # nothing went to a SQLite file beside the keys
    assert main(["audit", "verify", *location]) == 0
    assert main(["audit", "head", *location]) == 0
    head = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["audit", "verify", *location, "--expect", head]) == 0
    kid = keyring.signers_of(Purpose.CREDENTIAL)[0].kid
    assert main(["keys", "affected", kid, *location]) == 0
    # The drill runs on the Redis store's service, and refuses a key that still signs (as on SQLite).
    assert main(["reissue", "--kid", kid, *location, "--quiet", "--public-url", "http://127.0.0.1:8081"]) == 1
    assert "still signs credentials" in capsys.readouterr().err
    store.close()
