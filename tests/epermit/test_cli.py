"""The `epermit` command's own jobs: serve refuses to run without unlocked keys, and remembers its public URL."""

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


def test_serve_remembers_its_public_url_for_the_pickup_links(tmp_path: Path) -> None:
    """`epermit issue` prints links to the URL `serve --public-url` was given (epermit.public_url)."""
    import os
    import signal
    import subprocess
    import sys

    from epermit.public_url import remembered_public_url

    ring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=1_780_000_000)
    save_keyring(ring, tmp_path / "keys", b"secret", scrypt_n=2**14)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "EPERMIT_KEY_PASSPHRASE": "secret", "PYTHONPATH": str(root)}
    env.pop("EPERMIT_REDIS_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "epermit.cli", "serve", "--data", str(tmp_path),
                               "--public-url", "https://permits.example.gov.cn", "--officer-port", "0",
                               "--wallet-port", "0"], cwd=root, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        assert any("public URL https://permits.example.gov.cn" in line for line in lines), lines
        assert remembered_public_url(tmp_path) == "https://permits.example.gov.cn"
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
