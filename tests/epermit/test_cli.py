"""The `epermit` command's own jobs: serve refuses to run without unlocked keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from epermit.cli import main
from keys import KeyRing, save_keyring


def test_serve_without_keys_says_how_to_make_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--insecure-http", "--data", str(tmp_path)]) == 2
    assert "epermit keys init" in capsys.readouterr().err


def test_serve_refuses_a_wrong_passphrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=1_780_000_000)
    save_keyring(ring, tmp_path / "keys", b"the right one", scrypt_n=2**14)
    monkeypatch.setenv("EPERMIT_KEY_PASSPHRASE", "a wrong one")
    assert main(["serve", "--insecure-http", "--data", str(tmp_path)]) == 2  # no unsigned fallback: it does not start
    assert "cannot unlock" in capsys.readouterr().err


def test_serve_refuses_to_run_without_a_passphrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=1_780_000_000)
    save_keyring(ring, tmp_path / "keys", b"secret", scrypt_n=2**14)
    monkeypatch.delenv("EPERMIT_KEY_PASSPHRASE", raising=False)
    assert main(["serve", "--insecure-http", "--data", str(tmp_path)]) == 2
    assert "passphrase" in capsys.readouterr().err
