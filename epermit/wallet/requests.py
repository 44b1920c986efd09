"""The wallet's online requests (wallet_api.resident): ask, follow, and refresh into the renewed credential.

- ``ask``: endorse, address or deregister, authenticated by the OpenID4VP login (epermit.wallet.login: the
  held SD-JWT VC presented once, then a session bound to the device key by DPoP), or, by a service without
  a login, by a presentation per request with a KB-JWT over the service's nonce and audience;
- ``report_lost``: from a new wallet folder, with the citizen ID and the recovery code;
- ``send_code`` / ``confirm_code``: a lost phone's re-delivery by a one-time code sent to the registered
  phone number, instead of waiting for an officer;
- ``follow``: every request this folder made, as the service sees it now (each one by its bearer token,
  kept 0600 in ``requests/``), and the holder's notifications when a credential is held;
- ``refresh``: an approved request's pickup offers, each redeemed as at the first pickup (the credential is
  verified before the wallet reports credential_accepted and keeps it; the old copy of the same document is
  replaced only then), so that the service revokes the old credential only once the new one is here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credential.encoding import json_dumps, json_loads
from credential.model import CredentialType
from credential.sdjwt import present
from epermit.errors import UsageError
from epermit.wallet.client import _well_known as well_known
from epermit.wallet.errors import BadCredentialError
from epermit.wallet.held import HeldCredential
from epermit.wallet.login import ResidentLogin
from epermit.wallet.presenting import Presenter
from epermit.wallet.renewal import RenewalRefusedError, Renewer
from epermit.wallet.wallet import PassphraseSource, Wallet
from keys.keystore import write_private_file

REQUESTS_DIR = "requests"
MAX_REQUEST_FILE = 16 * 1024
RENEWALS = ("endorse", "address")  # renewed by the authorization code flow; a lost phone's by its offers


@dataclass(frozen=True)
class KeptRequest:
    """What the folder keeps of a request: where, which, and its bearer token (0600)."""

    issuer: str
    request_id: str
    token: str
    kind: str

    def to_json(self) -> dict[str, str]:
        return {"issuer": self.issuer, "request_id": self.request_id, "token": self.token, "kind": self.kind}


class ResidentRequestsClient:
    def __init__(self, wallet: Wallet, *, presenter: Presenter | None = None) -> None:
        """``presenter``: answers the service's login request (its trust anchors: the CAs the service's
        verifier certificate may chain to); None: no login, a presentation per request."""
        self.wallet = wallet
        self.client = wallet.client
        self.login = ResidentLogin(wallet.client, presenter)
        self.presenter = presenter
        self._folder = wallet.home.path / REQUESTS_DIR
        self.recovery_code: str | None = None  # handed out by the last refresh (shown once)

    # -- asking ------------------------------------------------------------------------------------
    def ask(self, kind: str, *, held: HeldCredential, passphrase: PassphraseSource,
            body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{held.issuer}/resident/requests"
        _, answer = self.client.call(f"request {kind}", url, method="POST", json_body={"kind": kind, **(body or {})},
                                     headers=lambda: self._authorization(held, passphrase, "POST", url))
        return self._kept(held.issuer, kind, answer)

    def report_lost(self, issuer: str, *, citizen_id: str, recovery_code: str) -> dict[str, Any]:
        _, answer = self.client.call("request lost", f"{issuer}/resident/lost", method="POST",
                                      json_body={"citizen_id": citizen_id, "recovery_code": recovery_code})
        return self._kept(issuer, "lost", answer)

    def send_code(self, kept: KeptRequest) -> dict[str, Any]:
        """A lost phone's re-delivery: a one-time code to the registered phone number."""
        return self.client.call("send code", f"{kept.issuer}/resident/requests/{kept.request_id}/code", method="POST",
                                json_body={}, headers={"Authorization": f"Bearer {kept.token}"})[1]

    def confirm_code(self, code: str) -> list[dict[str, Any]]:
        """The code confirms every queued lost-phone request of this folder (the service approves it)."""
        confirmed = []
        for kept, now in zip(self.kept(), self.follow(), strict=True):
            if kept.kind == "lost" and (now.get("request") or {}).get("state") == "queued":
                confirmed.append(self.client.call(
                    "confirm code", f"{kept.issuer}/resident/requests/{kept.request_id}/code/confirm", method="POST",
                    json_body={"code": code}, headers={"Authorization": f"Bearer {kept.token}"})[1])
        return confirmed

    # -- following ---------------------------------------------------------------------------------
    def kept(self) -> list[KeptRequest]:
        if not self._folder.is_dir():
            return []
        found = []
        for path in sorted(self._folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
            data = json_loads(path.read_bytes()[:MAX_REQUEST_FILE], max_size=MAX_REQUEST_FILE)
            if isinstance(data, dict):
                found.append(KeptRequest(str(data["issuer"]), str(data["request_id"]), str(data["token"]),
                                         str(data["kind"])))
        return found

    def follow(self) -> list[dict[str, Any]]:
        """Each kept request as the service answers about it now (``request`` and ``message``)."""
        return [self.client.call("requests", f"{kept.issuer}/resident/requests/{kept.request_id}",
                                  headers={"Authorization": f"Bearer {kept.token}"})[1] for kept in self.kept()]

    def notifications(self, held: HeldCredential, passphrase: PassphraseSource) -> list[dict[str, Any]]:
        url = f"{held.issuer}/resident/notifications"
        _, answer = self.client.call("notifications", url, headers=lambda: self._authorization(held, passphrase, "GET", url))
        found = answer.get("notifications")
        return found if isinstance(found, list) else []

    def refresh(self, passphrase: PassphraseSource) -> list[HeldCredential]:
        """Every approved request's new credentials: a renewal (endorse, address) by the authorization code
        flow where the service runs it (epermit.wallet.renewal), else — and for a lost phone, whose new
        phone has nothing to present — by redeeming the delivery's pickup offers."""
        renewed: list[HeldCredential] = []
        for kept in self.kept():
            _, now = self.client.call("requests", f"{kept.issuer}/resident/requests/{kept.request_id}",
                                       headers={"Authorization": f"Bearer {kept.token}"})
            if (now.get("request") or {}).get("state") != "approved":
                continue
            if kept.kind in RENEWALS:
                held = self._renew(kept, passphrase)
                if held is not None:
                    renewed.append(held)
                    continue
            _, delivery = self.client.call("delivery", f"{kept.issuer}/resident/requests/{kept.request_id}/delivery",
                                            method="POST", json_body={},
                                            headers={"Authorization": f"Bearer {kept.token}"})
            for offer in delivery.get("offers") or []:
                if not isinstance(offer, dict) or not isinstance(offer.get("offer_uri"), str):
                    raise BadCredentialError("the delivery holds no offer")
                renewed.append(self.wallet.pick_up(offer["offer_uri"], str(offer.get("tx_code") or ""),
                                                   passphrase))
                if self.client.recovery_code is not None:  # a new phone's first pickup: a new code, once
                    self.recovery_code = self.client.recovery_code
        return renewed

    # -- parts -------------------------------------------------------------------------------------
    def _renew(self, kept: KeptRequest, passphrase: PassphraseSource) -> HeldCredential | None:
        """The renewed credential by the authorization code flow; None where the service has none (or this
        wallet cannot present to it), so that the offers are redeemed instead."""
        if self.presenter is None:
            return None
        server = self.client.get("authorization server metadata", well_known(kept.issuer, "oauth-authorization-server"))
        if "pushed_authorization_request_endpoint" not in server:
            return None
        candidates = [h for h in self.wallet.home.credentials() if h.issuer == kept.issuer and h.sd_jwt_vc
                      and (kept.kind != "endorse" or h.credential_type is CredentialType.RESIDENCE_PERMIT)]
        secret = passphrase(False)
        key = self.wallet.home.device_key(secret)
        renewer = Renewer(self.client, self.presenter)
        refused: RenewalRefusedError | None = None
        for held in candidates:
            try:
                renewed = renewer.renew(held, key, secret, now=int(time.time()))
            except RenewalRefusedError as exc:
                if exc.error != "access_denied":  # a wrong iss or state: stop, redeem nothing
                    raise
                refused = exc  # not this credential's renewal: try the next one
                continue
            self.wallet.home.save(renewed)
            return renewed
        if refused is not None:
            raise refused
        return None

    def _authorization(self, held: HeldCredential, passphrase: PassphraseSource, method: str,
                       url: str) -> dict[str, str]:
        """The login session's DPoP headers, or a presentation per request where the service has no login."""
        if held.sd_jwt_vc is None:
            raise UsageError(f"{held.document_number}: no SD-JWT VC was picked up, so nothing can sign in")
        session = self.login.session(held, lambda: passphrase(False))
        if session is not None:
            return self.login.headers(session, method, url)
        return self._presentation(held, passphrase)

    def _presentation(self, held: HeldCredential, passphrase: PassphraseSource) -> dict[str, str]:
        if held.sd_jwt_vc is None:
            raise UsageError(f"{held.document_number}: no SD-JWT VC was picked up, so nothing can sign in")
        key = self.wallet.home.device_key(passphrase(False))
        _, challenge = self.client.call("resident nonce", f"{held.issuer}/resident/nonce", method="POST")
        nonce, audience = challenge.get("nonce"), challenge.get("audience")
        if not isinstance(nonce, str) or audience != f"{held.issuer}/resident":
            raise BadCredentialError("the service's challenge names another audience than the credential's issuer")
        shown = present(held.sd_jwt_vc, disclose=None, holder_signer=key, aud=audience, nonce=nonce,
                        now=int(time.time()))
        return {"Authorization": f"Presentation {shown}"}

    def _kept(self, issuer: str, kind: str, answer: dict[str, Any]) -> dict[str, Any]:
        request, token = answer.get("request"), answer.get("request_token")
        if not isinstance(request, dict) or not isinstance(request.get("id"), str) or not isinstance(token, str):
            raise BadCredentialError("the service's answer holds no request")
        request_id = str(request["id"])
        if not request_id.replace("-", "").replace("_", "").isalnum():
            raise BadCredentialError("the service's request id is not url-safe")
        self._folder.mkdir(mode=0o700, exist_ok=True)
        write_private_file(Path(self._folder / f"{request_id}.json"),
                           json_dumps(KeptRequest(issuer, request_id, token, kind).to_json()) + b"\n", overwrite=True)
        return answer
