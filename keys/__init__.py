"""Private keys and certificates: generate, store encrypted at rest, rotate, sign trust lists.

The names below are the package's public API; code outside keys/ imports them from here, not from the
modules (which may move). Loading and saving go through keys.keydir (``load_keyring``, ``save_keyring``,
``init_keys``); a KeyRing itself is a value in memory that reads neither files nor a clock.
"""

from __future__ import annotations

from keys.certificates import Authority
from keys.errors import (
    KeyManagementError,
    KeyNotFoundError,
    KeyPurposeError,
    KeyUnlockError,
    PurposeNotAllowedError,
    RevocationReasonError,
    TrustListVersionError,
)
from keys.keydir import (
    add_store_secret,
    init_keys,
    issue_login_key,
    load_keyring,
    load_store_secret,
    new_token_signer,
    save_keyring,
)
from keys.keyring import TRUST_LIST_VALIDITY, KeyRing, Revocation
from keys.keystore import PASSPHRASE_ENV, SCRYPT_N, read_passphrase
from keys.login import LoginKey, LoginKeyError, check_login_key, load_login_key
from keys.pkcs11_signer import PIN_ENV, Pkcs11Location, Pkcs11Signer
from keys.publish import publish_trust_list
from keys.purpose import SIGNING_PURPOSES, Purpose, PurposeSigner, SigningKey
from keys.rotation import DEFAULT_LEAD_TIME, needs_replacement, prune, require_known, retire, revoke, rotate
from keys.signers import KeySigner, PrivateKey

__all__ = [
    "DEFAULT_LEAD_TIME",
    "PASSPHRASE_ENV",
    "PIN_ENV",
    "SCRYPT_N",
    "SIGNING_PURPOSES",
    "TRUST_LIST_VALIDITY",
    "Authority",
    "KeyManagementError",
    "KeyNotFoundError",
    "KeyPurposeError",
    "KeyRing",
    "KeySigner",
    "KeyUnlockError",
    "LoginKey",
    "LoginKeyError",
    "Pkcs11Location",
    "Pkcs11Signer",
    "PrivateKey",
    "Purpose",
    "PurposeNotAllowedError",
    "PurposeSigner",
    "Revocation",
    "RevocationReasonError",
    "SigningKey",
    "TrustListVersionError",
    "add_store_secret",
    "check_login_key",
    "init_keys",
    "issue_login_key",
    "load_keyring",
    "load_login_key",
    "load_store_secret",
    "needs_replacement",
    "new_token_signer",
    "prune",
    "publish_trust_list",
    "read_passphrase",
    "require_known",
    "retire",
    "revoke",
    "rotate",
    "save_keyring",
]
