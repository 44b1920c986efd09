"""`epermit demo`: the whole story end to end on the embedded SQLite store, with real servers on loopback.

An officer registers a residence permit and a registration card, the residents' wallets pick them up,
a landlord's verifier syncs once and then checks QR codes with no network; a revocation reaches it at
the next sync.
"""

from __future__ import annotations

import datetime
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from credential import qrpass
from credential.jwk import public_jwk
from credential.model import CredentialType
from credential.passclaims import CHINA_STANDARD_TIME
from credential.samples import sample_permit
from epermit.http_client import request
from epermit.private_files import FILE_MODE, private_folder, write_private
from epermit.servers import BackgroundServer
from epermit.wallet import ReferenceWallet, terminal_qr, write_qr_png
from issuer.http import app as officer_api
from issuer.http.console.ui import ConsoleSettings
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, Purpose
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.qrimage import decode_qr_image
from verifier.result import VerificationResult
from verifier.sync import sync
from verifier.verify import verify
from wallet_api import create_app as create_wallet_app
from wallet_api.settings import WalletApiSettings

AUTHORITY_CODE = "110105"
AUTHORITY_NAME = "北京市公安局朝阳分局"


@dataclass
class Office:
    """The issuing side of the demo: one store, one keyring, both APIs on loopback."""

    service: IssuerService
    officer_server: BackgroundServer
    wallet_server: BackgroundServer
    officer_token: str  # the issuing officer's
    tokens: dict[str, str] = field(default_factory=dict)  # role -> token: clerk, officer, supervisor

    def call(self, method: str, path: str, body: object | None = None, *, as_: str = "officer") -> dict[str, object]:
        token = self.tokens.get(as_, self.officer_token)
        answer: dict[str, object] = request(
            self.officer_server.url + path,
            method=method,
            json_body=body,
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        return answer

    def stop(self) -> None:
        self.officer_server.stop()
        self.wallet_server.stop()


def open_office(data_dir: Path, keyring: KeyRing, clock: Callable[[], int] = lambda: int(time.time())) -> Office:
    wallet_server = BackgroundServer()
    officer_server = BackgroundServer()
    store = SQLiteStore(data_dir / "epermit.sqlite3")
    service = IssuerService(store, keyring, IssuerSettings(public_url=wallet_server.url), clock=clock)
    wallet_server.start(create_wallet_app(WalletApiSettings(public_url=wallet_server.url), service))
    # The console's cookie key is made fresh for this run: there is no default secret.
    console = ConsoleSettings(secret_key=secrets.token_bytes(32))
    officer_server.start(officer_api.create_app(officer_api.OfficerApiSettings(), service, console=console))
    officers = OfficerRegistry(store, keyed=service.keyed, clock=clock)
    # Separation of duties: the clerk registers, the issuing officer issues, the supervisor revokes.
    tokens = {}
    for role, officer_id, name in (("clerk", "demo-clerk", "李柜员"), ("issuing_officer", "demo-officer", "王警官"),
                                   ("supervisor", "demo-supervisor", "赵所长")):
        officers.add(officer_id, name=name, role=role, districts=[AUTHORITY_CODE])
        tokens[role.replace("issuing_", "")] = officers.issue_token(officer_id, ttl=3600)
    return Office(service, officer_server, wallet_server, tokens["officer"], tokens)


def say(step: str, text: str = "") -> None:
    print(f"\n== {step}" + (f"\n   {text}" if text else ""), flush=True)


class DemoError(RuntimeError):
    """The story did not go as it must: the demo fails loudly instead of printing a wrong result."""


def show(result: VerificationResult, what: str, *, expected: str, live: bool | None = None) -> None:
    shown_live = "" if result.live is None else (" (live)" if result.live else " (static)")
    mark = "✔" if result.result == "VALID" else "✘"
    print(f"   {mark} {what}: {result.result}{shown_live} — {result.reason}", flush=True)
    if result.result != expected or (live is not None and result.live != live):
        raise DemoError(f"{what}: expected {expected}, got {result.result}{shown_live}")


def run_demo(out: Path | None = None, *, serve: bool = False) -> Path:
    # The folder holds a registry, live pickups and the residents' credentials: owner-only, like an office's.
    out = private_folder(out or Path(tempfile.mkdtemp(prefix="epermit-demo-")))
    data_dir = out / "issuer-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    private_folder(data_dir)
    now = int(time.time())

    say(
        "1. The bureau's keys",
        "root, credential-signing and status-signing keys (in memory: this folder never holds one)",
    )
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now)
    write_private(out / "root.pem", keyring.root_certificate.public_bytes(Encoding.PEM).decode("ascii"))
    jwks = {"keys": [{**public_jwk(s.public_key), "kid": s.kid} for s in keyring.signers_of(Purpose.CREDENTIAL)]}
    write_private(out / "jwks.json", json.dumps(jwks, indent=2))

    office = open_office(data_dir, keyring)
    try:
        say("2. Servers", f"officer API {office.officer_server.url}  ·  wallet API {office.wallet_server.url}")

        say("3. A clerk registers a residence permit and a registration card (张伟 holds a card since 200 days)")
        # Validity counts from today (Beijing time), so the story works on any day it is run.
        today = datetime.datetime.fromtimestamp(now, CHINA_STANDARD_TIME).date()
        until = today + datetime.timedelta(days=364)
        residents = {
            "zhang-wei": sample_permit(valid_from=today, valid_until=until),
            "residence-card": sample_permit(
                CredentialType.RESIDENCE_REGISTRATION, resident=1, valid_from=today, valid_until=until
            ),
        }
        records = {}
        # A residence permit needs a registration card held for six months: 张伟's has been since 200 days ago.
        since = today - datetime.timedelta(days=200)
        card = sample_permit(CredentialType.RESIDENCE_REGISTRATION, valid_from=since,
                             valid_until=since + datetime.timedelta(days=364), document_number="DJK-110105-2025-000009")
        office.call("POST", "/api/v1/records", card.to_dict(), as_="clerk")
        for slug, permit in residents.items():
            record = office.call("POST", "/api/v1/records", permit.to_dict(), as_="clerk")
            records[slug] = record
            print(f"   {permit.holder.name} ({permit.type.name_zh}): record {record['id']}")

        say("4. The residents' wallets pick them up (OpenID4VCI pre-authorized code + PIN)")
        wallets: dict[str, ReferenceWallet] = {}
        for slug, record in records.items():
            offer = office.call("POST", f"/api/v1/records/{record['id']}/offers")
            wallet = ReferenceWallet()
            wallet.pick_up(str(offer["offer_uri"]), str(offer["tx_code"]))
            wallets[slug] = wallet
            held = wallet.credentials[0]
            print(f"   {slug}: picked up an SD-JWT VC and a QR pass bound to the phone's key")
            write_private(out / f"{slug}.sd-jwt", held.sd_jwt_vc or "")

        say("5. The landlord's verifier syncs trust and status lists once")
        cache_dir = out / "verifier-cache"
        shutil.rmtree(cache_dir, ignore_errors=True)
        cache = VerifierCache(cache_dir)
        sync(office.wallet_server.url, cache, now=int(time.time()), root_pem=(out / "root.pem").read_bytes())
        print(f"   cached in {cache_dir}")

        say("6. Offline: the verifier scans the QR codes (PNG images decoded by zxing-cpp)")
        policy = Policy()
        for slug, wallet in wallets.items():
            held = wallet.credentials[0]
            live_text = wallet.live_qr_text(held, now=int(time.time()))
            static_text = wallet.static_qr_text(held)
            for kind, text in (("live", live_text), ("static", static_text)):
                png = out / f"{slug}.{kind}.png"
                version = write_qr_png(text, png)
                png.chmod(FILE_MODE)  # the pass carries the resident's data
                write_private(out / f"{slug}.{kind}.qr.txt", text + "\n")
                scanned = decode_qr_image(png)
                show(
                    verify(scanned, cache, policy=policy, now=int(time.time())),
                    f"{png.name} (QR version {version})",
                    expected="VALID",
                    live=kind == "live",
                )
        print("\n   张伟's live QR, as the phone shows it (it changes every 30 s):")
        print(terminal_qr(wallets["zhang-wei"].live_qr_text(wallets["zhang-wei"].credentials[0], now=int(time.time()))))

        say("7. A forged QR: one byte of the pass changed")
        tampered = bytearray(wallets["zhang-wei"].credentials[0].qr_pass or b"")
        tampered[-5] ^= 0x01
        tampered_text = qrpass.pass_to_qr_text(bytes(tampered))
        write_private(out / "tampered.qr.txt", tampered_text + "\n")
        show(verify(tampered_text, cache, policy=policy, now=int(time.time())), "tampered.qr.txt", expected="BAD_SIGNATURE")

        say("8. A supervisor revokes 张伟's permit; the verifier syncs and scans again")
        office.call("POST", f"/api/v1/records/{records['zhang-wei']['id']}/revoke", {"reason_code": "OTHER", "reason": "permit surrendered"}, as_="supervisor")
        sync(office.wallet_server.url, cache, now=int(time.time()), root_pem=None)
        held = wallets["zhang-wei"].credentials[0]
        show(
            verify(
                wallets["zhang-wei"].live_qr_text(held, now=int(time.time())),
                cache,
                policy=policy,
                now=int(time.time()),
            ),
            "zhang-wei (after revocation)",
            expected="REVOKED",
        )

        if serve:
            serve_forever(office, out, str(records["residence-card"]["id"]))
    finally:
        office.stop()
    say(
        "Done",
        f"everything to play with is in {out}\n   try: epermit verify --cache {cache_dir} {out / 'residence-card.static.png'}",
    )
    return out


def write_offer_file(out: Path, offer: dict[str, object]) -> Path:
    """offer.json: a live pickup's link and PIN, which take over the resident's credential: owner-only, like a
    pickup sheet."""
    path = out / "offer.json"
    write_private(path, json.dumps({"offer_uri": offer["offer_uri"], "tx_code": offer["tx_code"]}) + "\n")
    return path


def serve_forever(office: Office, out: Path, record_id: str) -> None:
    offer = office.call("POST", f"/api/v1/records/{record_id}/offers")
    write_offer_file(out, offer)
    say(
        "Serving (Ctrl-C stops)",
        f"officer API {office.officer_server.url}\n   wallet API {office.wallet_server.url}\n"
        f"   a fresh offer: {offer['offer_uri']}\n   PIN: {offer['tx_code']}\n"
        f"   verifier page: {office.wallet_server.url}/verify/\n"
        f"   officer console: {office.officer_server.url}/officer/  (sign in as demo-supervisor with token "
        f"{office.tokens['supervisor']})",
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping")
