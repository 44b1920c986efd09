"""An office on Redis behind real HTTP servers, and a client that registers, issues, suspends and revokes.

Used by the Redis HTTP, concurrency and crash tests. The client records only what the servers acknowledged.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from credential.citizen_id import citizen_id_check_digit
from credential.model import CredentialType, Permit
from credential.samples import sample_permit
from epermit.http_client import request
from epermit.servers import BackgroundServer
from epermit.wallet import OpenId4VciClient, Wallet, WalletHome
from issuer.http import app as officer_api
from issuer.keyed import KeyedHash
from issuer.model import Officer, Role
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store import Store
from keys.keyring import KeyRing
from wallet_api import create_app as create_wallet_app
from wallet_api.settings import WalletApiSettings

DISTRICT = "110105"
OFFICERS = (Officer("clerk", "柜员", Role.CLERK, (DISTRICT,)), Officer("issuer", "民警", Role.ISSUING_OFFICER, (DISTRICT,)),
            Officer("sup", "所长", Role.SUPERVISOR, (DISTRICT,)))


def seed_officers(store: Store, keyed: KeyedHash) -> dict[str, str]:
    """The three officers and a token each; ``keyed``: the serving issuer's (its store secret hashes tokens)."""
    registry = OfficerRegistry(store, keyed=keyed)
    tokens = {}
    for officer in OFFICERS:
        registry.put(officer)
        tokens[officer.id] = registry.issue_token(officer.id, ttl=3600)
    return tokens


def registration_card(n: int) -> Permit:
    """A residence registration card for holder n (distinct citizen IDs, 0 <= n < 500)."""
    base = sample_permit().holder.citizen_id[:14]
    first17 = f"{base}{2 * n + 1:03d}"  # an odd sequence number: the sample holder is male
    return sample_permit(CredentialType.RESIDENCE_REGISTRATION, citizen_id=first17 + citizen_id_check_digit(first17),
                         document_number=f"DJK-{DISTRICT}-2026-{n + 1:06d}")


class Office:
    """The officer and wallet APIs of one app instance on ``store``, on loopback werkzeug servers."""

    def __init__(self, store: Store, keyring: KeyRing, *, public_url: str | None = None) -> None:
        self.wallet_server = BackgroundServer()
        self.officer_server = BackgroundServer()
        self.public_url = public_url or self.wallet_server.url
        self.service = IssuerService(store, keyring, IssuerSettings(public_url=self.public_url))
        self.wallet_server.start(create_wallet_app(WalletApiSettings(public_url=self.public_url), self.service))
        self.officer_server.start(officer_api.create_app(officer_api.OfficerApiSettings(), self.service))

    @property
    def officer_url(self) -> str:
        return self.officer_server.url

    def stop(self) -> None:
        self.officer_server.stop()
        self.wallet_server.stop()


@dataclass
class OfficeClient:
    officer_url: str
    tokens: dict[str, str]
    timeout: float = 10

    def _post(self, who: str, path: str, body: object) -> dict[str, object]:
        answer = request(f"{self.officer_url}/api/v1{path}", method="POST", json_body=body, timeout=self.timeout,
                         headers={"Authorization": f"Bearer {self.tokens[who]}"})
        result: dict[str, object] = answer.json()
        return result

    def register(self, permit: Permit) -> str:
        return str(self._post("clerk", "/records", permit.to_dict())["id"])

    def offer(self, record_id: str) -> tuple[str, str]:
        answer = self._post("issuer", f"/records/{record_id}/offers", {})
        return str(answer["offer_uri"]), str(answer["tx_code"])

    def change(self, record_id: str, action: str) -> str:
        """suspend, lift or revoke; the record's state as answered."""
        reason = {"reason_code": "RESOLVED" if action == "lift" else "OTHER", "reason": "test"}
        return str(self._post("sup", f"/records/{record_id}/{action}", reason)["state"])

    def get_state(self, record_id: str) -> str:
        answer = request(f"{self.officer_url}/api/v1/records/{record_id}", timeout=self.timeout,
                         headers={"Authorization": f"Bearer {self.tokens['sup']}"})
        return str(answer.json()["state"])


def pick_up(offer_uri: str, tx_code: str) -> list[tuple[str, int]]:
    """Redeem the offer with a fresh wallet (these offices are plain http on loopback; a cheap seal: a test's
    device key protects nothing); the (status uri, idx) of the one credential received, in every encoding."""
    with tempfile.TemporaryDirectory() as folder:
        home = WalletHome(Path(folder) / "wallet", create=True, scrypt_n=2**14)
        held = Wallet(home, OpenId4VciClient(allow_http=True)).pick_up(offer_uri, tx_code, lambda _: b"test")
    assert held.sd_jwt_vc is not None and held.qr_pass is not None and held.qr_pass_basic is not None
    return [(held.status_uri, held.status_idx)]
