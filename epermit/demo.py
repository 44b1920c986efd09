"""`epermit demo`: the whole story end to end on the embedded SQLite store, with real servers on loopback.

An officer registers a residence permit and a registration card, the residents' wallets (epermit.wallet,
each a folder under ``wallets/`` with its own sealed device key) pick them up from the https pickup link,
a landlord's verifier syncs once and then checks QR codes with no network; a revocation reaches it at
the next sync, and the resident's wallet sees it too. Then everything online (epermit.demo_online): a
renewal and a lost phone, from the wallet only.
"""

from __future__ import annotations

import datetime
import io
import json
import secrets
import shutil
import ssl
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from credential import qrpass
from credential.jwk import public_jwk
from credential.model import CredentialType
from credential.passclaims import CHINA_STANDARD_TIME, PassView
from credential.samples import sample_permit
from epermit.demo_online import DemoError as DemoError  # the command line catches it from here
from epermit.demo_online import UnlockedHome, folder_listing, tell_online_story, write_newcomer_offers
from epermit.http_client import request
from epermit.login_identity import login_verifier
from epermit.private_files import FILE_MODE, private_folder, write_private
from epermit.servers import BackgroundServer
from epermit.tls import LOOPBACK_NAMES, LoopbackCA, verifier_identity
from epermit.wallet import OpenId4VciClient, Wallet
from epermit.wallet.display import terminal_qr, write_pass_and_portrait_png, write_qr_png
from issuer.http import app as officer_api
from issuer.http.console.ui import ConsoleSettings
from issuer.logins import ConsoleLogins
from issuer.officers import OfficerRegistry
from issuer.service import IssuerService
from issuer.settings import IssuerSettings, system_clock
from issuer.store.sqlite import SQLiteStore
from keys import KeyRing, Purpose
from keys.keystore import write_private_file
from keys.login import new_login_key
from verifier.cache import VerifierCache
from verifier.cli import main_verify
from verifier.policy import Policy
from verifier.qrimage import decode_qr_image
from verifier.result import VerificationResult
from verifier.sync import sync
from verifier.verify import verify
from wallet_api import create_app as create_wallet_app
from wallet_api.settings import WalletApiSettings

TLS_CA_FILE = "tls-ca.pem"  # the CA certificate a wallet, `epermit verify sync --ca` or `curl --cacert` trusts
# The CAs of online verifiers the web wallet answers (WalletApiSettings.verifier_ca_file), read on each request.
# The demo writes its loopback CA there: the residents' login request is signed under it (x509_san_dns on the
# wallet API's host), so the phone's /wallet/ logs in and renews with it; append an `epermit employer-demo`'s
# employer-ca.pem and /wallet/ can present to that employer too.
VERIFIER_CAS_FILE = "verifier-cas.pem"
SERVE_FILE = "serve.json"  # demo --serve: URLs, the CA and the demo officers' tokens and console sign-ins (0600)
CONSOLE_TOTP_QR_FILE = "console-totp-supervisor.png"  # demo --serve: the supervisor's TOTP enrolment QR (0600)
WALLETS_DIR = "wallets"  # one `epermit wallet --home` folder per resident
WALLET_PASSPHRASE_FILE = "wallet-passphrase.txt"  # noqa: S105 - a file name; the demo wallets' passphrase (0600)
AUTHORITY_CODE = "110105"
SAMPLE_PHOTO = "portrait.jpg"  # epermit/samples/: the clerk's photo of 张伟 (README there: source, licence)
DEMO_OFFICER_IDS = {"clerk": "demo-clerk", "officer": "demo-officer", "supervisor": "demo-supervisor"}
AUTHORITY_NAME = "北京市公安局朝阳分局"


@dataclass
class Office:
    """The issuing side of the demo: one store, one keyring, both APIs on loopback."""

    service: IssuerService
    officer_server: BackgroundServer
    wallet_server: BackgroundServer
    officer_token: str  # the issuing officer's
    tokens: dict[str, str] = field(default_factory=dict)  # role -> token: clerk, officer, supervisor
    tls: ssl.SSLContext | None = None  # the client side of the demo's loopback CA
    # role -> the console sign-in: officer_id, password, totp_secret (base32, for an app), otpauth_uri
    console: dict[str, dict[str, str]] = field(default_factory=dict)

    def call(self, method: str, path: str, body: object | None = None, *, as_: str = "officer",
             raw: tuple[str, bytes] | None = None) -> dict[str, object]:
        token = self.tokens.get(as_, self.officer_token)
        answer: dict[str, object] = request(
            self.officer_server.url + path,
            method=method,
            json_body=body,
            raw=raw,
            headers={"Authorization": f"Bearer {token}"},
            tls=self.tls,
        ).json()
        return answer

    def stop(self) -> None:
        self.officer_server.stop()
        self.wallet_server.stop()


def open_office(data_dir: Path, keyring: KeyRing, clock: Callable[[], int] = system_clock, *,
                ca: LoopbackCA | None = None, host: str = "127.0.0.1", verifier_ca_file: Path | None = None,
                dpop_nonce_required: bool = False, root_login: bool = False) -> Office:
    """Both APIs, over https with a certificate from ``ca`` when given (the demo), else http. ``host``: the
    address they listen on and are reached by (loopback by default; a phone on the same network needs the
    machine's address there, which the certificate then names beside the loopback names). ``verifier_ca_file``:
    the CAs of the online verifiers the wallet PWA may answer (WalletApiSettings.verifier_ca_file);
    ``dpop_nonce_required``: every DPoP proof must carry the server's nonce (a wallet's use_dpop_nonce retry);
    ``root_login``: the residents' login is signed under a certificate from ``keyring``'s root, as a real
    deployment's (keys/login.py, checked by epermit.login_identity), instead of under ``ca`` (``host`` must
    then be a DNS name: localhost)."""
    names = tuple(dict.fromkeys((host, *LOOPBACK_NAMES))) if host not in LOOPBACK_NAMES else LOOPBACK_NAMES
    server_tls = ca.issue_server(names).ssl_context() if ca is not None else None
    wallet_server = BackgroundServer(host, ssl_context=server_tls)
    officer_server = BackgroundServer(host, ssl_context=server_tls)
    store = SQLiteStore(data_dir / "epermit.sqlite3")
    service = IssuerService(store, keyring, IssuerSettings(public_url=wallet_server.url), clock=clock)
    # The residents' login (OpenID4VP, x509_san_dns on the wallet API's host) is signed under the same CA
    # the wallets trust for TLS (`--ca tls-ca.pem`): their request/requests/refresh commands log in with it.
    wallet_host = urllib.parse.urlsplit(wallet_server.url).hostname or host
    login = None if ca is None else verifier_identity(ca, wallet_host, name_zh="公安局居民在线服务",
                                                       name_en="Residents' online service")
    if root_login and ca is not None:  # the wallets' pinned root then proves the login; the CA only the TLS
        login = login_verifier(new_login_key(keyring.root, keyring.root_certificate, host=wallet_host, now=clock()),
                               keyring, public_url=wallet_server.url, keys_dir=data_dir / "keys", now=clock())
    wallet_server.start(create_wallet_app(WalletApiSettings(public_url=wallet_server.url,
                                                            verifier_ca_file=verifier_ca_file,
                                                            dpop_nonce_required=dpop_nonce_required), service,
                                          login_verifier=login))
    # The console's cookie key is made fresh for this run: there is no default secret.
    console = ConsoleSettings(secret_key=secrets.token_bytes(32))
    officer_server.start(officer_api.create_app(officer_api.OfficerApiSettings(), service, console=console))
    officers = OfficerRegistry(store, keyed=service.keyed, clock=clock)
    # Separation of duties: the clerk registers, the issuing officer issues, the supervisor revokes.
    # API tokens drive the demo's story; people sign in to the console with a password and a TOTP code
    # (both fresh for this run: there is no default password).
    logins = ConsoleLogins(store, keyed=service.keyed, clock=clock)
    tokens, console_logins = {}, {}
    for role, name in (("clerk", "李柜员"), ("officer", "王警官"), ("supervisor", "赵所长")):
        officer_id = DEMO_OFFICER_IDS[role]
        officers.add(officer_id, name=name, role="issuing_officer" if role == "officer" else role,
                     districts=[AUTHORITY_CODE])
        tokens[role] = officers.issue_token(officer_id, ttl=3600)
        password = secrets.token_urlsafe(12)
        logins.set_password(officer_id, password)
        enrolment = logins.enrol_totp(officer_id)
        console_logins[role] = {"officer_id": officer_id, "password": password, "totp_secret": enrolment.text,
                                "otpauth_uri": enrolment.uri}
    client_tls = ssl.create_default_context(cadata=ca.pem.decode("ascii")) if ca is not None else None
    return Office(service, officer_server, wallet_server, tokens["officer"], tokens, client_tls, console_logins)


def say(step: str, text: str = "") -> None:
    print(f"\n== {step}" + (f"\n   {text}" if text else ""), flush=True)


def show(result: VerificationResult, what: str, *, expected: str, live: bool | None = None) -> None:
    shown_live = "" if result.live is None else (" (live)" if result.live else " (static)")
    mark = "✔" if result.result == "VALID" else "✘"
    print(f"   {mark} {what}: {result.result}{shown_live} — {result.reason}", flush=True)
    if result.result != expected or (live is not None and result.live != live):
        raise DemoError(f"{what}: expected {expected}, got {result.result}{shown_live}")


def demo_wallet(out: Path, slug: str, tls: ssl.SSLContext | None) -> Wallet:
    """A resident's wallet folder in the demo (made 0700 on first use), trusting the demo's loopback CA."""
    return Wallet(UnlockedHome(out / WALLETS_DIR / slug, create=True), OpenId4VciClient(tls=tls))


def _wallet_passphrase(out: Path) -> Callable[[bool], bytes]:
    """The demo wallets' passphrase: made once per folder, kept beside them (0600) so `epermit wallet
    --passphrase-file` opens them after the demo; a real wallet's passphrase is the resident's own."""
    path = out / WALLET_PASSPHRASE_FILE
    if not path.exists():
        write_private_file(path, secrets.token_urlsafe(18).encode("ascii") + b"\n")
    passphrase = path.read_bytes().strip()
    return lambda confirm: passphrase


def run_demo(out: Path | None = None, *, serve: bool = False, host: str = "127.0.0.1") -> Path:
    # The folder holds a registry, live pickups and the residents' credentials: owner-only, like an office's.
    out = private_folder(out or Path(tempfile.mkdtemp(prefix="epermit-demo-")))
    data_dir = out / "issuer-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    private_folder(data_dir)
    now = system_clock()

    say(
        "1. The bureau's keys",
        "root, credential-signing and status-signing keys (in memory: this folder never holds one)",
    )
    keyring = KeyRing.generate(authority_code=AUTHORITY_CODE, authority_name=AUTHORITY_NAME, now=now)
    write_private(out / "root.pem", keyring.root_certificate.public_bytes(Encoding.PEM).decode("ascii"))
    jwks = {"keys": [{**public_jwk(s.public_key), "kid": s.kid} for s in keyring.signers_of(Purpose.CREDENTIAL)]}
    write_private(out / "jwks.json", json.dumps(jwks, indent=2))

    ca = LoopbackCA(now=now)
    write_private(out / TLS_CA_FILE, ca.pem.decode("ascii"))  # public, but the folder's files are all owner-only
    # The web wallet trusts the login's request signer as the CLI wallets do with --ca: the same CA.
    write_private(out / VERIFIER_CAS_FILE, ca.pem.decode("ascii"))
    office = open_office(data_dir, keyring, ca=ca, host=host, verifier_ca_file=out / VERIFIER_CAS_FILE)
    try:
        say("2. Servers (https; the demo's loopback CA is in " + TLS_CA_FILE + ")",
            f"officer API {office.officer_server.url}  ·  wallet API {office.wallet_server.url}")

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
        # The clerk takes 张伟's photo (the package's sample, a public-domain NASA portrait): the issuer keeps
        # the 96×120 WebP that both credentials bind (putPortrait), sealed at rest.
        photo = resources.files("epermit.samples").joinpath(SAMPLE_PHOTO).read_bytes()
        kept = office.call("PUT", f"/api/v1/records/{records['zhang-wei']['id']}/portrait", as_="clerk",
                           raw=("image/jpeg", photo))
        portrait = office.service.portrait_of(office.service.get_record(str(records["zhang-wei"]["id"])))
        kept_portrait = kept.get("portrait")
        sha256 = kept_portrait.get("sha256", "") if isinstance(kept_portrait, dict) else ""
        print(f"   张伟's portrait: a {len(photo):,}-byte JPEG photo in, a {len(portrait or b''):,}-byte 96×120 WebP "
              f"kept (sha256 {str(sha256)[:16]}…, signed into the QR pass; the SD-JWT VC carries the image)")

        say("4. The residents' wallets pick them up: the sheet's https link, then the PIN (OpenID4VCI)")
        wallets: dict[str, Wallet] = {}
        passphrase = _wallet_passphrase(out)
        shutil.rmtree(out / WALLETS_DIR, ignore_errors=True)
        for slug, record in records.items():
            offer = office.call("POST", f"/api/v1/records/{record['id']}/offers")
            wallet = demo_wallet(out, slug, office.tls)
            held = wallet.pick_up(str(offer["pickup_url"]), str(offer["tx_code"]), passphrase)
            wallets[slug] = wallet
            print(f"   {slug}: {held.document_number} as an SD-JWT VC and a QR pass (full and basic view), bound to "
                  f"the device key sealed in {wallet.home.path}")
            write_private(out / f"{slug}.sd-jwt", held.sd_jwt_vc or "")

        say("5. The landlord's verifier syncs trust and status lists once")
        cache_dir = out / "verifier-cache"
        shutil.rmtree(cache_dir, ignore_errors=True)
        cache = VerifierCache(cache_dir)
        root_pem = (out / "root.pem").read_bytes()
        sync(office.wallet_server.url, cache, now=system_clock(), root_pem=root_pem, tls=office.tls)
        print(f"   cached in {cache_dir}")

        say("6. Offline: the verifier scans the QR codes (PNG images decoded by zxing-cpp)",
            "the phone shows the basic view, live; the static one is the full card, as printed on paper")
        policy = Policy()
        for slug, wallet in wallets.items():
            live_text = wallet.qr_text(live=True, passphrase=passphrase, now=system_clock())
            static_text = wallet.qr_text(view=PassView.FULL)
            for kind, text in (("live", live_text), ("static", static_text)):
                png = out / f"{slug}.{kind}.png"
                version = write_qr_png(text, png)
                png.chmod(FILE_MODE)  # the pass carries the resident's data
                write_private(out / f"{slug}.{kind}.qr.txt", text + "\n")
                scanned = decode_qr_image(png)
                show(
                    verify(scanned, cache, policy=policy, now=system_clock()),
                    f"{png.name} (QR version {version})",
                    expected="VALID",
                    live=kind == "live",
                )
        check_portrait_frame(out, wallets["zhang-wei"], passphrase, cache_dir)
        print("\n   张伟's live QR, as the phone shows it (it changes every 30 s):")
        print(terminal_qr(wallets["zhang-wei"].qr_text(live=True, passphrase=passphrase, now=system_clock())))

        say("7. A forged QR: one byte of the pass changed")
        tampered = bytearray(wallets["zhang-wei"].home.find(None).cose_pass(PassView.FULL))
        tampered[-5] ^= 0x01
        tampered_text = qrpass.pass_to_qr_text(bytes(tampered))
        write_private(out / "tampered.qr.txt", tampered_text + "\n")
        show(verify(tampered_text, cache, policy=policy, now=system_clock()), "tampered.qr.txt", expected="BAD_SIGNATURE")

        say("8. A supervisor revokes 张伟's permit; the verifier syncs and scans again")
        office.call("POST", f"/api/v1/records/{records['zhang-wei']['id']}/revoke", {"reason_code": "OTHER", "reason": "permit surrendered"}, as_="supervisor")
        sync(office.wallet_server.url, cache, now=system_clock(), root_pem=None, tls=office.tls)
        show(
            verify(wallets["zhang-wei"].qr_text(live=True, passphrase=passphrase, now=system_clock()), cache,
                   policy=policy, now=system_clock()),
            "zhang-wei (after revocation)",
            expected="REVOKED",
        )

        say("9. 张伟's wallet checks its own status (`epermit wallet status`)")
        status = wallets["zhang-wei"].status(root_pem=root_pem, now=system_clock())
        show(status.outcome, "zhang-wei's wallet", expected="REVOKED")

        # After the first pickup, everything online: a renewal and a lost phone (epermit.demo_online).
        tell_online_story(office, out, cache, passphrase, first_step=10)

        if serve:
            serve_forever(office, out, str(records["residence-card"]["id"]))
    finally:
        office.stop()
    say(
        "Done",
        f"everything to play with is in {out}:\n   {folder_listing(out)}\n   try: epermit verify --cache {cache_dir} {out / 'residence-card.static.png'}",
    )
    return out


PORTRAIT_FRAME = "residence-permit.live+portrait.png"  # the live QR and the portrait code, as one camera frame


def check_portrait_frame(out: Path, wallet: Wallet, passphrase: Callable[[bool], bytes], cache_dir: Path) -> None:
    """The wallet's screen with the live QR and the portrait code side by side, checked offline from that one
    image by `epermit verify`: the face is the one the pass signs (credential.portraitcode)."""
    portrait = wallet.portrait()
    if portrait is None:
        raise DemoError("the wallet holds no portrait: the clerk's step registers one before the pickup")
    png = out / PORTRAIT_FRAME
    text = wallet.qr_text(live=True, passphrase=passphrase, now=system_clock())
    versions = write_pass_and_portrait_png(text, portrait, png)
    answer = io.StringIO()
    code = main_verify([str(png), "--cache", str(cache_dir), "--json"], out=answer)
    found = json.loads(answer.getvalue())
    print(f"   {'✔' if code == 0 else '✘'} {png.name} (QR versions {versions[0]} and {versions[1]}; a {len(portrait)}-byte "
          f"{found.get('portrait_media_type')} portrait): epermit verify says {found['result']}, portrait: "
          f"{found['portrait']}", flush=True)
    if (code, found["result"], found["live"], found["portrait"]) != (0, "VALID", True, "verified"):
        raise DemoError(f"{png.name}: expected VALID (live) with the portrait verified, got {found['result']}, "
                        f"portrait {found['portrait']}")


def write_offer_file(out: Path, offer: dict[str, object]) -> Path:
    """offer.json: a live pickup's link and PIN, which take over the resident's credential: owner-only, like a
    pickup sheet."""
    path = out / "offer.json"
    fields = {name: offer[name] for name in ("pickup_url", "offer_uri", "tx_code") if name in offer}
    write_private(path, json.dumps(fields) + "\n")
    return path


def serve_forever(office: Office, out: Path, record_id: str) -> None:
    offer = office.call("POST", f"/api/v1/records/{record_id}/offers")
    write_offer_file(out, offer)
    offers = write_newcomer_offers(office, out)  # a newcomer's renewal: one unredeemed offer per type
    write_private_json(out / SERVE_FILE, {
        "officer_api": office.officer_server.url,
        "wallet_api": office.wallet_server.url,
        "verifier_page": f"{office.wallet_server.url}/verify/",
        "wallet": f"{office.wallet_server.url}/wallet/",
        "pickup_url": offer["pickup_url"],
        "officer_console": f"{office.officer_server.url}/officer/",
        "tls_ca": str((out / TLS_CA_FILE).resolve()),
        "root": str((out / "root.pem").resolve()),
        "officer_tokens": {role: token for role, token in office.tokens.items()},
        "officer_ids": dict(DEMO_OFFICER_IDS),
        "officer_console_sign_in": office.console,
    })
    supervisor = office.console["supervisor"]
    qr_file = out / CONSOLE_TOTP_QR_FILE
    write_qr_png(supervisor["otpauth_uri"], qr_file)
    say(
        "Serving (Ctrl-C stops)",
        f"officer API {office.officer_server.url}\n   wallet API {office.wallet_server.url}\n"
        f"   a fresh pickup: {offer['pickup_url']}\n   PIN: {offer['tx_code']}\n"
        f"   pick it up: EPERMIT_WALLET_PASSPHRASE=... epermit wallet --home {out / WALLETS_DIR / 'mine'} pickup "
        f"{offer['pickup_url']} --pin {offer['tx_code']} --ca {out / TLS_CA_FILE} --root {out / 'root.pem'}\n"
        f"   {offers.name}: 王芳's residence permit (endorsement due: `request endorse` then `refresh`) and card,\n"
        f"    each {{type, offer_uri, pickup_url, tx_code}}, nobody has picked them up\n"
        f"   resident's wallet (a phone's browser): {office.wallet_server.url}/wallet/ — or open the pickup link\n"
        f"   landlord's verifier page: {office.wallet_server.url}/verify/\n"
        f"   online checks (OpenID4VP) from the web wallet: {out / VERIFIER_CAS_FILE} holds the demo's CA (the\n"
        f"    residents' login and renewals); append an `epermit employer-demo`'s employer-ca.pem to it to present\n"
        f"    to that employer (the CAs of verifiers /wallet/ answers; read afresh on each request)\n"
        f"   (a phone trusts these https pages once {out / TLS_CA_FILE} is installed on it as a CA certificate;\n"
        f"    give --host <this machine's address on your network> so that the phone can reach them)\n"
        f"   officer console: {office.officer_server.url}/officer/  (sign in as demo-supervisor, password "
        f"{supervisor['password']},\n    and the code of an authenticator app that scanned {qr_file}\n"
        f"    or took the key {supervisor['totp_secret']}; every demo officer's sign-in is in {out / SERVE_FILE})",
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping")


def write_private_json(path: Path, document: object) -> None:
    """A file holding secrets (a PIN, officer tokens): created 0600, replaced atomically."""
    write_private_file(path, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), overwrite=True)
