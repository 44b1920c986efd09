"""The officer-side commands on a Redis deployment (`--redis URL`, a real redis-server): officers, bulk
issuance, the audit log and the key-compromise commands work on the Redis store, the data folder holding
the keys only."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from credential.samples import sample_permit
from epermit.cli import main
from issuer.audit import Anchor
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
    assert "110105" in dict(Anchor.parse(head).chains)  # the district's chain is anchored with the global one
    assert main(["audit", "verify", *location, "--expect", head]) == 0
    capsys.readouterr()
    assert main(["audit", "list", *location, "--limit", "1000"]) == 0
    seqs = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    district = [s for s in seqs if s.startswith("110105:")]
    assert district[:2] == ["110105:1", "110105:2"] and len(district) >= 6  # register + offer per row
    assert main(["audit", "list", *location, "--after", f"0,110105:{len(district) - 1}", "--limit", "1000"]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == \
        [s for s in seqs if not s.startswith("110105:")] + [district[-1]]
    kid = keyring.signers_of(Purpose.CREDENTIAL)[0].kid
    assert main(["keys", "affected", kid, *location]) == 0
    # The drill runs on the Redis store's service, and refuses a key that still signs (as on SQLite).
    assert main(["reissue", "--kid", kid, *location, "--quiet", "--public-url", "http://127.0.0.1:8081"]) == 1
    assert "still signs credentials" in capsys.readouterr().err
    store.close()
