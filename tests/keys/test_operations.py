"""The operator's commands: rotate, revoke, prune, list; versions that only grow across `keys publish` and
the issuer's publisher; the passphrase prompt; an issuer that cannot unlock its keys does not start."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.errors import RollbackError
from credential.samples import AUTHORITY_CODE, AUTHORITY_NAME
from credential.trustlist import verify_trust_list
from epermit import cli
from epermit.cli import keys as keys_cli
from epermit.cli.serve import serve_office
from epermit.transport import Transport
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import PASSPHRASE_ENV, KeyUnlockError, Purpose, init_keys, load_keyring, read_passphrase
from verifier.cache import VerifierCache
from verifier.cli import main_verify

PASS = "an operator passphrase"


@pytest.fixture
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(keys_cli, "init_keys", functools.partial(init_keys, scrypt_n=2**14))
    monkeypatch.setattr(keys_cli, "SCRYPT_COST", 2**14)
    monkeypatch.setenv(PASSPHRASE_ENV, PASS)
    directory = tmp_path / "keys"
    assert cli.main(["keys", "init", "--dir", str(directory), "--authority-code", AUTHORITY_CODE,
                     "--authority-name", AUTHORITY_NAME]) == 0
    return directory


def publish(key_dir: Path, out: Path, *extra: str) -> int:
    return cli.main(["keys", "publish", "--dir", str(key_dir), "--out", str(out), "--issuer", "https://p.example",
                     *extra])


def test_rotate_revoke_prune_list(key_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    first = load_keyring(key_dir, PASS.encode()).signers_of(Purpose.CREDENTIAL)[0].kid
    out = tmp_path / "tl.jwt"
    assert cli.main(["keys", "rotate", "--dir", str(key_dir), "--lead-time", "24h", "--out", str(out),
                     "--issuer", "https://p.example"]) == 0
    printed = capsys.readouterr().out
    assert "signs from" in printed and "wrote trust list version" in printed
    ring = load_keyring(key_dir, PASS.encode())
    second = ring.signers_of(Purpose.CREDENTIAL)[0].kid
    assert ring.signer_for(Purpose.CREDENTIAL, now=int(time.time())).kid == first  # the lead time has not passed
    trust = verify_trust_list(out.read_text().strip(), root_key=ring.root.public_key, now=int(time.time()))
    assert {second, first} <= {k.kid for k in trust.keys}

    assert cli.main(["keys", "list", "--dir", str(key_dir)]) == 0
    listing = capsys.readouterr().out
    assert f"{first}  retiring" in listing and "(signs now)" in listing

    # revoking the key that signs replaces it at once, then marks it revoked, in a higher version
    before = trust.version
    # A kid may begin with "-" (base64url): after "--" it is never read as an option (docs/keys.md).
    assert cli.main(["keys", "revoke", "--reason", "laptop stolen", "--dir", str(key_dir),
                     "--out", str(out), "--issuer", "https://p.example", "--", first]) == 0
    assert "replaced" in capsys.readouterr().out  # the pending key was not usable yet: a third one now
    ring = load_keyring(key_dir, PASS.encode())
    assert ring.states[first] == "revoked" and ring.revocations[first].reason == "laptop stolen"
    assert ring.signer_for(Purpose.CREDENTIAL, now=int(time.time())).kid not in (first, second)
    assert len(ring.signers_of(Purpose.CREDENTIAL)) == 3
    after = verify_trust_list(out.read_text().strip(), root_key=ring.root.public_key, now=int(time.time()))
    assert after.version > before and {k.kid: k.state for k in after.keys}[first] == "revoked"

    assert cli.main(["keys", "prune", "--dir", str(key_dir)]) == 0
    assert "pruned 0 key(s)" in capsys.readouterr().out
    assert cli.main(["keys", "revoke", "AAAAAAAAAAA", "--reason", "x", "--dir", str(key_dir)]) == 2
    with pytest.raises(SystemExit):
        cli.main(["keys", "rotate", "--dir", str(key_dir), "--lead-time", "soon"])


def test_versions_only_grow_across_publish_and_the_issuer(key_dir: Path, tmp_path: Path) -> None:
    out, other = tmp_path / "tl.jwt", tmp_path / "usb" / "tl.jwt"
    other.parent.mkdir()
    far = str(int(time.time()) + 1000)
    assert publish(key_dir, out, "--version", far) == 0
    assert publish(key_dir, other) == 0  # another path: still above what this directory published
    ring = load_keyring(key_dir, PASS.encode())
    first = verify_trust_list(out.read_text().strip(), root_key=ring.root.public_key, now=0).version
    second = verify_trust_list(other.read_text().strip(), root_key=ring.root.public_key, now=0).version
    assert second == first + 1
    assert publish(key_dir, other, "--version", str(second)) == 2

    # A verifier takes the file (`epermit verify import`), then the issuer's own list after a rotation.
    cache_dir = tmp_path / "cache"
    root = tmp_path / "root.pem"
    root.write_bytes(ring.root_certificate.public_bytes(Encoding.PEM))
    assert main_verify(["import", "--cache", str(cache_dir), "--root", str(root), str(other)]) == 0
    assert main_verify(["import", "--cache", str(cache_dir), str(out)]) == 2  # older: a rollback
    cache = VerifierCache(cache_dir)
    assert cache.trust_list().version == second  # type: ignore[union-attr]
    clock = int(time.time()) + 2000  # the issuer publishes later: unix-time versions keep growing
    service = IssuerService(SQLiteStore(tmp_path / "db.sqlite3"), ring, IssuerSettings("https://p.example"),
                            lambda: clock)
    cache.accept_trust_list(service.trust_list_token(), clock)
    assert cache.trust_list().version > second  # type: ignore[union-attr]
    with pytest.raises(RollbackError):
        cache.accept_trust_list(other.read_text().strip(), clock)


class TestPrompt:
    def test_prompt_on_a_terminal(self) -> None:
        asked: list[str] = []

        def prompt(text: str) -> str:
            asked.append(text)
            return "typed secret"

        assert read_passphrase(env={}, passphrase_file=None, prompt=prompt, is_tty=lambda: True) == b"typed secret"
        assert asked == ["Key passphrase: "]

    def test_confirmation_must_match(self) -> None:
        answers = iter(["one", "two"])
        with pytest.raises(KeyUnlockError, match="differ"):
            read_passphrase(env={}, passphrase_file=None, prompt=lambda _: next(answers), is_tty=lambda: True,
                            confirm=True)

    def test_no_terminal_no_prompt_no_default(self) -> None:
        def prompt(_: str) -> str:
            raise AssertionError("must not prompt")

        with pytest.raises(KeyUnlockError, match="no passphrase given"):
            read_passphrase(env={}, passphrase_file=None, prompt=prompt, is_tty=lambda: False)
        with pytest.raises(KeyUnlockError, match="empty"):
            read_passphrase(env={}, passphrase_file=None, prompt=lambda _: "", is_tty=lambda: True)

    def test_env_beats_the_prompt(self) -> None:
        assert read_passphrase(env={PASSPHRASE_ENV: "env"}, passphrase_file=None, prompt=lambda _: "typed",
                               is_tty=lambda: True) == b"env"


def test_the_issuer_refuses_to_start_without_its_keys(key_dir: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = key_dir.parent
    for env in ({PASSPHRASE_ENV: "wrong passphrase"}, {}):
        status = serve_office(data, officer_port=0, wallet_port=0, transport=Transport(None, None, 0),
                              passphrase_file=None, env=env,
                              now=int(time.time()))
        assert status == 2
        assert "cannot unlock the keys" in capsys.readouterr().err
    assert not (data / "epermit.sqlite3").exists()  # nothing started, nothing written
