"""The key ring: generate, save/load round trip (keys.keydir), refusals, and the trust list it publishes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from credential.errors import UntrustedIssuerError
from credential.jose import verify_compact
from credential.trustlist import verify_trust_list
from keys import (
    KeyManagementError,
    KeyNotFoundError,
    KeyRing,
    KeyUnlockError,
    Purpose,
    PurposeNotAllowedError,
    add_store_secret,
    init_keys,
    load_keyring,
    load_store_secret,
    save_keyring,
)
from keys.keystore import open_secret
from tests.conftest import T0

DAY = 86400
FAST_N = 2**14
PASSPHRASE = b"open sesame"
CODE, NAME = "110105", "北京市公安局朝阳分局"


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing.generate(authority_code=CODE, authority_name=NAME, now=T0)


def newest(ring: KeyRing, purpose: Purpose) -> str:
    return ring.signers_of(purpose)[0].kid


def test_generate(ring: KeyRing) -> None:
    credential, status = (ring.signer_for(purpose, now=T0) for purpose in (Purpose.CREDENTIAL, Purpose.STATUS))
    assert credential.inner is ring.signers_of(Purpose.CREDENTIAL)[0]
    assert status.inner is ring.signers_of(Purpose.STATUS)[0]
    assert (credential.purpose, status.purpose) == (Purpose.CREDENTIAL, Purpose.STATUS) == ("credential", "status")
    assert len({ring.root.kid, credential.kid, status.kid}) == 3
    assert (ring.authority_code, ring.authority_name) == (CODE, NAME)
    assert [(purpose, s.kid) for purpose, s in ring.signers()] == [("credential", credential.kid),
                                                                   ("status", status.kid)]


def test_the_root_has_no_signing_keys_to_choose_from(ring: KeyRing) -> None:
    for purpose in (Purpose.ROOT, "holder"):
        with pytest.raises(PurposeNotAllowedError) as caught:
            ring.signer_for(purpose, now=T0)  # type: ignore[arg-type]
        assert caught.value.purpose == purpose and caught.value.allowed == ("credential", "status")
        with pytest.raises(PurposeNotAllowedError):
            ring.signers_of(purpose)  # type: ignore[arg-type]


def test_the_signing_key_is_chosen_at_the_time_given(ring: KeyRing) -> None:
    """A ring has no clock: the same ring answers for any ``now``, and refuses one outside every window."""
    not_before, not_after = ring.window(newest(ring, Purpose.STATUS))
    assert ring.signer_for(Purpose.STATUS, now=not_before).kid == newest(ring, Purpose.STATUS)
    assert ring.signer_for(Purpose.STATUS, now=not_after - 1).not_after == not_after
    for outside in (not_before - 1, not_after):
        with pytest.raises(KeyManagementError, match=f"no status key may sign at {outside}"):
            ring.signer_for(Purpose.STATUS, now=outside)


def test_save_load_round_trip(tmp_path: Path, ring: KeyRing) -> None:
    directory = tmp_path / "keys"
    save_keyring(ring, directory, PASSPHRASE, scrypt_n=FAST_N)
    credential, status = newest(ring, Purpose.CREDENTIAL), newest(ring, Purpose.STATUS)
    assert sorted(p.name for p in directory.iterdir()) == sorted([
        "keyring.json", "root.key.json", "root.crt.pem",
        f"credential-{credential}.key.json", f"credential-{credential}.crt.pem",
        f"status-{status}.key.json", f"status-{status}.crt.pem", "store-hmac.secret.json",
        "portrait-data.secret.json",
    ])
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in directory.iterdir())
    # The same words as before purposes were an enum: nothing on disk changed.
    doc = json.loads((directory / "keyring.json").read_text())
    assert (doc["credential"][0]["kid"], doc["status"][0]["kid"]) == (credential, status)
    assert json.loads((directory / "root.key.json").read_text())["purpose"] == "root"
    loaded = load_keyring(directory, PASSPHRASE)
    for purpose in (Purpose.CREDENTIAL, Purpose.STATUS):
        assert [s.kid for s in loaded.signers_of(purpose)] == [s.kid for s in ring.signers_of(purpose)]
    assert loaded.root.kid == ring.root.kid and loaded.root_certificate == ring.root_certificate
    assert (loaded.authority_code, loaded.authority_name, loaded.states) == (CODE, NAME, ring.states)
    assert loaded.store_secret == ring.store_secret and len(ring.store_secret) == 32
    assert ring.store_secret not in (directory / "store-hmac.secret.json").read_bytes()  # sealed, not in clear
    assert loaded.portrait_key == ring.portrait_key and ring.portrait_key is not None
    assert ring.portrait_key not in (directory / "portrait-data.secret.json").read_bytes()
    # the loaded keys sign what the saved ring's public keys verify
    token = loaded.trust_list_token(issuer="https://i", now=T0, version=1, status_lists=[], aggregation_uri=None)
    verify_trust_list(token, root_key=ring.root.public_key, now=T0)


def test_load_refusals(tmp_path: Path, ring: KeyRing) -> None:
    directory = tmp_path / "keys"
    save_keyring(ring, directory, PASSPHRASE, scrypt_n=FAST_N)
    with pytest.raises(KeyManagementError, match="already holds"):
        save_keyring(ring, directory, PASSPHRASE, scrypt_n=FAST_N)
    with pytest.raises(KeyUnlockError):
        load_keyring(directory, b"open sesame!")
    doc = json.loads((directory / "keyring.json").read_text())
    doc["credential"][0]["kid"] = "../../etc/x"
    (directory / "keyring.json").write_text(json.dumps(doc))
    with pytest.raises(KeyManagementError, match="invalid credential entry"):
        load_keyring(directory, PASSPHRASE)
    doc["credential"][0]["kid"] = newest(ring, Purpose.STATUS)  # a kid whose credential file does not exist
    (directory / "keyring.json").write_text(json.dumps(doc))
    with pytest.raises(KeyNotFoundError) as caught:
        load_keyring(directory, PASSPHRASE)
    assert caught.value.kid == newest(ring, Purpose.STATUS)


def test_swapped_certificate_is_refused(tmp_path: Path, ring: KeyRing) -> None:
    directory = tmp_path / "keys"
    save_keyring(ring, directory, PASSPHRASE, scrypt_n=FAST_N)
    credential_pem = directory / f"credential-{newest(ring, Purpose.CREDENTIAL)}.crt.pem"
    credential_pem.write_bytes((directory / f"status-{newest(ring, Purpose.STATUS)}.crt.pem").read_bytes())
    with pytest.raises(KeyManagementError, match="does not carry key"):
        load_keyring(directory, PASSPHRASE)


def test_certificates_must_come_from_this_root(ring: KeyRing) -> None:
    foreign = KeyRing.generate(authority_code=CODE, authority_name=NAME, now=T0)
    parts = {
        "root": ring.root, "authority_code": CODE, "authority_name": NAME, "store_secret": ring.store_secret,
        "signers": {Purpose.CREDENTIAL: foreign.signers_of(Purpose.CREDENTIAL),
                    Purpose.STATUS: ring.signers_of(Purpose.STATUS)},
    }
    with pytest.raises(KeyManagementError, match="not signed by this root"):
        KeyRing(root_certificate=ring.root_certificate, certificates={**ring.certificates, **foreign.certificates},
                **parts)  # type: ignore[arg-type]
    with pytest.raises(KeyNotFoundError, match="no certificate"):
        KeyRing(root_certificate=ring.root_certificate, certificates=ring.certificates, **parts)  # type: ignore[arg-type]
    with pytest.raises(KeyManagementError, match="not a root-issued status"):
        KeyRing(root=ring.root, root_certificate=ring.root_certificate,
                signers={Purpose.CREDENTIAL: ring.signers_of(Purpose.CREDENTIAL),
                         Purpose.STATUS: ring.signers_of(Purpose.CREDENTIAL)},
                certificates=ring.certificates, authority_code=CODE, authority_name=NAME,
                store_secret=ring.store_secret)
    with pytest.raises(KeyManagementError, match="at least one credential and one status signer"):
        KeyRing(root=ring.root, root_certificate=ring.root_certificate,
                signers={Purpose.CREDENTIAL: ring.signers_of(Purpose.CREDENTIAL), Purpose.STATUS: []},
                certificates=ring.certificates, authority_code=CODE, authority_name=NAME,
                store_secret=ring.store_secret)
    with pytest.raises(KeyManagementError, match="store secret must be 32 bytes"):
        KeyRing(root=ring.root, root_certificate=ring.root_certificate,
                signers={p: ring.signers_of(p) for p in (Purpose.CREDENTIAL, Purpose.STATUS)},
                certificates=ring.certificates, authority_code=CODE, authority_name=NAME, store_secret=b"short")


def test_overwrite_keeps_a_loadable_ring(tmp_path: Path, ring: KeyRing) -> None:
    directory = tmp_path / "keys"
    save_keyring(ring, directory, PASSPHRASE, scrypt_n=FAST_N)
    save_keyring(ring, directory, b"new passphrase", scrypt_n=FAST_N, overwrite=True)
    reloaded = load_keyring(directory, b"new passphrase")
    assert reloaded.root.kid == ring.root.kid and reloaded.store_secret == ring.store_secret
    with pytest.raises(KeyUnlockError):
        load_keyring(directory, PASSPHRASE)
    with pytest.raises(KeyUnlockError):
        load_store_secret(directory, PASSPHRASE)  # re-sealed under the new passphrase too


def test_a_key_directory_without_a_store_secret_is_refused_until_upgraded(tmp_path: Path, ring: KeyRing) -> None:
    """A directory from before the store secret: loading says how to add one; the upgrade never replaces one."""
    directory = tmp_path / "keys"
    save_keyring(ring, directory, PASSPHRASE, scrypt_n=FAST_N)
    (directory / "store-hmac.secret.json").unlink()
    with pytest.raises(KeyManagementError, match="epermit keys upgrade"):
        load_keyring(directory, PASSPHRASE)
    with pytest.raises(KeyUnlockError):
        add_store_secret(directory, b"not the passphrase", scrypt_n=FAST_N)
    assert not (directory / "store-hmac.secret.json").exists()
    assert add_store_secret(directory, PASSPHRASE, scrypt_n=FAST_N)
    added = load_keyring(directory, PASSPHRASE).store_secret
    assert len(added) == 32 and stat.S_IMODE((directory / "store-hmac.secret.json").stat().st_mode) == 0o600
    assert not add_store_secret(directory, PASSPHRASE, scrypt_n=FAST_N)
    assert load_store_secret(directory, PASSPHRASE) == added


def test_a_sealed_secret_opens_only_under_its_own_name(tmp_path: Path, ring: KeyRing) -> None:
    directory = tmp_path / "keys"
    save_keyring(ring, directory, PASSPHRASE, scrypt_n=FAST_N)
    document = json.loads((directory / "store-hmac.secret.json").read_text())
    with pytest.raises(KeyManagementError, match="not 'other'"):
        open_secret(document, passphrase=PASSPHRASE, name="other")
    document["name"] = "other"  # relabelled: the associated data no longer matches
    with pytest.raises(KeyUnlockError):
        open_secret(document, passphrase=PASSPHRASE, name="other")


def test_init_keys_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    ring = init_keys(directory, PASSPHRASE, CODE, NAME, T0, scrypt_n=FAST_N)
    assert newest(load_keyring(directory, PASSPHRASE), Purpose.CREDENTIAL) == newest(ring, Purpose.CREDENTIAL)
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
    credential = trust.key_for(newest(ring, Purpose.CREDENTIAL), purpose="credential", now=T0 + DAY,
                               credential_type="residence_registration")
    status = trust.key_for(newest(ring, Purpose.STATUS), purpose="status", now=T0 + DAY)
    for key in (credential, status):
        cert = ring.certificates[key.kid]
        assert key.not_before == int(cert.not_valid_before_utc.timestamp())
        assert key.not_after == int(cert.not_valid_after_utc.timestamp())
        assert (key.authority_code, key.authority_name, key.state) == (CODE, NAME, "active")
        assert key.types == {"residence_permit", "residence_registration"}
    with pytest.raises(UntrustedIssuerError, match="not credential"):
        trust.key_for(newest(ring, Purpose.STATUS), purpose="credential", now=T0 + DAY)
    with pytest.raises(UntrustedIssuerError, match="unknown key"):
        trust.key_for(ring.root.kid, purpose="credential", now=T0 + DAY)
