"""The login key (keys/login.py): its certificate as wallets and OpenSSL validate it, its purpose, its checks,
sealed at rest, and `epermit keys init --public-url`, `keys upgrade`, `keys login`, `keys list`."""

from __future__ import annotations

import datetime
import functools
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from credential.jose import sign_compact
from epermit import cli
from epermit.cli import keys as keys_cli
from keys import (
    KeyPurposeError,
    KeyRing,
    KeyUnlockError,
    LoginKeyError,
    check_login_key,
    init_keys,
    load_keyring,
    load_login_key,
)
from keys.login import LOGIN_CERT_FILE, LOGIN_KEY_FILE, LOGIN_VALIDITY_DAYS, new_login_key, write_login_key
from verifier.openid4vp import (
    InMemoryTransactionStore,
    UntrustedVerifierError,
    VerifierIdentity,
    basic_query,
    new_request,
    parse_authorization_link,
    verify_request_object,
)

NOW = int(time.time())
HOST = "permits.example.gov.cn"
PASSPHRASE = b"a long operator passphrase"
INIT = ["keys", "init", "--authority-code", "110105", "--authority-name", "北京市公安局朝阳分局"]


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=NOW - 3600)


def server_verifier(root: x509.Certificate, host: str, at: int = NOW) -> object:
    return (PolicyBuilder().store(Store([root])).time(datetime.datetime.fromtimestamp(at, datetime.UTC))
            .build_server_verifier(x509.DNSName(host)))


def test_the_certificate_passes_the_web_pki_server_profile_for_its_host_only(ring: KeyRing) -> None:
    login = new_login_key(ring.root, ring.root_certificate, host=HOST, now=NOW)
    chain = server_verifier(ring.root_certificate, HOST).verify(login.certificate, [])  # type: ignore[attr-defined]
    assert chain[-1] == ring.root_certificate
    with pytest.raises(VerificationError):
        server_verifier(ring.root_certificate, "other.example.gov.cn").verify(  # type: ignore[attr-defined]
            login.certificate, [])
    other = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=NOW - 3600)
    with pytest.raises(VerificationError):
        server_verifier(other.root_certificate, HOST).verify(login.certificate, [])  # type: ignore[attr-defined]
    cert = login.certificate
    extensions = cert.extensions
    assert extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == [HOST]
    assert extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    assert list(extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == \
        ring.root_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).total_seconds() / 86400
    assert LOGIN_VALIDITY_DAYS <= days < LOGIN_VALIDITY_DAYS + 1
    assert login.host == HOST and login.signer.alg == "ES256"


def test_openssl_takes_it_as_a_server_certificate_of_the_host(ring: KeyRing, tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    login = new_login_key(ring.root, ring.root_certificate, host=HOST, now=NOW)
    (tmp_path / "root.pem").write_bytes(ring.root_certificate.public_bytes(Encoding.PEM))
    (tmp_path / "login.pem").write_bytes(login.certificate.public_bytes(Encoding.PEM))
    base = [openssl, "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", str(tmp_path / "root.pem")]
    ok = subprocess.run([*base, "-verify_hostname", HOST, str(tmp_path / "login.pem")], capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    wrong = subprocess.run([*base, "-verify_hostname", "evil.example", str(tmp_path / "login.pem")],
                           capture_output=True, text=True, check=False)
    assert wrong.returncode != 0


def test_the_login_key_signs_request_objects_and_nothing_else(ring: KeyRing) -> None:
    login = new_login_key(ring.root, ring.root_certificate, host=HOST, now=NOW)
    signer = login.purpose_signer()
    with pytest.raises(KeyPurposeError):
        sign_compact({"typ": "trustlist+jwt"}, {"exp": NOW + 60}, signer)
    with pytest.raises(KeyPurposeError):
        sign_compact({"typ": "dc+sd-jwt"}, {"exp": NOW + 60}, signer)
    identity = VerifierIdentity(HOST, signer, (login.certificate,), name_zh="公安局", name_en="PSB")
    pending = new_request(identity, response_uri=f"https://{HOST}/resident/login/response",
                          request_uri_base=f"https://{HOST}/resident/login/request",
                          dcql_query=basic_query(f"https://{HOST}"), store=InMemoryTransactionStore(), now=NOW)
    link = parse_authorization_link(pending.authorization_uri)
    proved = verify_request_object(pending.transaction.request_object, link=link,
                                   trust_anchors=[ring.root_certificate], now=NOW)
    assert proved.host == HOST  # a wallet that pinned the root believes it, with no other CA
    other = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=NOW - 3600)
    with pytest.raises(UntrustedVerifierError, match="does not lead to a trusted CA"):
        verify_request_object(pending.transaction.request_object, link=link,
                              trust_anchors=[other.root_certificate], now=NOW)


def test_each_check_of_the_login_key_names_what_fails(ring: KeyRing) -> None:
    login = new_login_key(ring.root, ring.root_certificate, host=HOST, now=NOW)
    check_login_key(login, ring.root_certificate, host=HOST.upper(), now=NOW)  # host names are case-insensitive
    other = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=NOW - 3600)
    cases = [("host", ring.root_certificate, "other.example.gov.cn", NOW),
             ("issuer", other.root_certificate, HOST, NOW),
             ("validity", ring.root_certificate, HOST, NOW + (LOGIN_VALIDITY_DAYS + 1) * 86400)]
    for problem, root, host, at in cases:
        with pytest.raises(LoginKeyError) as caught:
            check_login_key(login, root, host=host, now=at)
        assert caught.value.problem == problem
    for bad in ("not a host/", "127.0.0.1", "10.1.2.3"):  # an address is no x509_san_dns host
        with pytest.raises(LoginKeyError):
            new_login_key(ring.root, ring.root_certificate, host=bad, now=NOW)


def test_sealed_at_rest_and_refused_when_half_or_mismatched(ring: KeyRing, tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    login = new_login_key(ring.root, ring.root_certificate, host=HOST, now=NOW)
    write_login_key(directory, login, PASSPHRASE, scrypt_n=2**14)
    for name in (LOGIN_KEY_FILE, LOGIN_CERT_FILE):
        assert (directory / name).stat().st_mode & 0o777 == 0o600
    envelope = json.loads((directory / LOGIN_KEY_FILE).read_text())
    assert envelope["purpose"] == "login" and "BEGIN" not in (directory / LOGIN_KEY_FILE).read_text()
    loaded = load_login_key(directory, PASSPHRASE)
    assert loaded is not None and loaded.signer.kid == login.signer.kid and loaded.certificate == login.certificate
    with pytest.raises(KeyUnlockError):
        load_login_key(directory, b"a wrong passphrase")
    another = new_login_key(ring.root, ring.root_certificate, host=HOST, now=NOW)
    (directory / LOGIN_CERT_FILE).write_bytes(another.certificate.public_bytes(Encoding.PEM))
    with pytest.raises(LoginKeyError) as caught:
        load_login_key(directory, PASSPHRASE)
    assert caught.value.problem == "pair"
    (directory / LOGIN_CERT_FILE).unlink()
    with pytest.raises(LoginKeyError) as caught:
        load_login_key(directory, PASSPHRASE)
    assert caught.value.problem == "missing" and "epermit keys login" in str(caught.value)
    (directory / LOGIN_KEY_FILE).unlink()
    assert load_login_key(directory, PASSPHRASE) is None


@pytest.fixture
def fast_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(keys_cli, "init_keys", functools.partial(init_keys, scrypt_n=2**14))
    monkeypatch.setattr(keys_cli, "SCRYPT_COST", 2**14)
    path = tmp_path / "passphrase"
    path.write_bytes(PASSPHRASE + b"\n")
    return path


def test_init_with_a_public_url_makes_the_login_key(fast_keys: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    key_dir = tmp_path / "office" / "keys"
    (tmp_path / "office").mkdir()
    assert cli.main([*INIT, "--dir", str(key_dir), "--passphrase-file", str(fast_keys),
                     "--public-url", f"https://{HOST}"]) == 0
    assert "login key " in capsys.readouterr().out
    login = load_login_key(key_dir, PASSPHRASE)
    assert login is not None and login.host == HOST
    assert cli.main(["keys", "list", "--dir", str(key_dir), "--passphrase-file", str(fast_keys)]) == 0
    assert f"login       {login.signer.kid}  {HOST}  until " in capsys.readouterr().out


def test_upgrade_adds_the_login_key_to_an_older_folder_and_login_reissues_it(
        fast_keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    office = tmp_path / "office"
    office.mkdir()
    key_dir = office / "keys"
    assert cli.main([*INIT, "--dir", str(key_dir), "--passphrase-file", str(fast_keys)]) == 0  # as before logins
    assert load_login_key(key_dir, PASSPHRASE) is None
    capsys.readouterr()
    upgrade = ["keys", "upgrade", "--dir", str(key_dir), "--passphrase-file", str(fast_keys)]
    assert cli.main(upgrade) == 0  # no public URL known: nothing added, and it says what to give
    printed = capsys.readouterr()
    assert printed.out == f"{key_dir}: already up to date\n" and "--public-url" in printed.err
    (office / "public-url").write_text(f"https://{HOST}\n")  # as `serve --public-url` remembers it
    assert cli.main(upgrade) == 0
    assert capsys.readouterr().out == f"{key_dir}: added the login key for {HOST}\n"
    first = load_login_key(key_dir, PASSPHRASE)
    assert first is not None and first.host == HOST
    check_login_key(first, load_keyring(key_dir, PASSPHRASE).root_certificate, host=HOST, now=int(time.time()))
    assert cli.main(upgrade) == 0 and capsys.readouterr().out == f"{key_dir}: already up to date\n"  # never replaced

    # The host changes: `keys login` makes a new key and certificate for it.
    assert cli.main(["keys", "login", "--dir", str(key_dir), "--passphrase-file", str(fast_keys),
                     "--public-url", "https://permits.new.example.gov.cn"]) == 0
    assert "login key " in capsys.readouterr().out
    second = load_login_key(key_dir, PASSPHRASE)
    assert second is not None and second.host == "permits.new.example.gov.cn"
    assert second.signer.kid != first.signer.kid
    assert cli.main(["keys", "login", "--dir", str(key_dir), "--passphrase-file", str(fast_keys),
                     "--public-url", "not a url"]) == 2


def test_init_at_an_address_makes_the_keys_without_a_login_key(fast_keys: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    key_dir = tmp_path / "office" / "keys"
    (tmp_path / "office").mkdir()
    assert cli.main([*INIT, "--dir", str(key_dir), "--passphrase-file", str(fast_keys),
                     "--public-url", "https://10.0.0.5"]) == 0
    printed = capsys.readouterr()
    assert "no login key made" in printed.err and "IP address" in printed.err
    assert "remembered" in printed.out and load_login_key(key_dir, PASSPHRASE) is None
