"""The EKU arc as a key-directory setting: chosen at ``keys init``, kept in keyring.json, used by every
certificate made later (rotation too), named in the trust list, and checked when the ring is loaded."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from cryptography import x509

from credential.eku import DEFAULT_EKU_ARC
from credential.trustlist import verify_trust_list
from epermit import cli
from epermit.cli import keys as keys_cli
from keys import KeyManagementError, KeyRing, Purpose, init_keys, load_keyring, save_keyring
from keys.rotation import rotate

PASSPHRASE = b"a long operator passphrase"
FAST_N = 2**14
NOW = 1_780_000_000
ARC = "1.2.156.112233.9"  # an arc the deployment owns (here made up under China's ISO member body arc)


def _eku(cert: x509.Certificate) -> list[str]:
    return [oid.dotted_string for oid in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]


def test_init_keeps_the_arc_and_every_later_certificate_uses_it(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    ring = init_keys(directory, PASSPHRASE, "110105", "北京市公安局朝阳分局", NOW, scrypt_n=FAST_N, eku_arc=ARC)
    assert json.loads((directory / "keyring.json").read_text())["eku_arc"] == ARC
    loaded = load_keyring(directory, PASSPHRASE)
    assert loaded.eku_arc == ARC
    new = rotate(loaded, Purpose.CREDENTIAL, now=NOW + 60)
    assert _eku(loaded.certificates[new.kid]) == [f"{ARC}.1"]
    save_keyring(loaded, directory, PASSPHRASE, scrypt_n=FAST_N, update=True)
    again = load_keyring(directory, PASSPHRASE)
    for purpose, signer in again.signers():
        assert _eku(again.certificates[signer.kid]) == [f"{ARC}.{1 if purpose is Purpose.CREDENTIAL else 2}"]
    token = again.trust_list_token(issuer="https://permits.example", now=NOW + 120, version=2,
                                   status_lists=["https://permits.example/statuslists/1"], aggregation_uri=None)
    trust = verify_trust_list(token, root_key=ring.root.public_key, now=NOW + 120)
    assert trust.eku_arc == ARC and len(trust.keys) == 3


def test_the_default_arc_is_written_too(tmp_path: Path) -> None:
    init_keys(tmp_path / "keys", PASSPHRASE, "110105", "北京市公安局朝阳分局", NOW, scrypt_n=FAST_N)
    assert json.loads((tmp_path / "keys" / "keyring.json").read_text())["eku_arc"] == DEFAULT_EKU_ARC


def test_a_ring_refuses_certificates_made_under_another_arc(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    init_keys(directory, PASSPHRASE, "110105", "北京市公安局朝阳分局", NOW, scrypt_n=FAST_N, eku_arc=ARC)
    doc = json.loads((directory / "keyring.json").read_text())
    doc["eku_arc"] = DEFAULT_EKU_ARC  # keyring.json edited behind the certificates' back
    (directory / "keyring.json").write_text(json.dumps(doc))
    with pytest.raises(KeyManagementError, match="under EKU arc"):
        load_keyring(directory, PASSPHRASE)


@pytest.mark.parametrize("arc", ["1.3.6.1.4.1.99999.1", "2.25", "epermit"])
def test_a_bad_arc_is_refused_before_any_key_is_made(tmp_path: Path, arc: str) -> None:
    with pytest.raises(KeyManagementError, match="EKU arc"):
        init_keys(tmp_path / "keys", PASSPHRASE, "110105", "北京市公安局朝阳分局", NOW, scrypt_n=FAST_N, eku_arc=arc)
    assert not (tmp_path / "keys").exists()
    with pytest.raises(KeyManagementError, match="EKU arc"):
        KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=NOW, eku_arc=arc)


def test_keys_init_eku_arc_option(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_cli, "init_keys", functools.partial(init_keys, scrypt_n=FAST_N))
    passphrase = tmp_path / "passphrase"
    passphrase.write_bytes(PASSPHRASE + b"\n")
    base = ["keys", "init", "--authority-code", "110105", "--authority-name", "北京市公安局朝阳分局",
            "--passphrase-file", str(passphrase)]
    assert cli.main([*base, "--dir", str(tmp_path / "bad"), "--eku-arc", "1.3.6.1.4.1.99999.1"]) == 2
    err = capsys.readouterr().err
    assert "placeholder" in err and err.count("\n") == 1 and not (tmp_path / "bad").exists()
    assert cli.main([*base, "--dir", str(tmp_path / "keys"), "--eku-arc", ARC]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"EKU arc {ARC}")
    assert load_keyring(tmp_path / "keys", PASSPHRASE).eku_arc == ARC
