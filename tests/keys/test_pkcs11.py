"""Signing keys in a PKCS#11 token (SoftHSM2): credentials and status lists signed inside, keys never leave."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from credential.qrpass import decode_qr_text, encode_pass, pass_to_qr_text, verify_pass
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc
from credential.statuslist import StatusList, sign_status_list_token
from epermit import cli
from epermit.cli import keys as keys_cli
from keys import (
    PIN_ENV,
    KeyManagementError,
    KeySigner,
    KeyUnlockError,
    Pkcs11Signer,
    Purpose,
    init_keys,
    load_keyring,
)
from keys.pkcs11_signer import close_sessions
from tests.conftest import T0
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.result import Result
from verifier.verify import verify

pkcs11 = pytest.importorskip("pkcs11")
SOFTHSM_LIB = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                                "/usr/local/lib/softhsm/libsofthsm2.so") if Path(p).exists()), None)
if SOFTHSM_LIB is None or shutil.which("softhsm2-util") is None:
    pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)", allow_module_level=True)

PIN, SO_PIN, LABEL = "1234", "5678", "epermit-test"
ISSUER = "https://permits.example.gov.cn"
URI = f"{ISSUER}/statuslists/1"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh SoftHSM2 token in a temporary directory; SOFTHSM2_CONF points to it for this module."""
    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", LABEL, "--pin", PIN, "--so-pin", SO_PIN],
                   check=True, capture_output=True)
    yield LABEL
    close_sessions()
    if old is None:
        del os.environ["SOFTHSM2_CONF"]
    else:
        os.environ["SOFTHSM2_CONF"] = old


def test_generated_keys_cannot_leave_the_token(token: str) -> None:
    signer = Pkcs11Signer.generate(SOFTHSM_LIB, token, PIN, "probe")  # type: ignore[arg-type]
    assert signer.attributes() == {"sensitive": True, "extractable": False, "always_sensitive": True,
                                   "never_extractable": True}
    with pytest.raises(pkcs11.exceptions.AttributeSensitive):
        signer.read_private_value()
    with pytest.raises(KeyManagementError, match="already holds"):
        Pkcs11Signer.generate(SOFTHSM_LIB, token, PIN, "probe")  # type: ignore[arg-type]
    again = Pkcs11Signer(SOFTHSM_LIB, token, PIN, "probe")  # type: ignore[arg-type]
    assert again.kid == signer.kid and again.alg == "ES256"


def test_an_extractable_key_is_refused(token: str) -> None:
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_named_curve_parameters

    session = pkcs11.lib(SOFTHSM_LIB).get_token(token_label=token).open(rw=True)  # shares the login
    params = session.create_domain_parameters(
        KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
    params.generate_keypair(store=True, label="leaky",
                            private_template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True})
    with pytest.raises(KeyManagementError, match="could leave the token"):
        Pkcs11Signer(SOFTHSM_LIB, token, PIN, "leaky")  # type: ignore[arg-type]


def test_missing_key_and_unknown_token(token: str) -> None:
    with pytest.raises(KeyManagementError, match="no key pair labelled"):
        Pkcs11Signer(SOFTHSM_LIB, token, PIN, "absent")  # type: ignore[arg-type]
    with pytest.raises(KeyManagementError, match="no such PKCS#11 token"):
        Pkcs11Signer(SOFTHSM_LIB, "no-such-token", PIN, "x")  # type: ignore[arg-type]


def test_keys_init_in_the_token_then_sign_and_verify(token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_dir = tmp_path / "keys"
    ring = init_keys(key_dir, b"passphrase", "110105", "北京市公安局朝阳分局", T0 - 86400, scrypt_n=2**14,
                     token=(SOFTHSM_LIB, token, PIN))  # type: ignore[arg-type]
    assert {p.name for p in key_dir.glob("*.key.json")} == {"root.key.json"}  # no signing key on disk
    monkeypatch.setenv(PIN_ENV, PIN)
    loaded = load_keyring(key_dir, b"passphrase")
    assert all(isinstance(s, Pkcs11Signer) for _, s in loaded.signers())
    credential_signer, status_signer = (loaded.signer_for(p, now=T0) for p in (Purpose.CREDENTIAL, Purpose.STATUS))
    assert credential_signer.kid == ring.signers_of(Purpose.CREDENTIAL)[0].kid

    holder = KeySigner.generate()
    permit = sample_permit()
    sd = issue_sd_jwt_vc(permit, issuer=ISSUER, signer=credential_signer, holder_key=holder.public_key,
                         status_uri=URI, status_idx=3, now=T0, exp=T0 + 180 * 86400)
    cose = encode_pass(permit, signer=credential_signer, holder_key=holder.public_key, status_uri=URI,
                       status_idx=3, now=T0)
    status = sign_status_list_token(StatusList(64, 2), uri=URI, signer=status_signer, now=T0, ttl=300,
                                    exp=T0 + 7 * 86400)
    trust = loaded.trust_list_token(issuer=ISSUER, now=T0, version=1, status_lists=[URI], aggregation_uri=None)

    cache = VerifierCache(tmp_path / "cache")
    cache.pin_root(loaded.root_certificate.public_bytes(Encoding.PEM))
    cache.accept_trust_list(trust, T0)
    cache.accept_status_list(URI, status, T0)
    for text in (sd, pass_to_qr_text(cose)):
        outcome = verify(text, cache, policy=Policy(), now=T0 + 60)
        assert outcome.result is Result.VALID, outcome.reason
        assert outcome.issuer_kid == credential_signer.kid
    trusted = loaded.trust_list(issuer=ISSUER, now=T0, version=1, status_lists=[URI], aggregation_uri=None)
    assert verify_pass(decode_qr_text(pass_to_qr_text(cose)), now=T0, resolve_key=lambda kid: trusted.key_for(
        kid, purpose="credential", now=T0)).permit.authority_name == loaded.authority_name

    monkeypatch.delenv(PIN_ENV)
    close_sessions()
    with pytest.raises(KeyUnlockError, match=PIN_ENV):
        load_keyring(key_dir, b"passphrase")
    with pytest.raises(KeyUnlockError, match="wrong PIN"):
        load_keyring(key_dir, b"passphrase", pkcs11_pin="0000")


def test_cli_init_and_rotate_in_the_token(token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(keys_cli, "SCRYPT_COST", 2**14)
    monkeypatch.setattr(keys_cli, "init_keys", lambda *a, **k: init_keys(*a, **{**k, "scrypt_n": 2**14}))
    monkeypatch.setenv("EPERMIT_KEY_PASSPHRASE", "pass phrase")
    monkeypatch.setenv(PIN_ENV, PIN)
    key_dir = tmp_path / "k"
    assert cli.main(["keys", "init", "--dir", str(key_dir), "--authority-code", "110105", "--authority-name", "朝阳分局",
                     "--pkcs11", SOFTHSM_LIB, "--token", token]) == 0  # type: ignore[list-item]
    assert f"in token '{token}'" in capsys.readouterr().out
    assert cli.main(["keys", "rotate", "--dir", str(key_dir), "--purpose", "status", "--lead-time", "0",
                     "--pkcs11", SOFTHSM_LIB, "--token", token]) == 0  # type: ignore[list-item]
    ring = load_keyring(key_dir, b"pass phrase")
    status_signers = ring.signers_of(Purpose.STATUS)
    assert len(status_signers) == 2 and all(isinstance(s, Pkcs11Signer) for s in status_signers)
    assert ring.signer_for(Purpose.STATUS, now=int(time.time())).kid == status_signers[0].kid
