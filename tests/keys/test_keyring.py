"""The key ring: generate, save/load round trip, refusals, and the trust list it publishes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from credential.errors import UntrustedIssuerError
from credential.jose import verify_compact
from credential.trustlist import verify_trust_list
from keys.errors import KeyManagementError, KeyNotFoundError, KeyUnlockError
from keys.keyring import KeyRing, init_keys
from tests.conftest import T0

DAY = 86400
FAST_N = 2**14
PASSPHRASE = b"open sesame"
CODE, NAME = "110105", "北京市公安局朝阳分局"


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(authority_code=CODE, authority_name=NAME, now=T0)


def test_generate(ring: KeyRing) -> None:
    assert ring.credential_signer.inner is ring.credential_signers[0]
    assert ring.status_signer.inner is ring.status_signers[0]
    assert (ring.credential_signer.purpose, ring.status_signer.purpose) == ("credential", "status")
    assert len({ring.root.kid, ring.credential_signer.kid, ring.status_signer.kid}) == 3
    assert (ring.authority_code, ring.authority_name) == (CODE, NAME)


def test_save_load_round_trip(tmp_path: Path, ring: KeyRing) -> None:
    directory = tmp_path / "keys"
    ring.save(directory, PASSPHRASE, scrypt_n=FAST_N)
    assert sorted(p.name for p in directory.iterdir()) == sorted([
        "keyring.json", "root.key.json", "root.crt.pem",
        f"credential-{ring.credential_signer.kid}.key.json", f"credential-{ring.credential_signer.kid}.crt.pem",
        f"status-{ring.status_signer.kid}.key.json", f"status-{ring.status_signer.kid}.crt.pem",
    ])
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in directory.iterdir())
    loaded = KeyRing.load(directory, PASSPHRASE)
    assert [s.kid for s in loaded.credential_signers] == [s.kid for s in ring.credential_signers]
    assert [s.kid for s in loaded.status_signers] == [s.kid for s in ring.status_signers]
    assert loaded.root.kid == ring.root.kid and loaded.root_certificate == ring.root_certificate
    assert (loaded.authority_code, loaded.authority_name, loaded.states) == (CODE, NAME, ring.states)
    # the loaded keys sign what the saved ring's public keys verify
    token = loaded.trust_list_token(issuer="https://i", now=T0, version=1, status_lists=[], aggregation_uri=None)
    verify_trust_list(token, root_key=ring.root.public_key, now=T0)


def test_load_refusals(tmp_path: Path, ring: KeyRing) -> None:
    directory = tmp_path / "keys"
    ring.save(directory, PASSPHRASE, scrypt_n=FAST_N)
    with pytest.raises(KeyManagementError, match="already holds"):
        ring.save(directory, PASSPHRASE, scrypt_n=FAST_N)
    with pytest.raises(KeyUnlockError):
        KeyRing.load(directory, b"open sesame!")
    doc = json.loads((directory / "keyring.json").read_text())
    doc["credential"][0]["kid"] = "../../etc/x"
    (directory / "keyring.json").write_text(json.dumps(doc))
    with pytest.raises(KeyManagementError, match="invalid credential entry"):
        KeyRing.load(directory, PASSPHRASE)
    doc["credential"][0]["kid"] = ring.status_signer.kid  # a kid whose credential file does not exist
    (directory / "keyring.json").write_text(json.dumps(doc))
    with pytest.raises(KeyNotFoundError) as caught:
        KeyRing.load(directory, PASSPHRASE)
    assert caught.value.kid == ring.status_signer.kid


def test_swapped_certificate_is_refused(tmp_path: Path, ring: KeyRing) -> None:
    directory = tmp_path / "keys"
    ring.save(directory, PASSPHRASE, scrypt_n=FAST_N)
    credential_pem = directory / f"credential-{ring.credential_signer.kid}.crt.pem"
    credential_pem.write_bytes((directory / f"status-{ring.status_signer.kid}.crt.pem").read_bytes())
    with pytest.raises(KeyManagementError, match="does not carry key"):
        KeyRing.load(directory, PASSPHRASE)


def test_certificates_must_come_from_this_root(ring: KeyRing) -> None:
    foreign = KeyRing.generate(authority_code=CODE, authority_name=NAME, now=T0)
    parts = {
        "root": ring.root, "credential_signers": [foreign.credential_signer], "status_signers": ring.status_signers,
        "authority_code": CODE, "authority_name": NAME,
    }
    with pytest.raises(KeyManagementError, match="not signed by this root"):
        KeyRing(root_certificate=ring.root_certificate, certificates={**ring.certificates, **foreign.certificates},
                **parts)  # type: ignore[arg-type]
    with pytest.raises(KeyNotFoundError, match="no certificate"):
        KeyRing(root_certificate=ring.root_certificate, certificates=ring.certificates, **parts)  # type: ignore[arg-type]
    with pytest.raises(KeyManagementError, match="not a root-issued status"):
        KeyRing(root=ring.root, root_certificate=ring.root_certificate, credential_signers=ring.credential_signers,
                status_signers=ring.credential_signers, certificates=ring.certificates, authority_code=CODE,
                authority_name=NAME)


def test_overwrite_keeps_a_loadable_ring(tmp_path: Path, ring: KeyRing) -> None:
    directory = tmp_path / "keys"
    ring.save(directory, PASSPHRASE, scrypt_n=FAST_N)
    ring.save(directory, b"new passphrase", scrypt_n=FAST_N, overwrite=True)
    assert KeyRing.load(directory, b"new passphrase").root.kid == ring.root.kid
    with pytest.raises(KeyUnlockError):
        KeyRing.load(directory, PASSPHRASE)


def test_init_keys_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    ring = init_keys(directory, PASSPHRASE, CODE, NAME, T0, scrypt_n=FAST_N)
    assert KeyRing.load(directory, PASSPHRASE).credential_signer.kid == ring.credential_signer.kid
    with pytest.raises(KeyManagementError, match="not empty"):
        init_keys(directory, PASSPHRASE, CODE, NAME, T0, scrypt_n=FAST_N)
    with pytest.raises(KeyManagementError, match="six digits"):
        KeyRing.generate(authority_code="11010X", authority_name=NAME, now=T0)


def test_trust_list_names_every_signer_with_its_certificate(ring: KeyRing) -> None:
    token = ring.trust_list_token(issuer="https://permits.example", now=T0, version=4,
                                  status_lists=["https://permits.example/statuslists/1"],
                                  aggregation_uri="https://permits.example/statuslists", validity=7 * DAY)
    header = verify_compact(token, typ="trustlist+jwt", algorithms=("ES256",), resolve_key=lambda _: ring.root.public_key,
                            max_size=1 << 20).header
    assert header["kid"] == ring.root.kid and header["alg"] == "ES256"
    trust = verify_trust_list(token, root_key=ring.root.public_key, now=T0, min_version=4)
    assert (trust.version, trust.iat, trust.exp) == (4, T0, T0 + 7 * DAY)
    assert trust.status_lists == ("https://permits.example/statuslists/1",)
    assert trust.aggregation_uri == "https://permits.example/statuslists"
    credential = trust.key_for(ring.credential_signer.kid, purpose="credential", now=T0 + DAY,
                               credential_type="residence_registration")
    status = trust.key_for(ring.status_signer.kid, purpose="status", now=T0 + DAY)
    for key in (credential, status):
        cert = ring.certificates[key.kid]
        assert key.not_before == int(cert.not_valid_before_utc.timestamp())
        assert key.not_after == int(cert.not_valid_after_utc.timestamp())
        assert (key.authority_code, key.authority_name, key.state) == (CODE, NAME, "active")
        assert key.types == {"residence_permit", "residence_registration"}
    with pytest.raises(UntrustedIssuerError, match="not credential"):
        trust.key_for(ring.status_signer.kid, purpose="credential", now=T0 + DAY)
    with pytest.raises(UntrustedIssuerError, match="unknown key"):
        trust.key_for(ring.root.kid, purpose="credential", now=T0 + DAY)
