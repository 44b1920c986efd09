"""``epermit keys init`` and ``epermit keys publish``: one line out, exit 2 and one line on stderr on failure."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from credential.trustlist import verify_trust_list
from epermit import cli
from epermit.cli import keys as keys_cli
from keys import PASSPHRASE_ENV, Purpose, init_keys, load_keyring

ROOT = Path(__file__).resolve().parents[2]
INIT = ["keys", "init", "--authority-code", "110105", "--authority-name", "北京市公安局朝阳分局"]


@pytest.fixture
def fast_init(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the scrypt cost changes (2**14 instead of 2**17); files record it, so load needs no change.
    monkeypatch.setattr(keys_cli, "init_keys", functools.partial(init_keys, scrypt_n=2**14))


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    path.write_text("a long operator passphrase\n", encoding="utf-8")
    return path


def publish_args(key_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["keys", "publish", "--dir", str(key_dir), "--out", str(out), "--issuer", "https://permits.example",
            "--status-list", "https://permits.example/statuslists/1", "https://permits.example/statuslists/2",
            *extra]


@pytest.mark.usefixtures("fast_init")
def test_init_then_publish(tmp_path: Path, passphrase_file: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    key_dir, out = tmp_path / "keys", tmp_path / "trustlist.jwt"
    assert cli.main([*INIT, "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith(f"created {key_dir}: root ") and printed.out.count("\n") == 1
    assert printed.err == ""

    monkeypatch.setenv(PASSPHRASE_ENV, "a long operator passphrase")
    assert cli.main(publish_args(key_dir, out, "--version", "7")) == 0
    assert capsys.readouterr().out == f"wrote trust list version 7 with 2 keys to {out}\n"
    ring = load_keyring(key_dir, b"a long operator passphrase")
    trust = verify_trust_list(out.read_text().strip(), root_key=ring.root.public_key, now=int(time.time()))
    assert trust.version == 7 and len(trust.status_lists) == 2
    assert {k.kid for k in trust.keys} == {ring.signers_of(p)[0].kid for p in (Purpose.CREDENTIAL, Purpose.STATUS)}

    # publishing an older or equal version over a newer list is refused; a newer one replaces it
    assert cli.main(publish_args(key_dir, out, "--version", "7")) == 2
    assert "version 7 was already published" in capsys.readouterr().err
    assert cli.main(publish_args(key_dir, out)) == 0  # default version: the current unix time
    newer = verify_trust_list(out.read_text().strip(), root_key=ring.root.public_key, now=int(time.time()))
    assert newer.version > 7


@pytest.mark.usefixtures("fast_init")
def test_failures_exit_2_with_one_line(tmp_path: Path, passphrase_file: Path,
                                       capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    key_dir = tmp_path / "keys"
    assert cli.main([*INIT, "--dir", str(key_dir)]) == 2  # no passphrase anywhere
    assert capsys.readouterr().err == "epermit keys init: no passphrase given " \
        f"(set {PASSPHRASE_ENV}, use a passphrase file, or run in a terminal)\n"
    assert not key_dir.exists()
    assert cli.main([*INIT, "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)]) == 0
    assert cli.main([*INIT, "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)]) == 2
    assert "not empty" in capsys.readouterr().err

    wrong = tmp_path / "wrong"
    wrong.write_text("not it\n")
    out = tmp_path / "tl.jwt"
    assert cli.main(publish_args(key_dir, out, "--passphrase-file", str(wrong))) == 2
    err = capsys.readouterr().err
    assert err.startswith("epermit keys publish: wrong passphrase") and err.count("\n") == 1
    assert not out.exists()
    assert cli.main(publish_args(tmp_path / "absent", out, "--passphrase-file", str(passphrase_file))) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.slow
def test_subprocess_with_the_default_cost(tmp_path: Path, passphrase_file: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    key_dir, out = tmp_path / "keys", tmp_path / "tl.jwt"
    command = [sys.executable, "-m", "epermit.cli"]
    init = subprocess.run([*command, *INIT, "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)],
                          capture_output=True, text=True, env=env, check=False)
    assert init.returncode == 0, init.stderr
    publish = subprocess.run([*command, *publish_args(key_dir, out, "--passphrase-file", str(passphrase_file))],
                             capture_output=True, text=True, env=env, check=False)
    assert publish.returncode == 0, publish.stderr
    assert publish.stdout.startswith("wrote trust list version ")


@pytest.mark.usefixtures("fast_init")
def test_upgrade_adds_the_store_secret_to_an_older_directory(tmp_path: Path, passphrase_file: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_cli, "SCRYPT_COST", 2**14)
    key_dir = tmp_path / "keys"
    assert cli.main([*INIT, "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)]) == 0
    (key_dir / "store-hmac.secret.json").unlink()  # as a directory made before the store secret existed
    capsys.readouterr()
    assert cli.main(["keys", "list", "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)]) == 2
    assert "epermit keys upgrade" in capsys.readouterr().err
    assert cli.main(["keys", "upgrade", "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)]) == 0
    assert capsys.readouterr().out == f"{key_dir}: added the store secret\n"
    assert cli.main(["keys", "upgrade", "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)]) == 0
    assert capsys.readouterr().out == f"{key_dir}: already up to date\n"
    assert len(load_keyring(key_dir, b"a long operator passphrase").store_secret) == 32


@pytest.mark.usefixtures("fast_init")
def test_upgrade_adds_the_portrait_key_to_a_directory_from_before_portraits(
        tmp_path: Path, passphrase_file: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_cli, "SCRYPT_COST", 2**14)
    key_dir = tmp_path / "keys"
    assert cli.main([*INIT, "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)]) == 0
    portrait_key = load_keyring(key_dir, b"a long operator passphrase").portrait_key
    assert portrait_key is not None and len(portrait_key) == 32
    assert (key_dir / "portrait-data.secret.json").stat().st_mode & 0o777 == 0o600
    (key_dir / "portrait-data.secret.json").unlink()  # as a directory made before portraits
    assert load_keyring(key_dir, b"a long operator passphrase").portrait_key is None  # everything else works
    capsys.readouterr()
    assert cli.main(["keys", "upgrade", "--dir", str(key_dir), "--passphrase-file", str(passphrase_file)]) == 0
    assert capsys.readouterr().out == f"{key_dir}: added the portrait key\n"
    added = load_keyring(key_dir, b"a long operator passphrase").portrait_key
    assert added is not None and len(added) == 32 and added != portrait_key
