"""The demo is the product's first impression: it must run the whole story and leave usable files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from epermit.cli import main
from epermit.demo import run_demo


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_demo(tmp_path_factory.mktemp("demo"))


def test_demo_leaves_what_a_newcomer_plays_with(demo_dir: Path) -> None:
    for name in ("root.pem", "jwks.json", "zhang-wei.sd-jwt", "zhang-wei.live.png", "zhang-wei.static.png",
                 "zhang-wei.static.qr.txt", "residence-card.static.png", "tampered.qr.txt"):
        assert (demo_dir / name).is_file(), name
    assert (demo_dir / "verifier-cache").is_dir()
    assert json.loads((demo_dir / "jwks.json").read_text())["keys"]


def test_demo_folder_holds_no_private_key(demo_dir: Path) -> None:
    for path in demo_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"PRIVATE KEY" not in data, path
            assert b'"d":' not in data, path


def test_demo_outputs_verify_offline_with_the_cli(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = str(demo_dir / "verifier-cache")
    assert main(["verify", "--cache", cache, str(demo_dir / "residence-card.static.png")]) == 0
    assert "VALID" in capsys.readouterr().out
    # 张伟's permit was revoked at the end of the story.
    assert main(["verify", "--cache", cache, "--json", str(demo_dir / "zhang-wei.static.qr.txt")]) == 1
    assert json.loads(capsys.readouterr().out)["result"] == "REVOKED"
    assert main(["verify", "--cache", cache, "--json", str(demo_dir / "tampered.qr.txt")]) == 1
    assert json.loads(capsys.readouterr().out)["result"] == "BAD_SIGNATURE"
    assert main(["verify", "--cache", cache, "--require-live", "--json", str(demo_dir / "residence-card.static.qr.txt")]) == 1
    assert json.loads(capsys.readouterr().out)["result"] == "NO_HOLDER_PROOF"


def test_the_demo_wallets_open_with_the_cli(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = demo_dir / "wallets" / "residence-card"
    key = (home / "device-key.json").read_bytes()
    assert b"ciphertext" in key and b"PRIVATE KEY" not in key
    passphrase = str(demo_dir / "wallet-passphrase.txt")
    assert main(["wallet", "--home", str(home), "show", "--live", "--passphrase-file", passphrase]) == 0
    live = capsys.readouterr().out.strip()
    assert main(["verify", "--cache", str(demo_dir / "verifier-cache"), "--json", live]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["result"], shown["live"], shown["view"]) == ("VALID", True, "basic")
    assert main(["wallet", "--home", str(demo_dir / "wallets" / "zhang-wei"), "list"]) == 0
    assert "JZZ-110105-2026-000001" in capsys.readouterr().out


def test_demo_serves_https_and_leaves_its_ca(demo_dir: Path) -> None:
    from cryptography import x509

    ca = x509.load_pem_x509_certificate((demo_dir / "tls-ca.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert b"PRIVATE KEY" not in (demo_dir / "tls-ca.pem").read_bytes()
