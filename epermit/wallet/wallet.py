"""Wallet: what a resident does with the credentials in a wallet folder — pick up, show, check the status.

- ``pick_up``: the device key is unsealed (or, the first time, made and sealed) *before* the PIN is sent, so
  a wrong passphrase never costs a PIN attempt; then the OpenID4VCI flow (epermit.wallet.client), then the
  credential is kept (replacing an earlier copy of the same document: an endorsement's new validity).
- ``qr_text``: the pass as the QR shows it, basic view unless asked (DESIGN §1: the basic view by default);
  ``live``: wrapped with a proof the device key signs now (DESIGN §2.3), which is what a verifier reports
  as *live*. Only the live form needs the passphrase.
- ``portrait``: the holder's portrait P, from the ``picture`` its SD-JWT VC discloses; ``show`` draws it as
  the portrait code beside the pass (credential.portraitcode), in every view: a landlord needs the face most
  when the basic view hides everything else.
- ``status``: syncs the credential's own status list and the trust list into the folder's verifier cache
  (the bureau's root pinned there: ``root_pem`` the first time) and has the verifier judge the held pass,
  as a landlord's verifier would; a credential within EXPIRES_SOON of its end says so.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass

from credential.disclosures import decode_disclosure
from credential.errors import CredentialError
from credential.passclaims import PassView
from credential.portrait import PICTURE_CLAIM, read_picture
from credential.qrpass import live_qr_text, pass_to_qr_text
from credential.sdjwt import MAX_SD_JWT, split_sd_jwt
from epermit.errors import UsageError
from epermit.wallet.client import OpenId4VciClient
from epermit.wallet.held import HeldCredential
from epermit.wallet.home import WalletHome
from epermit.wallet.links import https_url, offer_source
from verifier.errors import NoRootError, VerifierError
from verifier.policy import Policy
from verifier.result import Result, VerificationResult
from verifier.sync import fetch
from verifier.verify import verify

DAY = 86400
EXPIRES_SOON = 30 * DAY  # the annual endorsement (签注) is due from 60 days before; a month left is urgent
MAX_NONCE = 64

# A passphrase source: called with True when a new key is made (ask twice), False to unseal the key.
PassphraseSource = Callable[[bool], bytes]


@dataclass(frozen=True)
class CredentialStatus:
    """What ``status`` found: the verifier's verdict on the held pass, and what the wallet adds to it."""

    held: HeldCredential
    outcome: VerificationResult
    expires_soon: bool
    sync_problem: str | None  # why the sync failed (the verdict then rests on what the cache held)

    @property
    def ok(self) -> bool:
        return self.outcome.result is Result.VALID


class Wallet:
    def __init__(self, home: WalletHome, client: OpenId4VciClient) -> None:
        self.home = home
        self.client = client

    # -- pickup ------------------------------------------------------------------------------------

    def pick_up(self, link: str, pin: str | None, passphrase: PassphraseSource) -> HeldCredential:
        offer_source(link, allow_http=self.client.allow_http)  # a link that is none fails before any passphrase
        if self.home.has_device_key():
            device_key = self.home.device_key(passphrase(False))
        else:
            device_key = self.home.create_device_key(passphrase(True))
        held = self.client.pick_up(link, pin, device_key)
        self.home.save(held)
        return held

    # -- showing -----------------------------------------------------------------------------------

    def qr_text(self, *, document: str | None = None, view: PassView = PassView.BASIC, live: bool = False,
                passphrase: PassphraseSource | None = None, now: int | None = None,
                nonce: bytes | None = None) -> str:
        """The QR text of the held pass in ``view``; ``live`` signs a fresh proof at ``now``."""
        cose = self.home.find(document).cose_pass(view)
        if not live:
            return pass_to_qr_text(cose)
        if passphrase is None or now is None:
            raise UsageError("a live QR needs the device key's passphrase and the time")
        if nonce is not None and not 0 < len(nonce) <= MAX_NONCE:
            raise UsageError(f"a verifier's nonce is 1 to {MAX_NONCE} bytes")
        return live_qr_text(cose, holder_signer=self.home.device_key(passphrase(False)), now=now, nonce=nonce)

    def portrait(self, *, document: str | None = None) -> bytes | None:
        """The portrait's bytes P the held SD-JWT VC discloses as ``picture`` (None: it has none)."""
        sd_jwt = self.home.find(document).sd_jwt_vc
        if sd_jwt is None:
            return None
        _, disclosures, _ = split_sd_jwt(sd_jwt)
        for text in disclosures:
            disclosure = decode_disclosure(text, max_size=MAX_SD_JWT)
            if disclosure.name == PICTURE_CLAIM:
                return read_picture(disclosure.value).data
        return None

    # -- status ------------------------------------------------------------------------------------

    def status(self, *, document: str | None = None, root_pem: bytes | None = None, now: int) -> CredentialStatus:
        held = self.home.find(document)
        cache = self.home.verifier_cache()
        if root_pem is not None:
            cache.pin_root(root_pem)  # RootMismatchError for another root than the one pinned
        try:
            cache.root_key()
        except NoRootError as exc:
            raise UsageError("no root pinned in this wallet: give the bureau's root certificate once (--root "
                             "root.pem)") from exc
        problem = self._sync(held, cache_now=now)
        view = PassView.FULL if held.qr_pass is not None else PassView.BASIC
        outcome = verify(pass_to_qr_text(held.cose_pass(view)), cache, policy=Policy(), now=now)
        soon = outcome.result is Result.VALID and held.expires_in(now) <= EXPIRES_SOON
        return CredentialStatus(held, outcome, soon, problem)

    def _sync(self, held: HeldCredential, *, cache_now: int) -> str | None:
        """The trust list and this credential's own status list (not every list: a city has many); None when
        both were accepted, else why not."""
        cache = self.home.verifier_cache()
        tls: ssl.SSLContext | None = self.client.tls
        try:
            https_url(held.issuer, what="the issuer", allow_http=self.client.allow_http)
            https_url(held.status_uri, what="the status list", allow_http=self.client.allow_http)
            trust_url = f"{held.issuer}/trustlist.jwt"
            cache.accept_trust_list(_ascii(fetch(trust_url, timeout=self.client.timeout, tls=tls)), cache_now)
            token = _ascii(fetch(held.status_uri, timeout=self.client.timeout, tls=tls))
            cache.accept_status_list(held.status_uri, token, cache_now)
        except (CredentialError, VerifierError, UsageError) as exc:
            return str(exc)
        return None


def _ascii(body: bytes) -> str:
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise VerifierError("the issuer did not send a compact JWS") from exc
