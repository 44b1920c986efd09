"""WalletHome: the resident's wallet folder — the sealed device key, the credentials held, a verifier cache.

Layout (the folder 0700, every file 0600; a folder others may read is refused, as ssh refuses one)::

    device-key.json          the device key (P-256), sealed: keys.keystore's epermit-key-v1 envelope
    credentials/<h>.json     one HeldCredential per document (h: a hash of its document number)
    verifier/                a verifier cache (pinned root, trust list, the credential's status list)

The device key is made at the first pickup and never leaves the folder in clear: scrypt (n = 2^17) and
AES-256-GCM, like the bureau's own keys, under a passphrase from EPERMIT_WALLET_PASSPHRASE, a file or a
prompt — there is no default. The envelope's ``purpose`` is keys.Purpose.CREDENTIAL, the keystore's name
for a key that signs for credentials (here: key proofs and live proofs); it can never pass for one of the
bureau's keys, which a key ring accepts only with a certificate from the bureau's root.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from credential.encoding import json_dumps, json_loads
from credential.errors import MalformedError
from epermit.errors import UsageError
from epermit.wallet.errors import WalletError
from epermit.wallet.held import HeldCredential
from keys import KeySigner, Purpose, read_passphrase
from keys.keystore import (
    SCRYPT_N,
    read_key_file,
    read_small_file,
    write_key_file,
    write_private_file,
)
from verifier.cache import VerifierCache

PASSPHRASE_ENV = "EPERMIT_WALLET_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
HOME_ENV = "EPERMIT_WALLET_HOME"
DEVICE_KEY_FILE = "device-key.json"
CREDENTIALS_DIR = "credentials"
VERIFIER_DIR = "verifier"
MAX_CREDENTIAL_FILE = 256 * 1024
MAX_CREDENTIALS = 64  # documents one wallet holds; more files than this is not a wallet folder


def default_home(env: Mapping[str, str]) -> Path:
    configured = env.get(HOME_ENV)
    return Path(configured) if configured else Path.home() / ".local" / "share" / "epermit" / "wallet"


def read_wallet_passphrase(*, env: Mapping[str, str], passphrase_file: Path | None,
                           prompt: Callable[[str], str] | None = None, is_tty: Callable[[], bool] | None = None,
                           confirm: bool = False) -> bytes:
    """The device key's passphrase: the file if named, else EPERMIT_WALLET_PASSPHRASE, else a prompt (no
    echo) on a terminal; ``confirm`` asks twice (a new key). The keys' own rule, with the wallet's variable."""
    terminal = {"is_tty": is_tty} if is_tty is not None else {}
    return read_passphrase(env=env, passphrase_file=passphrase_file, prompt=prompt, confirm=confirm,
                           variable=PASSPHRASE_ENV, what="Wallet", **terminal)


def _private_folder(path: Path, *, create: bool) -> Path:
    """``path`` as a folder only its owner may enter: made 0700 when ``create``, refused when others may read it."""
    if create:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise UsageError(f"no wallet at {path} (pick a credential up first: `epermit wallet --home {path} "
                         "pickup LINK --pin PIN`)") from None
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path} is not a folder")
    if info.st_mode & 0o077:
        raise UsageError(f"{path} may be read by others (mode {stat.S_IMODE(info.st_mode):o}): "
                         f"`chmod 700 {path}` and check who saw it")
    return path


class WalletHome:
    """One resident's wallet folder (module docstring). ``create``: make it on first use (a pickup).
    ``scrypt_n``: the sealing cost of a new device key (tests lower it; files record their own)."""

    def __init__(self, path: Path, *, create: bool = False, scrypt_n: int = SCRYPT_N) -> None:
        self.path = _private_folder(path, create=create)
        self.scrypt_n = scrypt_n
        self._credentials = _private_folder(self.path / CREDENTIALS_DIR, create=create) \
            if create or (self.path / CREDENTIALS_DIR).exists() else None

    # -- the device key ----------------------------------------------------------------------------

    @property
    def device_key_path(self) -> Path:
        return self.path / DEVICE_KEY_FILE

    def has_device_key(self) -> bool:
        return os.path.lexists(self.device_key_path)

    def create_device_key(self, passphrase: bytes) -> KeySigner:
        """A new P-256 device key, sealed into the folder (refused if one is there: it binds held credentials)."""
        signer = KeySigner.generate("ES256")
        write_key_file(self.device_key_path, signer.private_key, passphrase=passphrase, purpose=Purpose.CREDENTIAL,
                       scrypt_n=self.scrypt_n)
        return signer

    def device_key(self, passphrase: bytes) -> KeySigner:
        """The device key, unsealed (KeyUnlockError for a wrong passphrase or an altered file)."""
        if not self.has_device_key():
            raise UsageError(f"no device key in {self.path}: pick a credential up first")
        return KeySigner(read_key_file(self.device_key_path, passphrase=passphrase, purpose=Purpose.CREDENTIAL))

    # -- credentials -------------------------------------------------------------------------------

    def _file(self, document_number: str) -> Path:
        assert self._credentials is not None
        digest = hashlib.sha256(document_number.encode("utf-8")).hexdigest()[:32]
        return self._credentials / f"{digest}.json"

    def save(self, held: HeldCredential) -> None:
        """Keep ``held``; it replaces the copy of the same document held before (an endorsement's new one)."""
        if self._credentials is None:
            self._credentials = _private_folder(self.path / CREDENTIALS_DIR, create=True)
        write_private_file(self._file(held.document_number), json_dumps(held.to_json()) + b"\n", overwrite=True)

    def credentials(self) -> list[HeldCredential]:
        """Every credential held, the latest pickup first; a damaged file is reported, not skipped."""
        if self._credentials is None:
            return []
        names = sorted(p for p in self._credentials.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        if len(names) > MAX_CREDENTIALS:
            raise UsageError(f"{self._credentials} holds more than {MAX_CREDENTIALS} files: not a wallet folder")
        held = []
        for path in names:
            try:
                if not stat.S_ISREG(os.lstat(path).st_mode):
                    raise MalformedError("not a regular file")
                held.append(HeldCredential.from_json(json_loads(read_small_file(path, MAX_CREDENTIAL_FILE),
                                                                max_size=MAX_CREDENTIAL_FILE)))
            except MalformedError as exc:
                raise WalletError(f"{path}: {exc.reason}") from exc
        return sorted(held, key=lambda h: (-h.picked_up_at, h.document_number))

    def find(self, document_number: str | None) -> HeldCredential:
        """The credential of ``document_number``, or with None the one picked up last."""
        held = self.credentials()
        if not held:
            raise UsageError(f"the wallet at {self.path} holds no credential yet")
        if document_number is None:
            return held[0]
        wanted = document_number.strip().upper()
        for credential in held:
            if credential.document_number == wanted:
                return credential
        raise UsageError(f"no credential {document_number!r} in this wallet (`epermit wallet list` shows them)")

    # -- the verifier cache (status) ---------------------------------------------------------------

    def verifier_cache(self) -> VerifierCache:
        return VerifierCache(self.path / VERIFIER_DIR)
