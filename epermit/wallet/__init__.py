"""The resident's command-line wallet (`epermit wallet`), for power users and for tests: a wallet folder
holding a sealed device key and the credentials picked up with it, an OpenID4VCI 1.0 client, the live QR.

- epermit.wallet.home: the folder (0700, files 0600) and the device key sealed at rest (keys.keystore);
- epermit.wallet.links: pickup page URLs, wallet links and ``openid-credential-offer://`` URIs;
- epermit.wallet.client: the pre-authorized code flow, checking everything the issuer sends;
- epermit.wallet.held: one held credential (SD-JWT VC, full and basic QR pass: one status index);
- epermit.wallet.wallet: pick up, show (static or live, basic or full view), status;
- epermit.wallet.display: the QR as PNG or terminal text.
The command line is epermit.cli.wallet. The demo and the tests use the same wallet as a resident's phone.
"""

from __future__ import annotations

from epermit.wallet.client import OpenId4VciClient
from epermit.wallet.errors import (
    BadCredentialError,
    IssuerRefusedError,
    IssuerUnreachableError,
    PickupPendingError,
    WalletError,
)
from epermit.wallet.held import HeldCredential
from epermit.wallet.home import PASSPHRASE_ENV, WalletHome, read_wallet_passphrase
from epermit.wallet.wallet import EXPIRES_SOON, CredentialStatus, Wallet

__all__ = [
    "EXPIRES_SOON",
    "PASSPHRASE_ENV",
    "BadCredentialError",
    "CredentialStatus",
    "HeldCredential",
    "IssuerRefusedError",
    "IssuerUnreachableError",
    "OpenId4VciClient",
    "PickupPendingError",
    "Wallet",
    "WalletError",
    "WalletHome",
    "read_wallet_passphrase",
]
