"""`epermit demo`, after the first pickup: everything online (跑一次, "run at most once").

李娜 comes to the window once (identity checked, her residence permit picked up into her phone's wallet,
her recovery code printed). Then, from the wallet only (epermit.wallet.requests, the library behind
`epermit wallet request|requests|refresh`):

- a renewal: she asks for the endorsement (签注); her permit (issued last year, ending in 44 days) is within
  the window, her card valid and nothing flagged, so the rules approve it at once (a request the rules cannot
  decide would wait for the demo's issuing officer, who approves it over the officer API; one filed before
  the window is refused with the day it opens); `refresh` picks the renewed credential up — it verifies with
  the later validity, and the old one is REVOKED;
- a lost phone: from a second wallet, with her citizen ID and the recovery code, the first phone's
  credentials are suspended at once (its live QR: SUSPENDED); a one-time code reaches her registered phone
  number through the demo's SMS gateway (the notifications outbox delivered to the file sink ``sms.jsonl``),
  the code approves the re-delivery, the new phone refreshes, and the old phone's live QR is REVOKED.

``demo --serve`` also writes ``offers.json`` (write_newcomer_offers): a fresh holder's unredeemed offers, one
per credential type, so that a newcomer can try a renewal (her permit's endorsement is due: approved at once).
This module is below epermit.demo (which calls it) and imports nothing of it: DemoOffice is what it uses of
the demo's office.
"""

from __future__ import annotations

import dataclasses
import datetime
import hmac
import json
import re
import ssl
from pathlib import Path
from typing import Any, Protocol, cast

from cryptography import x509

from credential.model import CredentialType, Holder, Permit
from credential.passclaims import CHINA_STANDARD_TIME, PassView
from credential.qrpass import pass_to_qr_text
from credential.samples import sample_permit
from epermit.private_files import write_private
from epermit.servers import BackgroundServer
from epermit.wallet import HeldCredential, OpenId4VciClient, Wallet, WalletHome
from epermit.wallet.presenting import Presenter
from epermit.wallet.requests import ResidentRequestsClient
from epermit.wallet.wallet import PassphraseSource
from issuer.notifications import FileSink, deliver_due
from issuer.service import IssuerService
from issuer.settings import system_clock
from keys import KeySigner
from verifier.cache import VerifierCache
from verifier.policy import Policy
from verifier.sync import sync
from verifier.verify import verify

SMS_FILE = "sms.jsonl"  # the demo's SMS gateway: the outbox delivered to a file sink (0600)
OFFERS_FILE = "offers.json"  # demo --serve: a list of {type, offer_uri, pickup_url, tx_code}, one per type (0600)
OFFER_FIELDS = ("type", "offer_uri", "pickup_url", "tx_code")
OLD_PHONE, NEW_PHONE = "li-na", "li-na-new-phone"  # wallet folders under wallets/

# Fictitious, like credential.samples: the citizen IDs only pass the check digit.
LI_NA = Holder(name="李娜", name_pinyin="LI NA", sex=2, ethnicity=1, birth_date=datetime.date(1992, 4, 8),
               citizen_id="110105199204082460", address="北京市朝阳区酒仙桥街道将台路5号院6号楼3单元402室")
WANG_FANG = Holder(name="王芳", name_pinyin="WANG FANG", sex=2, ethnicity=1, birth_date=datetime.date(1998, 11, 2),
                   citizen_id="110105199811022347", address="北京市朝阳区双井街道广渠路21号院1号楼1206室")


class DemoError(RuntimeError):
    """The story did not go as it must: the demo fails loudly instead of printing a wrong result (here, below
    epermit.demo, so that both parts of the story raise the one error the command line reports)."""


class DemoOffice(Protocol):
    """What the online story uses of epermit.demo.Office."""

    service: IssuerService
    wallet_server: BackgroundServer
    tls: ssl.SSLContext | None

    def call(self, method: str, path: str, body: object | None = None, *,
             as_: str = "officer") -> dict[str, object]: ...


class UnlockedHome(WalletHome):
    """A demo wallet folder whose device key is unsealed once per run, as a phone unlocked for a session: the
    key file stays sealed at full scrypt cost, the demo only stops paying that cost at every step (~0.4 s)."""

    _unlocked: tuple[bytes, KeySigner] | None = None

    def create_device_key(self, passphrase: bytes) -> KeySigner:
        signer = super().create_device_key(passphrase)
        self._unlocked = (passphrase, signer)
        return signer

    def device_key(self, passphrase: bytes) -> KeySigner:
        if self._unlocked is None or not hmac.compare_digest(self._unlocked[0], passphrase):
            self._unlocked = (passphrase, super().device_key(passphrase))
        return self._unlocked[1]


def say(step: str, text: str = "") -> None:
    print(f"\n== {step}" + (f"\n   {text}" if text else ""), flush=True)


def told(answer: dict[str, Any]) -> str:
    """A service's answer to a request as the wallet prints it: state, then the words in Chinese and English."""
    message = answer.get("message") or {}
    return f"{(answer.get('request') or {}).get('state')}: {message.get('zh', '')} / {message.get('en', '')}"


def expect(got: object, wanted: object, what: str) -> None:
    if got != wanted:
        raise DemoError(f"{what}: expected {wanted}, got {got}")


class OnlineStory:
    """李娜's renewal and lost phone on the demo's own servers, judged by the landlord's verifier cache."""

    def __init__(self, office: DemoOffice, out: Path, cache: VerifierCache, passphrase: PassphraseSource) -> None:
        self.office = office
        self.out = out
        self.cache = cache
        self.passphrase = passphrase
        self.issuer = office.wallet_server.url
        self.written: list[Path] = []

    def phone(self, slug: str) -> ResidentRequestsClient:
        home = UnlockedHome(self.out / "wallets" / slug, create=True)
        # The phone logs in to the bureau's service by presenting its credential (OpenID4VP, the login request
        # signed under the demo's CA, which the phone trusts as for TLS) and renews through the authorization
        # code flow, as `epermit wallet request|refresh --ca tls-ca.pem` does.
        tls = self.office.tls
        anchors = [x509.load_der_x509_certificate(der) for der in tls.get_ca_certs(binary_form=True)] if tls else []
        presenter = Presenter(home, trust_anchors=anchors, tls=tls) if anchors else None
        return ResidentRequestsClient(Wallet(home, OpenId4VciClient(tls=self.office.tls)), presenter=presenter)

    def judge(self, text: str, what: str, *, expected: str) -> None:
        """Sync (as a landlord's verifier does now and then), verify ``text``, print the verdict bilingually."""
        now = system_clock()
        sync(self.issuer, self.cache, now=now, root_pem=None, tls=self.office.tls)
        result = verify(text, self.cache, policy=Policy(), now=now)
        live = "" if result.live is None else (" (live)" if result.live else " (static)")
        print(f"   {'✔' if result.result == 'VALID' else '✘'} {what}: {result.result}{live} — {result.reason}",
              flush=True)
        expect(result.result, expected, what)

    def live(self, phone: ResidentRequestsClient, document: str | None = None) -> str:
        return phone.wallet.qr_text(document=document, live=True, passphrase=self.passphrase, now=system_clock())

    def keep(self, name: str, held: HeldCredential) -> None:
        path = self.out / name
        write_private(path, pass_to_qr_text(held.cose_pass(PassView.FULL)) + "\n")
        self.written.append(path)

    # -- the story ---------------------------------------------------------------------------------
    def first_visit(self, step: int, today: datetime.date) -> tuple[ResidentRequestsClient, HeldCredential, str]:
        say(f"{step}. 李娜唯一一次到窗口：登记、领证、恢复码 · 李娜's one visit: registered, permit picked up, "
            "recovery code")
        # Registered for 340 days, her permit issued 320 days ago on paper: its endorsement is due (the window
        # opens 60 days before the end), so the renewal below is one the rules grant at once.
        since = today - datetime.timedelta(days=340)
        for permit in (_permit(LI_NA, CredentialType.RESIDENCE_REGISTRATION, "DJK-110105-2026-000101", since),
                       _permit(LI_NA, CredentialType.RESIDENCE_PERMIT, "JZZ-110105-2026-000101",
                               today - datetime.timedelta(days=320))):
            record = self.office.call("POST", "/api/v1/records", permit.to_dict(), as_="clerk")
        offer = self.office.call("POST", f"/api/v1/records/{record['id']}/offers")
        phone = self.phone(OLD_PHONE)
        held = phone.wallet.pick_up(str(offer["pickup_url"]), str(offer["tx_code"]), self.passphrase)
        code = phone.client.recovery_code
        if code is None:
            raise DemoError("the first pickup handed out no recovery code")
        print(f"   {held.document_number} 有效期 valid {held.valid_from} – {held.valid_until}, in {phone.wallet.home.path}")
        print(f"   恢复码 recovery code (shown once, written down): {code}")
        self.keep("li-na.before-renewal.static.qr.txt", held)
        return phone, held, code

    def renewal(self, step: int, phone: ResidentRequestsClient, old: HeldCredential) -> HeldCredential:
        say(f"{step}. 网上签注，然后刷新 · The endorsement (签注) online, then refresh",
            "epermit wallet request endorse: signed in by a presentation of the permit (KB-JWT, device key)")
        answer = phone.ask("endorse", held=old, passphrase=self.passphrase)
        print(f"   申请 request: {told(answer)}")
        request_id = str(answer["request"]["id"])
        if answer["request"]["state"] == "queued":  # flagged or no valid card: the district's queue, oldest first
            queue = cast(list[dict[str, Any]], self.office.call("GET", "/api/v1/requests")["requests"])
            expect(request_id in {q["id"] for q in queue}, True, "the request in the district's queue")
            decided = self.office.call("POST", f"/api/v1/requests/{request_id}/approve")
            print(f"   王警官 approves it over the officer API (listResidentRequests, approveResidentRequest): "
                  f"{decided['state']}")
        renewed = phone.refresh(self.passphrase)
        expect(len(renewed), 1, "credentials the renewal delivered")
        new = renewed[0]
        print(f"   epermit wallet refresh: {new.document_number} 有效期 valid {new.valid_from} – {new.valid_until} "
              f"(was – {old.valid_until})")
        expect(new.valid_until > old.valid_until, True, "the renewed validity is later")
        self.judge(self.live(phone), "续期后的新证 the renewed credential", expected="VALID")
        self.judge(pass_to_qr_text(old.cose_pass(PassView.FULL)), "续期前的旧证 the old one", expected="REVOKED")
        return new

    def lost_phone(self, step: int, old_phone: ResidentRequestsClient, code: str) -> None:
        say(f"{step}. 手机丢了：网上挂失、重新发证 · A lost phone, online: suspended at once, re-delivered",
            "epermit wallet --home NEW request lost --citizen-id … --recovery-code … --issuer … --send-code")
        self.keep("li-na.lost-phone.static.qr.txt", old_phone.wallet.home.find(None))
        new_phone = self.phone(NEW_PHONE)
        answer = new_phone.report_lost(self.issuer, citizen_id=LI_NA.citizen_id, recovery_code=code)
        print(f"   挂失 lost: {told(answer)}")
        self.judge(self.live(old_phone), "丢失手机的动态码 the lost phone's live QR", expected="SUSPENDED")
        new_phone.send_code(new_phone.kept()[-1])
        sms = self.out / SMS_FILE
        sent = deliver_due(self.office.service.store, FileSink(sms), system_clock)  # `epermit notifications deliver`
        one_time = _one_time_code(sms)
        print(f"   短信 SMS to the registered number ({SMS_FILE}, {sent.sent} sent): code {one_time}")
        self.written.append(sms)
        for confirmed in new_phone.confirm_code(one_time):
            print(f"   验证码 code: {told(confirmed)}")
        renewed = new_phone.refresh(self.passphrase)
        for held in renewed:
            print(f"   新手机 new phone: {held.document_number} {held.credential_type.name_zh} "
                  f"{held.credential_type.name_en}, valid – {held.valid_until}")
        if new_phone.recovery_code is not None:
            print(f"   新恢复码 new recovery code for the new phone: {new_phone.recovery_code}")
        permit = next(h for h in renewed if h.credential_type is CredentialType.RESIDENCE_PERMIT)
        self.keep("li-na.new-phone.static.qr.txt", permit)
        self.judge(self.live(new_phone, permit.document_number), "新手机的动态码 the new phone's live QR",
                   expected="VALID")
        self.judge(self.live(old_phone), "丢失手机的动态码 the lost phone's live QR", expected="REVOKED")


def tell_online_story(office: DemoOffice, out: Path, cache: VerifierCache, passphrase: PassphraseSource, *,
                      first_step: int) -> list[Path]:
    """李娜's first visit, renewal and lost phone (module docstring), as steps ``first_step``…; the files written."""
    story = OnlineStory(office, out, cache, passphrase)
    today = datetime.datetime.fromtimestamp(system_clock(), CHINA_STANDARD_TIME).date()
    phone, held, code = story.first_visit(first_step, today)
    story.renewal(first_step + 1, phone, held)
    story.lost_phone(first_step + 2, phone, code)
    return story.written


def write_newcomer_offers(office: DemoOffice, out: Path) -> Path:
    """offers.json: 王芳's residence permit and registration card, each with a fresh offer nobody redeemed. Her
    permit's endorsement is due (it ends in 44 days), so `request endorse` is approved at once. A list of
    {type, offer_uri, pickup_url, tx_code} (type: the credential type's slug); 0600, as the PINs take the
    credentials over."""
    today = datetime.datetime.fromtimestamp(system_clock(), CHINA_STANDARD_TIME).date()
    offers = []
    for permit in (_permit(WANG_FANG, CredentialType.RESIDENCE_REGISTRATION, "DJK-110105-2026-000102",
                           today - datetime.timedelta(days=340)),
                   _permit(WANG_FANG, CredentialType.RESIDENCE_PERMIT, "JZZ-110105-2026-000102",
                           today - datetime.timedelta(days=320))):
        record = office.call("POST", "/api/v1/records", permit.to_dict(), as_="clerk")
        offer = office.call("POST", f"/api/v1/records/{record['id']}/offers")
        offers.append({"type": permit.type.slug, **{name: offer[name] for name in OFFER_FIELDS[1:]}})
    path = out / OFFERS_FILE
    write_private(path, json.dumps(offers, ensure_ascii=False, indent=2) + "\n")
    return path


def folder_listing(out: Path) -> str:
    """What the demo left in ``out``, one name each (folders with a slash), for its last words."""
    names = sorted(p.name + ("/" if p.is_dir() else "") for p in out.iterdir() if p.name != "issuer-data")
    return "\n   ".join(", ".join(names[i:i + 6]) for i in range(0, len(names), 6))


def _permit(holder: Holder, kind: CredentialType, number: str, valid_from: datetime.date) -> Permit:
    return dataclasses.replace(sample_permit(kind, valid_from=valid_from,
                                             valid_until=valid_from + datetime.timedelta(days=364)),
                               holder=holder, document_number=number)


def _one_time_code(sms: Path) -> str:
    """The newest one-time code in the SMS file sink (what the resident reads on the registered phone)."""
    for line in reversed(sms.read_text(encoding="utf-8").splitlines()):
        message = json.loads(line)
        found = re.search(r"\b(\d{6})\b", str(message.get("text_en", "")))
        if message.get("kind") == "one_time_code" and found:
            return found.group(1)
    raise DemoError(f"no one-time code reached {sms}")
