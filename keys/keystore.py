"""Private keys (and the store's HMAC secret) at rest: a passphrase-sealed JSON envelope, written 0600,
never a clear key on disk.

Envelope (``epermit-key-v1``): scrypt(passphrase, salt, n=2**17, r=8, p=1) -> 32-byte key -> AES-256-GCM over
the PKCS#8 DER of the private key, with ``{"format", "kid", "purpose"}`` as associated data, so a file whose
kid or purpose was edited no longer opens, and a status key cannot be swapped in as the credential key.

Why scrypt and not PKCS#12. Measured here (cryptography 50.0.2, one core of this machine, P-256 key):

=============================================================  ===========  ==========
scheme                                                         write        unlock
=============================================================  ===========  ==========
PKCS#12, PBES2 PBKDF2-HMAC-SHA256 600 000 rounds, AES-256-CBC  0.094 s      0.098 s
PKCS#12, PBES2 PBKDF2-HMAC-SHA256 1 000 000 rounds             0.169 s      0.159 s
scrypt n=2**14 r=8 p=1 (16 MiB) + AES-256-GCM                  0.055 s      (same)
scrypt n=2**17 r=8 p=1 (128 MiB) + AES-256-GCM                 0.557 s      (same)
scrypt n=2**18 r=8 p=1 (256 MiB) + AES-256-GCM                 1.149 s      (same)
=============================================================  ===========  ==========

PBKDF2 needs a few hundred bytes of state per guess, so GPUs and ASICs run thousands of guesses side by side;
an attacker's cost grows only with the round count. scrypt at n=2**17 needs 128 MiB per guess, so memory
bandwidth, not cores, bounds a guessing rig. Unlocking costs the operator about half a second per key, once
at start-up, which is affordable. PKCS#12's advantage is interoperability (``openssl pkcs12`` reads it); an
operator who needs that can export a key explicitly. The scrypt cost is a parameter so tests can use 2**14;
files record their own parameters, and reading accepts n from 2**14 to 2**20 only.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)

from credential.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from credential.errors import MalformedError
from credential.jwk import key_id
from keys.errors import KeyManagementError, KeyUnlockError, PurposeNotAllowedError
from keys.purpose import Purpose
from keys.signers import PrivateKey

KEY_FILE_FORMAT = "epermit-key-v1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
MIN_SCRYPT_N, MAX_SCRYPT_N = 2**14, 2**20
MAX_KEY_FILE_SIZE = 16 * 1024
PASSPHRASE_ENV = "EPERMIT_KEY_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
MAX_PASSPHRASE_SIZE = 1024
KEY_PURPOSES = frozenset(Purpose)


def _scrypt(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + (1 << 20)  # OpenSSL's own bound plus slack; the default is 32 MiB
    return hashlib.scrypt(passphrase, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=32)


def _aad(kid: str, purpose: str) -> bytes:
    return json_dumps({"format": KEY_FILE_FORMAT, "kid": kid, "purpose": purpose})


def seal_private_key(private_key: PrivateKey, *, passphrase: bytes, purpose: Purpose,
                     scrypt_n: int = SCRYPT_N) -> dict[str, Any]:
    """The JSON envelope of ``private_key``; the clear PKCS#8 DER exists only in memory."""
    if purpose not in KEY_PURPOSES:  # a bare string from an untyped caller
        raise PurposeNotAllowedError(purpose, Purpose)
    kid = key_id(private_key.public_key())
    der = private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    return {"format": KEY_FILE_FORMAT, **_seal(der, passphrase=passphrase, aad=_aad(kid, purpose), scrypt_n=scrypt_n),
            "kid": kid, "purpose": purpose}


def _seal(plaintext: bytes, *, passphrase: bytes, aad: bytes, scrypt_n: int) -> dict[str, Any]:
    """The sealed fields of an envelope (``_unseal`` reads them back): scrypt over a fresh 16-byte salt, then
    AES-256-GCM with a fresh 12-byte nonce over ``aad``; the clear bytes exist only in memory."""
    if not passphrase:
        raise KeyUnlockError("empty passphrase")
    if not MIN_SCRYPT_N <= scrypt_n <= MAX_SCRYPT_N or scrypt_n & (scrypt_n - 1):
        raise KeyManagementError("scrypt n must be a power of two in [2**14, 2**20]")
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    sealed = AESGCM(_scrypt(passphrase, salt, scrypt_n, SCRYPT_R, SCRYPT_P)).encrypt(nonce, plaintext, aad)
    return {
        "kdf": {"name": "scrypt", "salt": b64url_encode(salt), "n": scrypt_n, "r": SCRYPT_R, "p": SCRYPT_P},
        "nonce": b64url_encode(nonce),
        "ciphertext": b64url_encode(sealed),
    }


def open_private_key(document: Any, *, passphrase: bytes, purpose: Purpose | None = None) -> PrivateKey:
    """Unseal an envelope; KeyUnlockError for a wrong passphrase or an edited file."""
    if not isinstance(document, dict) or document.get("format") != KEY_FILE_FORMAT:
        raise KeyManagementError(f"not an {KEY_FILE_FORMAT} key file")
    kdf, kid, file_purpose = document.get("kdf"), document.get("kid"), document.get("purpose")
    if not isinstance(kid, str) or file_purpose not in KEY_PURPOSES or not isinstance(kdf, dict):
        raise KeyManagementError("key file lacks kid, purpose or kdf")
    if purpose is not None and file_purpose != purpose:
        raise KeyManagementError(f"key file holds a {file_purpose} key, not a {purpose} key")
    der = _unseal(document, kdf, passphrase=passphrase, aad=_aad(kid, file_purpose), what="key file")
    key = load_der_private_key(der, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, ec.SECP256R1):
        raise KeyManagementError("key file holds an EC key that is not P-256")
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise KeyManagementError("key file holds neither a P-256 nor an Ed25519 key")
    if key_id(key.public_key()) != kid:
        raise KeyManagementError(f"key file kid {kid!r} does not match its key")
    return key


SECRET_FILE_FORMAT = "epermit-secret-v1"  # noqa: S105 - a format name
SECRET_SIZE = 32


def _secret_aad(name: str) -> bytes:
    return json_dumps({"format": SECRET_FILE_FORMAT, "name": name})


def seal_secret(secret: bytes, *, passphrase: bytes, name: str, scrypt_n: int = SCRYPT_N) -> dict[str, Any]:
    """The JSON envelope of a symmetric secret (e.g. the store's HMAC key), sealed like a key file: scrypt +
    AES-256-GCM, with ``{"format", "name"}`` as associated data, so one secret cannot stand in for another."""
    if len(secret) != SECRET_SIZE:
        raise KeyManagementError(f"a sealed secret is {SECRET_SIZE} bytes")
    return {"format": SECRET_FILE_FORMAT,
            **_seal(secret, passphrase=passphrase, aad=_secret_aad(name), scrypt_n=scrypt_n), "name": name}


def _unseal(document: dict[str, Any], kdf: dict[str, Any], *, passphrase: bytes, aad: bytes, what: str) -> bytes:
    """The plaintext of a sealed envelope (a key file or a secret file): scrypt parameters within bounds,
    base64url fields, a 16+ byte salt and a 12-byte nonce, then AES-256-GCM over ``aad``."""
    n, r, p = kdf.get("n"), kdf.get("r"), kdf.get("p")
    if (kdf.get("name") != "scrypt" or type(n) is not int or type(r) is not int or type(p) is not int
            or not MIN_SCRYPT_N <= n <= MAX_SCRYPT_N or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16):
        raise KeyManagementError(f"{what} has unacceptable scrypt parameters")
    if not passphrase:
        raise KeyUnlockError("empty passphrase")
    try:
        salt, nonce = b64url_decode(kdf.get("salt", "")), b64url_decode(document.get("nonce", ""))
        sealed = b64url_decode(document.get("ciphertext", ""))
    except MalformedError as exc:
        raise KeyManagementError(f"{what} has invalid base64url") from exc
    if len(salt) < 16 or len(nonce) != 12:
        raise KeyManagementError(f"{what} has a short salt or a wrong nonce size")
    try:
        plaintext: bytes = AESGCM(_scrypt(passphrase, salt, n, r, p)).decrypt(nonce, sealed, aad)
    except InvalidTag as exc:
        raise KeyUnlockError(f"wrong passphrase, or the {what} was altered") from exc
    return plaintext


def open_secret(document: Any, *, passphrase: bytes, name: str) -> bytes:
    """Unseal a secret envelope named ``name``; KeyUnlockError for a wrong passphrase or an edited file."""
    if not isinstance(document, dict) or document.get("format") != SECRET_FILE_FORMAT:
        raise KeyManagementError(f"not an {SECRET_FILE_FORMAT} file")
    if document.get("name") != name:
        raise KeyManagementError(f"the file holds the secret {document.get('name')!r}, not {name!r}")
    kdf = document.get("kdf")
    if not isinstance(kdf, dict):
        raise KeyManagementError("secret file has unacceptable scrypt parameters")
    secret = _unseal(document, kdf, passphrase=passphrase, aad=_secret_aad(name), what="secret file")
    if len(secret) != SECRET_SIZE:
        raise KeyManagementError(f"a sealed secret is {SECRET_SIZE} bytes")
    return secret


def write_secret_file(path: Path, secret: bytes, *, passphrase: bytes, name: str, scrypt_n: int = SCRYPT_N,
                      overwrite: bool = False) -> None:
    document = seal_secret(secret, passphrase=passphrase, name=name, scrypt_n=scrypt_n)
    write_private_file(path, json_dumps(document) + b"\n", overwrite=overwrite)


def read_secret_file(path: Path, *, passphrase: bytes, name: str) -> bytes:
    data = read_small_file(path, MAX_KEY_FILE_SIZE)
    try:
        document = json_loads(data, max_size=MAX_KEY_FILE_SIZE)
    except MalformedError as exc:
        raise KeyManagementError(f"{path} is not a secret file: {exc.reason}") from exc
    return open_secret(document, passphrase=passphrase, name=name)


def write_private_file(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` readable by the owner only (0600 whatever the umask); atomic when overwriting."""
    target = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp") if overwrite else path
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError as exc:
        raise KeyManagementError(f"{path} exists; refusing to overwrite it") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(target, path)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def read_small_file(path: Path, limit: int) -> bytes:
    """Read at most ``limit`` bytes of a file that must be smaller; KeyManagementError otherwise."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise KeyManagementError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > limit:
        raise KeyManagementError(f"{path} is larger than {limit} bytes")
    return data


def write_key_file(path: Path, private_key: PrivateKey, *, passphrase: bytes, purpose: Purpose,
                   scrypt_n: int = SCRYPT_N, overwrite: bool = False) -> None:
    document = seal_private_key(private_key, passphrase=passphrase, purpose=purpose, scrypt_n=scrypt_n)
    write_private_file(path, json_dumps(document) + b"\n", overwrite=overwrite)


def read_key_file(path: Path, *, passphrase: bytes, purpose: Purpose | None = None) -> PrivateKey:
    data = read_small_file(path, MAX_KEY_FILE_SIZE)
    try:
        document = json_loads(data, max_size=MAX_KEY_FILE_SIZE)
    except MalformedError as exc:
        raise KeyManagementError(f"{path} is not a key file: {exc.reason}") from exc
    return open_private_key(document, passphrase=passphrase, purpose=purpose)


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or detached stdin
        return False


def read_passphrase(*, env: Mapping[str, str], passphrase_file: Path | None,
                    prompt: Callable[[str], str] | None = None, is_tty: Callable[[], bool] = _stdin_is_tty,
                    confirm: bool = False, variable: str = PASSPHRASE_ENV, what: str = "Key") -> bytes:
    """The key passphrase: the file if one is named (explicit beats ambient), else the environment variable
    (EPERMIT_KEY_PASSPHRASE; ``variable`` names another, e.g. the wallet's), else a prompt (getpass, no
    echo, "``what`` passphrase:") when stdin is a terminal. There is no default.

    One trailing newline ("\\n" or "\\r\\n") of the file is dropped, as editors add one. ``confirm`` asks
    twice (for a new passphrase); ``prompt`` and ``is_tty`` exist for tests.
    """
    if passphrase_file is not None:
        try:
            data = read_small_file(passphrase_file, MAX_PASSPHRASE_SIZE + 2)
        except KeyManagementError as exc:
            raise KeyUnlockError(f"passphrase file: {exc.reason}") from exc
        data = data[:-2] if data.endswith(b"\r\n") else data.removesuffix(b"\n")
    elif variable in env:
        data = os.fsencode(env[variable])
    elif is_tty():
        ask = prompt if prompt is not None else getpass.getpass
        try:
            typed = ask(f"{what} passphrase: ")
            if confirm and ask("Repeat the passphrase: ") != typed:
                raise KeyUnlockError("the two passphrases differ")
        except EOFError as exc:
            raise KeyUnlockError("no passphrase typed") from exc
        data = typed.encode("utf-8")
    else:
        raise KeyUnlockError(f"no passphrase given (set {variable}, use a passphrase file, or run in a terminal)")
    if not data:
        raise KeyUnlockError("empty passphrase")
    if len(data) > MAX_PASSPHRASE_SIZE:
        raise KeyUnlockError(f"passphrase longer than {MAX_PASSPHRASE_SIZE} bytes")
    return data
