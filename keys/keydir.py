"""The key directory on disk: ``keyring.json`` (public: order, states, backends) and one file pair per key.

This module owns loading, saving and creating key directories (``load_keyring``, ``save_keyring``,
``init_keys``); a keys.keyring.KeyRing is the value they read and write, and knows nothing of files.

::

    keyring.json                     format, authority, root kid, eku_arc (the extendedKeyUsage arc of the
                                     purposes, credential.eku), and per purpose a newest-first list of
                                     {"kid", "state", ["backend": {"type": "pkcs11", "lib", "token", "label"}],
                                      ["revoked": {"reason", "at"}]}
    root.key.json  root.crt.pem      the root: signs certificates and trust lists only
    credential-<kid>.key.json .crt.pem    (no .key.json for a key held in a PKCS#11 token)
    status-<kid>.key.json     .crt.pem
    trustlist.version                the highest trust list version published from this directory
    store-hmac.secret.json           the store secret (KeyRing.store_secret): the issuer's HMAC key for what
                                     its store keeps of pickup codes, PINs and tokens, sealed like a key
    portrait-data.secret.json        the portrait key (KeyRing.portrait_key): the AES-256-GCM data key of the
                                     residents' portraits in the store, sealed like a key
    login.key.json  login.crt.pem    the login key (keys/login.py): signs the residents' OpenID4VP login
                                     requests, its certificate issued by the root for the public host; not in
                                     keyring.json, loaded by the wallet API alone (``load_login_key``)

Key files are keys/keystore.py envelopes; every file is written 0600 and the directory 0700. A PKCS#11
key's PIN is never written: it comes from EPERMIT_PKCS11_PIN (or the caller).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from credential.eku import DEFAULT_EKU_ARC
from credential.encoding import json_dumps, json_loads
from credential.errors import MalformedError
from credential.trustlist import STATES
from keys.certificates import Authority, signing_certificate
from keys.errors import KeyManagementError, KeyNotFoundError, KeyUnlockError
from keys.keyring import KeyRing, Revocation
from keys.keystore import (
    SCRYPT_N,
    read_key_file,
    read_secret_file,
    read_small_file,
    write_key_file,
    write_private_file,
    write_secret_file,
)
from keys.login import LoginKey, checked_host, has_login_key, new_login_key, write_login_key
from keys.pkcs11_signer import PIN_ENV, Pkcs11Location, Pkcs11Signer
from keys.purpose import SIGNING_PURPOSES, Purpose, SigningKey
from keys.signers import KeySigner

KEYRING_FILE = "keyring.json"
KEYRING_FORMAT = "epermit-keyring-v1"
VERSION_FILE = "trustlist.version"
STORE_SECRET_FILE = "store-hmac.secret.json"  # noqa: S105 - a file name, not a secret
STORE_SECRET_NAME = "store-hmac"  # noqa: S105 - the envelope's label
PORTRAIT_KEY_FILE = "portrait-data.secret.json"
PORTRAIT_KEY_NAME = "portrait-data"
MAX_KEYRING_FILE_SIZE = 256 * 1024
MAX_CERTIFICATE_FILE_SIZE = 16 * 1024
_KID = re.compile(r"[A-Za-z0-9_-]{11}")  # also keeps a tampered keyring.json from naming paths outside the dir


def load_keyring(directory: Path, passphrase: bytes, *, pkcs11_pin: str | None = None) -> KeyRing:
    """Open a key directory; KeyUnlockError on a wrong passphrase or PIN, KeyNotFoundError for a missing key.

    The PIN of PKCS#11 keys is ``pkcs11_pin``, else the environment variable EPERMIT_PKCS11_PIN.
    """
    try:
        doc = json_loads(read_small_file(directory / KEYRING_FILE, MAX_KEYRING_FILE_SIZE),
                         max_size=MAX_KEYRING_FILE_SIZE)
    except MalformedError as exc:
        raise KeyManagementError(f"{KEYRING_FILE}: {exc.reason}") from exc
    if not isinstance(doc, dict) or doc.get("format") != KEYRING_FORMAT:
        raise KeyManagementError(f"{directory / KEYRING_FILE} is not an {KEYRING_FORMAT} file")
    authority = doc.get("authority")
    if not isinstance(authority, dict):
        raise KeyManagementError(f"{KEYRING_FILE} lacks the authority")
    root = KeySigner(read_key_file(directory / "root.key.json", passphrase=passphrase, purpose=Purpose.ROOT))
    signers: dict[Purpose, list[SigningKey]] = {}
    certificates: dict[str, x509.Certificate] = {}
    states: dict[str, str] = {}
    backends: dict[str, Pkcs11Location] = {}
    revocations: dict[str, Revocation] = {}
    for purpose in SIGNING_PURPOSES:
        signers[purpose] = []
        for entry in _entries(doc, purpose):
            kid = entry["kid"]
            if "backend" in entry:
                location = Pkcs11Location.from_json(entry["backend"])
                signer: SigningKey = _token_signer(location, pkcs11_pin)
                backends[kid] = location
            else:
                key_file = directory / f"{purpose}-{kid}.key.json"
                if not key_file.exists():
                    raise KeyNotFoundError(kid, f"{key_file.name} missing")
                signer = KeySigner(read_key_file(key_file, passphrase=passphrase, purpose=purpose))
            if signer.kid != kid:
                raise KeyManagementError(f"the key listed as {kid} is {signer.kid}")
            signers[purpose].append(signer)
            certificates[kid] = _read_certificate(directory / f"{purpose}-{kid}.crt.pem")
            states[kid] = entry["state"]
            if "revoked" in entry:
                revocations[kid] = _revocation(entry["revoked"])
    eku_arc = doc.get("eku_arc", DEFAULT_EKU_ARC)
    if not isinstance(eku_arc, str):
        raise KeyManagementError(f"{KEYRING_FILE} has an invalid eku_arc")
    return KeyRing(root=root, root_certificate=_read_certificate(directory / "root.crt.pem"), signers=signers,
                   certificates=certificates, authority_code=str(authority.get("code", "")),
                   authority_name=str(authority.get("name", "")), states=states, backends=backends,
                   revocations=revocations, store_secret=load_store_secret(directory, passphrase), eku_arc=eku_arc,
                   portrait_key=load_portrait_key(directory, passphrase))


def load_portrait_key(directory: Path, passphrase: bytes) -> bytes | None:
    """The portrait data key, or None for a key directory made before portraits: everything else works, and
    the issuer refuses portraits until `epermit keys upgrade` adds the key (``add_portrait_key``)."""
    path = directory / PORTRAIT_KEY_FILE
    if not path.exists():
        return None
    return read_secret_file(path, passphrase=passphrase, name=PORTRAIT_KEY_NAME)


def load_store_secret(directory: Path, passphrase: bytes) -> bytes:
    """The store secret alone (one scrypt, not every key: `epermit officers token` needs only this).

    A key directory made before the store secret existed has none: refused with the command that adds one
    (``add_store_secret``), never replaced by a fresh secret behind the operator's back.
    """
    path = directory / STORE_SECRET_FILE
    if not path.exists():
        raise KeyManagementError(f"{path} is missing (a key directory from an older epermit): "
                                 f"add it with `epermit keys upgrade --dir {directory}`")
    return read_secret_file(path, passphrase=passphrase, name=STORE_SECRET_NAME)


def add_store_secret(directory: Path, passphrase: bytes, *, scrypt_n: int = SCRYPT_N) -> bool:
    """Give an older key directory its store secret; False if it has one already (which is never replaced:
    a new secret would orphan every pickup code, access token and officer token the store knows)."""
    if not (directory / KEYRING_FILE).exists():
        raise KeyManagementError(f"{directory} holds no key ring")
    if (directory / STORE_SECRET_FILE).exists():
        return False
    read_key_file(directory / "root.key.json", passphrase=passphrase, purpose=Purpose.ROOT)  # the right passphrase
    write_secret_file(directory / STORE_SECRET_FILE, secrets.token_bytes(32), passphrase=passphrase,
                      name=STORE_SECRET_NAME, scrypt_n=scrypt_n)
    return True


def add_portrait_key(directory: Path, passphrase: bytes, *, scrypt_n: int = SCRYPT_N) -> bool:
    """Give an older key directory its portrait key; False if it has one (never replaced: a new key would
    make every stored portrait unreadable)."""
    if not (directory / KEYRING_FILE).exists():
        raise KeyManagementError(f"{directory} holds no key ring")
    if (directory / PORTRAIT_KEY_FILE).exists():
        return False
    read_key_file(directory / "root.key.json", passphrase=passphrase, purpose=Purpose.ROOT)  # the right passphrase
    write_secret_file(directory / PORTRAIT_KEY_FILE, secrets.token_bytes(32), passphrase=passphrase,
                      name=PORTRAIT_KEY_NAME, scrypt_n=scrypt_n)
    return True


def issue_login_key(directory: Path, passphrase: bytes, *, host: str, now: int, scrypt_n: int = SCRYPT_N,
                    replace: bool = False) -> LoginKey | None:
    """Make the login key and its certificate for ``host`` with the directory's root (``epermit keys login``:
    ``replace`` re-issues both, e.g. for a new host; else None when the directory has one already)."""
    if not (directory / KEYRING_FILE).exists():
        raise KeyManagementError(f"{directory} holds no key ring")
    host = checked_host(host)
    if has_login_key(directory) and not replace:
        return None
    root = KeySigner(read_key_file(directory / "root.key.json", passphrase=passphrase, purpose=Purpose.ROOT))
    root_cert = _read_certificate(directory / "root.crt.pem")
    login = new_login_key(root, root_cert, host=host, now=now)
    write_login_key(directory, login, passphrase, scrypt_n=scrypt_n, overwrite=replace)
    return login


def save_keyring(ring: KeyRing, directory: Path, passphrase: bytes, *, scrypt_n: int = SCRYPT_N,
                 overwrite: bool = False, update: bool = False) -> None:
    """Write every file key sealed under ``passphrase`` (``overwrite``: re-seal them all, e.g. to change the
    passphrase; each file is replaced atomically); ``keyring.json`` last, so a crash leaves the old ring.

    ``update`` (after a rotation or a revocation): write only the files of keys new to the directory, then
    replace ``keyring.json``; keys already on disk are left untouched.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if update:
        if not (directory / KEYRING_FILE).exists():
            raise KeyManagementError(f"{directory} holds no key ring to update")
    elif (directory / KEYRING_FILE).exists() and not overwrite:
        raise KeyManagementError(f"{directory} already holds a key ring")
    for purpose, signer in [(Purpose.ROOT, ring.root), *ring.signers()]:
        stem = "root" if purpose is Purpose.ROOT else f"{purpose}-{signer.kid}"
        if update and (directory / f"{stem}.crt.pem").exists():
            continue
        cert = ring.root_certificate if purpose is Purpose.ROOT else ring.certificates[signer.kid]
        _write_key(directory, stem, purpose, signer, cert, passphrase, scrypt_n, overwrite)
    if not update or not (directory / STORE_SECRET_FILE).exists():
        write_secret_file(directory / STORE_SECRET_FILE, ring.store_secret, passphrase=passphrase,
                          name=STORE_SECRET_NAME, scrypt_n=scrypt_n, overwrite=overwrite or update)
    if ring.portrait_key is not None and (not update or not (directory / PORTRAIT_KEY_FILE).exists()):
        write_secret_file(directory / PORTRAIT_KEY_FILE, ring.portrait_key, passphrase=passphrase,
                          name=PORTRAIT_KEY_NAME, scrypt_n=scrypt_n, overwrite=overwrite)
    doc = {
        "format": KEYRING_FORMAT,
        "authority": {"code": ring.authority_code, "name": ring.authority_name},
        "root": ring.root.kid,
        "eku_arc": ring.eku_arc,
        **{purpose.value: [_entry(ring, s.kid) for s in ring.signers_of(purpose)] for purpose in SIGNING_PURPOSES},
    }
    write_private_file(directory / KEYRING_FILE, json_dumps(doc) + b"\n", overwrite=overwrite or update)


def init_keys(directory: Path, passphrase: bytes, authority_code: str, authority_name: str, now: int, *,
              scrypt_n: int = SCRYPT_N, token: tuple[str, str, str] | None = None,
              eku_arc: str = DEFAULT_EKU_ARC, login_host: str | None = None) -> KeyRing:
    """Create a new key directory (``epermit keys init``); refuses a directory that is not empty.

    ``token`` = (PKCS#11 library path, token label, PIN): the credential and status keys are then created
    inside the token (non-extractable); the root stays a sealed file, kept offline. ``eku_arc``: the OID arc
    the deployment owns, under which the certificates name their purposes (credential.eku); kept in
    keyring.json for every certificate made later. ``login_host``: also the login key, its certificate naming
    that host (keys/login.py; the public URL's host).
    """
    if login_host is not None:
        login_host = checked_host(login_host)  # before anything is written
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise KeyManagementError(f"{directory} exists and is not empty; refusing to overwrite keys")
    ring = KeyRing.generate(authority_code=authority_code, authority_name=authority_name, now=now,
                            eku_arc=eku_arc)
    if token is not None:
        authority = Authority(authority_code, authority_name)
        for purpose in SIGNING_PURPOSES:
            signer = new_token_signer(token, purpose)
            ring.certificates[signer.kid] = signing_certificate(
                signer.public_key, purpose=purpose, root_key=ring.root.private_key,
                root_cert=ring.root_certificate, authority=authority, now=now, eku_arc=ring.eku_arc)
            ring.backends[signer.kid] = signer.location
            ring.states[signer.kid] = "active"
            signers = ring.signers_of(purpose)
            file_signer = signers[0]
            del ring.certificates[file_signer.kid], ring.states[file_signer.kid]
            signers[:] = [signer]
    save_keyring(ring, directory, passphrase, scrypt_n=scrypt_n)
    if login_host is not None:
        write_login_key(directory, new_login_key(ring.root, ring.root_certificate, host=login_host, now=now),
                        passphrase, scrypt_n=scrypt_n)
    return ring


def _entry(ring: KeyRing, kid: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"kid": kid, "state": ring.states[kid]}
    if kid in ring.backends:
        entry["backend"] = ring.backends[kid].to_json()
    if kid in ring.revocations:
        entry["revoked"] = {"reason": ring.revocations[kid].reason, "at": ring.revocations[kid].at}
    return entry


def _write_key(directory: Path, stem: str, purpose: Purpose, signer: SigningKey, cert: x509.Certificate,
               passphrase: bytes, scrypt_n: int, overwrite: bool) -> None:
    if isinstance(signer, KeySigner):  # a PKCS#11 key has no file: it never leaves its token
        write_key_file(directory / f"{stem}.key.json", signer.private_key, passphrase=passphrase,
                       purpose=purpose, scrypt_n=scrypt_n, overwrite=overwrite)
    write_private_file(directory / f"{stem}.crt.pem", cert.public_bytes(Encoding.PEM), overwrite=overwrite)


def _token_signer(location: Pkcs11Location, pin: str | None) -> Pkcs11Signer:
    pin = pin if pin is not None else os.environ.get(PIN_ENV)
    if not pin:
        raise KeyUnlockError(f"key {location.key_label!r} is in a PKCS#11 token: set {PIN_ENV}")
    return Pkcs11Signer(location.lib_path, location.token_label, pin, location.key_label)


def new_token_signer(token: tuple[str, str, str], purpose: Purpose) -> Pkcs11Signer:
    """Create a fresh ``purpose`` key pair inside the token; token = (library path, token label, PIN)."""
    lib_path, token_label, pin = token
    return Pkcs11Signer.generate(lib_path, token_label, pin, f"epermit-{purpose}-{secrets.token_hex(6)}")


def _entries(doc: dict[str, Any], purpose: Purpose) -> list[dict[str, Any]]:
    entries = doc.get(purpose)
    if not isinstance(entries, list) or not entries:
        raise KeyManagementError(f"{KEYRING_FILE} lists no {purpose} keys")
    for entry in entries:
        if (not isinstance(entry, dict) or not isinstance(entry.get("kid"), str)
                or not _KID.fullmatch(entry["kid"]) or entry.get("state") not in STATES):
            raise KeyManagementError(f"{KEYRING_FILE} has an invalid {purpose} entry")
    return entries


def _revocation(doc: Any) -> Revocation:
    if not isinstance(doc, dict) or not isinstance(doc.get("reason"), str) or type(doc.get("at")) is not int:
        raise KeyManagementError(f"{KEYRING_FILE} has an invalid revocation")
    return Revocation(doc["reason"], doc["at"])


def _read_certificate(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(read_small_file(path, MAX_CERTIFICATE_FILE_SIZE))
    except ValueError as exc:
        raise KeyManagementError(f"{path.name} is not a PEM certificate") from exc


def last_published_version(directory: Path) -> int:
    """The highest trust list version published from this key directory (0 if none)."""
    path = directory / VERSION_FILE
    if not path.exists():
        return 0
    text = read_small_file(path, 32).decode("ascii", errors="replace").strip()
    if not text.isdigit():
        raise KeyManagementError(f"{path} is damaged")
    return int(text)


def record_published_version(directory: Path, version: int) -> None:
    write_private_file(directory / VERSION_FILE, f"{version}\n".encode("ascii"), overwrite=True)
