"""Private keys at rest: round trip, wrong passphrase, binding of kid and purpose, 0600, no clear key on disk."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from credential.encoding import json_dumps, json_loads
from keys.errors import KeyManagementError, KeyUnlockError, PurposeNotAllowedError
from keys.keystore import (
    MAX_PASSPHRASE_SIZE,
    PASSPHRASE_ENV,
    read_key_file,
    read_passphrase,
    seal_private_key,
    write_key_file,
    write_private_file,
)
from keys.purpose import Purpose
from keys.signers import KeySigner

FAST_N = 2**14  # the production default 2**17 costs about 0.5 s per call
PASSPHRASE = "correct horse 电池 staple".encode()


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_round_trip(tmp_path: Path, alg: str) -> None:
    signer = KeySigner.generate(alg)
    path = tmp_path / "credential.key.json"
    write_key_file(path, signer.private_key, passphrase=PASSPHRASE, purpose=Purpose.CREDENTIAL, scrypt_n=FAST_N)
    loaded = KeySigner(read_key_file(path, passphrase=PASSPHRASE, purpose=Purpose.CREDENTIAL))
    assert loaded.kid == signer.kid
    assert loaded.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()) == \
        signer.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())


def test_file_is_0600_and_holds_no_clear_key(tmp_path: Path) -> None:
    signer = KeySigner.generate()
    path = tmp_path / "root.key.json"
    write_key_file(path, signer.private_key, passphrase=PASSPHRASE, purpose=Purpose.ROOT, scrypt_n=FAST_N)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    on_disk = path.read_bytes()
    clear_der = signer.private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    scalar = signer.private_key.private_numbers().private_value.to_bytes(32, "big")  # type: ignore[union-attr]
    assert clear_der not in on_disk and scalar not in on_disk
    assert b"PRIVATE KEY" not in on_disk  # no PEM
    for encode in (base64.b64encode, base64.urlsafe_b64encode):  # nor the DER as base64 of either alphabet
        assert encode(clear_der).rstrip(b"=") not in on_disk
    document = json_loads(on_disk, max_size=1 << 14)
    assert document["format"] == "epermit-key-v1" and document["kdf"]["n"] == FAST_N
    assert document["kid"] == signer.kid and document["purpose"] == "root"


def test_wrong_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "k.key.json"
    write_key_file(path, KeySigner.generate().private_key, passphrase=PASSPHRASE, purpose=Purpose.STATUS,
                   scrypt_n=FAST_N)
    with pytest.raises(KeyUnlockError, match="wrong passphrase"):
        read_key_file(path, passphrase=b"correct horse battery stapler")


@pytest.mark.parametrize(("field", "value"), [("purpose", "credential"), ("kid", "AAAAAAAAAAA")])
def test_edited_kid_or_purpose_does_not_open(tmp_path: Path, field: str, value: str) -> None:
    document = seal_private_key(KeySigner.generate().private_key, passphrase=PASSPHRASE, purpose=Purpose.STATUS,
                                scrypt_n=FAST_N)
    document[field] = value
    path = tmp_path / "k.key.json"
    path.write_bytes(json_dumps(document))
    with pytest.raises(KeyUnlockError):
        read_key_file(path, passphrase=PASSPHRASE)


def test_purpose_mismatch_and_weak_kdf_are_refused(tmp_path: Path) -> None:
    document = seal_private_key(KeySigner.generate().private_key, passphrase=PASSPHRASE, purpose=Purpose.STATUS,
                                scrypt_n=FAST_N)
    path = tmp_path / "k.key.json"
    path.write_bytes(json_dumps(document))
    with pytest.raises(KeyManagementError, match="not a credential key"):
        read_key_file(path, passphrase=PASSPHRASE, purpose=Purpose.CREDENTIAL)
    document["kdf"]["n"] = 2**10
    path.write_bytes(json_dumps(document))
    with pytest.raises(KeyManagementError, match="scrypt"):
        read_key_file(path, passphrase=PASSPHRASE)
    path.write_bytes(b"{" * 20000)
    with pytest.raises(KeyManagementError, match="larger than"):
        read_key_file(path, passphrase=PASSPHRASE)


def test_no_overwrite_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "f"
    write_private_file(path, b"one")
    with pytest.raises(KeyManagementError, match="refusing to overwrite"):
        write_private_file(path, b"two")
    path.chmod(0o644)
    write_private_file(path, b"three", overwrite=True)
    assert path.read_bytes() == b"three" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no temporary file left behind


def test_empty_passphrase_refused_when_sealing() -> None:
    with pytest.raises(KeyUnlockError, match="empty"):
        seal_private_key(KeySigner.generate().private_key, passphrase=b"", purpose=Purpose.ROOT, scrypt_n=FAST_N)


def test_sealing_refuses_an_unknown_purpose_or_scrypt_cost() -> None:
    key = KeySigner.generate().private_key
    with pytest.raises(PurposeNotAllowedError) as caught:
        seal_private_key(key, passphrase=PASSPHRASE, purpose="holder", scrypt_n=FAST_N)  # type: ignore[arg-type]
    assert caught.value.allowed == ("root", "credential", "status", "login")
    for n in (3 * 2**14, 2**13, 2**21):
        with pytest.raises(KeyManagementError, match="power of two"):
            seal_private_key(key, passphrase=PASSPHRASE, purpose=Purpose.ROOT, scrypt_n=n)


class TestReadPassphrase:
    def test_from_env(self) -> None:
        assert read_passphrase(env={PASSPHRASE_ENV: "s3cret 口令"}, passphrase_file=None) == "s3cret 口令".encode()

    @pytest.mark.parametrize(("content", "expected"), [
        (b"s3cret\n", b"s3cret"), (b"s3cret\r\n", b"s3cret"), (b"s3cret", b"s3cret"),
        (b"s3cret\n\n", b"s3cret\n"), (b" spaced \n", b" spaced "),
    ])
    def test_file_strips_one_newline(self, tmp_path: Path, content: bytes, expected: bytes) -> None:
        path = tmp_path / "pass"
        path.write_bytes(content)
        assert read_passphrase(env={}, passphrase_file=path) == expected

    def test_file_beats_env(self, tmp_path: Path) -> None:
        path = tmp_path / "pass"
        path.write_bytes(b"from-file\n")
        assert read_passphrase(env={PASSPHRASE_ENV: "from-env"}, passphrase_file=path) == b"from-file"

    @pytest.mark.parametrize(("env", "content", "message"), [
        ({}, None, "no passphrase given"),
        ({PASSPHRASE_ENV: ""}, None, "empty passphrase"),
        ({}, b"\n", "empty passphrase"),
        ({}, b"x" * (MAX_PASSPHRASE_SIZE + 1), "longer than"),
        ({}, b"x" * (MAX_PASSPHRASE_SIZE + 10), "larger than"),
    ])
    def test_refusals(self, tmp_path: Path, env: dict[str, str], content: bytes | None, message: str) -> None:
        path = None
        if content is not None:
            path = tmp_path / "pass"
            path.write_bytes(content)
        with pytest.raises(KeyUnlockError, match=message):
            read_passphrase(env=env, passphrase_file=path)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(KeyUnlockError, match="passphrase file"):
            read_passphrase(env={PASSPHRASE_ENV: "ignored"}, passphrase_file=tmp_path / "absent")


@pytest.mark.slow
def test_default_cost_round_trip(tmp_path: Path) -> None:
    signer = KeySigner.generate()
    path = tmp_path / "k.key.json"
    write_key_file(path, signer.private_key, passphrase=PASSPHRASE, purpose=Purpose.CREDENTIAL)
    assert json_loads(path.read_bytes(), max_size=1 << 14)["kdf"]["n"] == 2**17
    assert KeySigner(read_key_file(path, passphrase=PASSPHRASE)).kid == signer.kid
