"""The demo is the product's first impression: it must run the whole story and leave usable files."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import signal
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from epermit.cli import main
from epermit.demo import run_demo, write_offer_file
from epermit.demo_online import LI_NA, OFFER_FIELDS
from issuer.totp import code_at


@dataclass(frozen=True)
class DemoRun:
    out: Path
    printed: str  # what the demo printed: the story a newcomer reads


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    previous = os.umask(0o022)  # a usual umask: files would be 0644 unless written private
    printed = io.StringIO()
    try:
        out = tmp_path_factory.mktemp("demo")
        out.chmod(0o755)  # as a folder the user made: the demo makes it private
        with contextlib.redirect_stdout(printed):
            out = run_demo(out)
        yield DemoRun(out, printed.getvalue())
    finally:
        os.umask(previous)
        sys.stdout.write(printed.getvalue()[-4000:])  # shown by pytest when the demo itself fails


@pytest.fixture(scope="module")
def demo_dir(demo_run: DemoRun) -> Path:
    return demo_run.out


def test_demo_leaves_what_a_newcomer_plays_with(demo_dir: Path) -> None:
    for name in ("root.pem", "jwks.json", "zhang-wei.sd-jwt", "zhang-wei.live.png", "zhang-wei.static.png",
                 "zhang-wei.static.qr.txt", "residence-card.static.png", "tampered.qr.txt"):
        assert (demo_dir / name).is_file(), name
    assert (demo_dir / "verifier-cache").is_dir()
    assert json.loads((demo_dir / "jwks.json").read_text())["keys"]


def test_the_one_frame_image_holds_both_codes_and_verifies_with_the_cli(demo_dir: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The wallet's screen as one camera frame: epermit verify reads the pass and the portrait code from it and
    the face is the signed one (the pass has been revoked since the demo checked it VALID)."""
    frame = demo_dir / "residence-permit.live+portrait.png"
    assert stat.S_IMODE(frame.stat().st_mode) == 0o600  # it holds a face
    face = demo_dir / "face.webp"
    assert main(["verify", "--cache", str(demo_dir / "verifier-cache"), "--json", "--portrait-out", str(face),
                 str(frame)]) == 1
    shown = json.loads(capsys.readouterr().out)
    assert (shown["result"], shown["portrait"], shown["view"]) == ("REVOKED", "verified", "basic"), shown
    assert face.read_bytes()[8:12] == b"WEBP" and stat.S_IMODE(face.stat().st_mode) == 0o600
    face.unlink()  # the folder's other tests count its files


def test_demo_folder_holds_no_private_key(demo_dir: Path) -> None:
    for path in demo_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"PRIVATE KEY" not in data, path
            assert b'"d":' not in data, path


def test_demo_outputs_verify_offline_with_the_cli(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = str(demo_dir / "verifier-cache")
    assert main(["verify", "--cache", cache, str(demo_dir / "residence-card.static.png")]) == 0
    assert "VALID" in capsys.readouterr().out
    # 张伟's permit was revoked at the end of the story.
    assert main(["verify", "--cache", cache, "--json", str(demo_dir / "zhang-wei.static.qr.txt")]) == 1
    assert json.loads(capsys.readouterr().out)["result"] == "REVOKED"
    assert main(["verify", "--cache", cache, "--json", str(demo_dir / "tampered.qr.txt")]) == 1
    assert json.loads(capsys.readouterr().out)["result"] == "BAD_SIGNATURE"
    assert main(["verify", "--cache", cache, "--require-live", "--json", str(demo_dir / "residence-card.static.qr.txt")]) == 1
    assert json.loads(capsys.readouterr().out)["result"] == "NO_HOLDER_PROOF"


def test_the_demo_wallets_open_with_the_cli(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = demo_dir / "wallets" / "residence-card"
    key = (home / "device-key.json").read_bytes()
    assert b"ciphertext" in key and b"PRIVATE KEY" not in key
    passphrase = str(demo_dir / "wallet-passphrase.txt")
    assert main(["wallet", "--home", str(home), "show", "--live", "--passphrase-file", passphrase]) == 0
    live = capsys.readouterr().out.strip()
    assert main(["verify", "--cache", str(demo_dir / "verifier-cache"), "--json", live]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["result"], shown["live"], shown["view"]) == ("VALID", True, "basic")
    assert main(["wallet", "--home", str(demo_dir / "wallets" / "zhang-wei"), "list"]) == 0
    assert "JZZ-110105-2026-000001" in capsys.readouterr().out


def test_demo_folder_and_files_are_owner_only(demo_dir: Path) -> None:
    """The folder holds a registry and the residents' credentials: 0700 folders, 0600 files (the store's -wal
    and -shm too), whatever the umask; the verifier's cache of public documents is the verifier's business."""
    assert stat.S_IMODE(demo_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((demo_dir / "issuer-data").stat().st_mode) == 0o700
    files = [p for p in demo_dir.rglob("*") if p.is_file() and "verifier-cache" not in p.parts]
    assert any(p.name == "epermit.sqlite3" for p in files) and len(files) > 10
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


def test_the_offer_file_is_owner_only_even_over_an_old_one(tmp_path: Path) -> None:
    old = tmp_path / "offer.json"
    old.write_text("{}")
    old.chmod(0o644)
    path = write_offer_file(tmp_path, {"offer_uri": "openid-credential-offer://?x", "tx_code": "123456"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"offer_uri": "openid-credential-offer://?x", "tx_code": "123456"}


def test_demo_serves_https_and_leaves_its_ca(demo_dir: Path) -> None:
    from cryptography import x509

    ca = x509.load_pem_x509_certificate((demo_dir / "tls-ca.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert b"PRIVATE KEY" not in (demo_dir / "tls-ca.pem").read_bytes()
    # The web wallet trusts the residents' login request, signed under the same CA, as the CLI wallets do.
    from cryptography.hazmat.primitives.serialization import Encoding

    from wallet_api.verifier_cas import read_verifier_cas

    der = base64.b64encode(ca.public_bytes(Encoding.DER)).decode("ascii")
    assert read_verifier_cas(demo_dir / "verifier-cas.pem") == [der]
    assert stat.S_IMODE((demo_dir / "verifier-cas.pem").stat().st_mode) == 0o600


@pytest.mark.slow
def test_demo_serve_leaves_console_sign_ins_that_work(tmp_path: Path) -> None:
    """`demo --serve` writes each demo officer's console password and TOTP key to serve.json (0600) and the
    supervisor's enrolment QR; the supervisor signs in with them over https (as a browser would)."""
    out = tmp_path / "demo"
    process = subprocess.Popen([sys.executable, "-m", "epermit.cli", "demo", "--serve", "--out", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 120
        while not (out / "serve.json").is_file():
            assert process.poll() is None and time.monotonic() < deadline, "demo --serve did not come up"
            time.sleep(0.5)
        time.sleep(0.5)  # written atomically, but give the write a moment
        assert stat.S_IMODE((out / "serve.json").stat().st_mode) == 0o600
        assert stat.S_IMODE((out / "console-totp-supervisor.png").stat().st_mode) == 0o600
        served = json.loads((out / "serve.json").read_text())
        login = served["officer_console_sign_in"]["supervisor"]
        assert login["officer_id"] == "demo-supervisor" and login["otpauth_uri"].startswith("otpauth://totp/")
        tls = ssl.create_default_context(cafile=served["tls_ca"])

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=tls))

        def fetch(url: str, cookie: str = "", form: dict[str, str] | None = None) -> tuple[int, str, str]:
            data = urllib.parse.urlencode(form).encode() if form is not None else None
            try:
                answer = opener.open(urllib.request.Request(url, data=data, headers={"Cookie": cookie}), timeout=10)
            except urllib.error.HTTPError as exc:
                answer = exc
            return answer.status, answer.read().decode(), answer.headers.get("Set-Cookie", "").split(";")[0] or cookie

        console = served["officer_console"]
        _, page, cookie = fetch(f"{console}login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf is not None
        secret = base64.b32decode(login["totp_secret"] + "=" * (-len(login["totp_secret"]) % 8))
        status, _, cookie = fetch(f"{console}login", cookie, {"csrf": csrf.group(1), "officer_id": login["officer_id"],
                                                              "password": login["password"],
                                                              "code": code_at(secret, int(time.time()))})
        assert status == 302
        status, page, _ = fetch(console, cookie)
        assert status == 200 and 'id="search"' in page
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()


def test_the_clerks_portrait_reaches_the_wallet_through_the_wallet_api(demo_dir: Path) -> None:
    """张伟's SD-JWT VC, as the demo wallet picked it up over https, discloses the portrait the clerk took: a
    WebP whose SHA-256 is the signed portrait_sha256 (the same digest his QR pass signs)."""
    from credential.disclosures import decode_disclosure
    from credential.encoding import b64url_encode
    from credential.portrait import check_picture
    from credential.qrpass import decode_qr_text

    sd_jwt = (demo_dir / "zhang-wei.sd-jwt").read_text()
    claims = {d.name: d.value for d in (decode_disclosure(t, max_size=65536) for t in sd_jwt.split("~")[1:-1])}
    portrait = check_picture(claims)
    assert portrait is not None and portrait.media_type == "image/webp" and len(portrait.data) <= 997
    assert claims["portrait_sha256"] == b64url_encode(portrait.sha256)
    static = decode_qr_text((demo_dir / "zhang-wei.static.qr.txt").read_text().strip())
    assert static.payload[-70001][13] == portrait.sha256  # the pass's signed slot (checked by verify elsewhere)


# --- after the first pickup, everything online (epermit.demo_online) -------------------------------------------
def _after(printed: str, *lines: str) -> None:
    """Each of ``lines`` is printed, in this order."""
    at = 0
    for line in lines:
        found = printed.find(line, at)
        assert found >= 0, f"{line!r} not printed after position {at}"
        at = found + len(line)


def test_the_demo_tells_the_renewal_and_the_lost_phone_with_their_results(demo_run: DemoRun) -> None:
    _after(demo_run.printed,
           "网上签注，然后刷新 · The endorsement (签注) online, then refresh",
           "申请 request: approved: 签注", "epermit wallet refresh: JZZ-",
           "✔ 续期后的新证 the renewed credential: VALID (live)", "✘ 续期前的旧证 the old one: REVOKED",
           "手机丢了：网上挂失、重新发证 · A lost phone, online", "挂失 lost: queued",
           "✘ 丢失手机的动态码 the lost phone's live QR: SUSPENDED (live)", "短信 SMS to the registered number",
           "验证码 code: approved", "新手机 new phone: DJK-", "新手机 new phone: JZZ-", "新恢复码 new recovery code",
           "✔ 新手机的动态码 the new phone's live QR: VALID (live)",
           "✘ 丢失手机的动态码 the lost phone's live QR: REVOKED (live)",
           "== Done", "li-na.new-phone.static.qr.txt", "sms.jsonl")


def test_the_online_story_leaves_a_renewed_credential_on_the_new_phone_and_the_old_ones_revoked(
    demo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = str(demo_dir / "verifier-cache")
    verdicts = {}
    for name in ("li-na.new-phone", "li-na.lost-phone", "li-na.before-renewal"):
        main(["verify", "--cache", cache, "--json", str(demo_dir / f"{name}.static.qr.txt")])
        verdicts[name] = json.loads(capsys.readouterr().out)
    assert {name: v["result"] for name, v in verdicts.items()} == {
        "li-na.new-phone": "VALID", "li-na.lost-phone": "REVOKED", "li-na.before-renewal": "REVOKED"}
    renewed, first = verdicts["li-na.new-phone"]["claims"], verdicts["li-na.before-renewal"]["claims"]
    assert renewed["document_number"] == first["document_number"]
    assert renewed["valid_until"] > first["valid_until"]  # the endorsement's later validity
    assert main(["wallet", "--home", str(demo_dir / "wallets" / "li-na-new-phone"), "list"]) == 0
    assert "李娜" in capsys.readouterr().out


def test_the_demo_sms_sink_got_the_one_time_code_and_no_personal_data(demo_dir: Path) -> None:
    sent = [json.loads(line) for line in (demo_dir / "sms.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "one_time_code" in {m["kind"] for m in sent}
    text = (demo_dir / "sms.jsonl").read_text(encoding="utf-8")
    assert LI_NA.citizen_id not in text and LI_NA.name not in text


def test_demo_serve_writes_one_unredeemed_offer_per_type_that_a_newcomer_picks_up_and_renews(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parents[2]
    out, log = tmp_path / "served", tmp_path / "demo.log"
    with log.open("w", encoding="utf-8") as printed:
        demo = subprocess.Popen([sys.executable, "-m", "epermit.cli", "demo", "--serve", "--out", str(out)], cwd=root,
                                env={**os.environ, "PYTHONPATH": str(root)}, stdout=printed, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not (out / "serve.json").exists():  # written last, after offers.json
            assert demo.poll() is None, log.read_text(encoding="utf-8")[-3000:]
            assert time.monotonic() < deadline, "the demo did not start serving"
            time.sleep(0.2)
        offers = json.loads((out / "offers.json").read_text(encoding="utf-8"))
        assert stat.S_IMODE((out / "offers.json").stat().st_mode) == 0o600
        assert isinstance(offers, list) and [sorted(o) for o in offers] == [sorted(OFFER_FIELDS)] * 2
        assert sorted(o["type"] for o in offers) == ["residence_permit", "residence_registration"]
        assert all(o["pickup_url"].startswith("https://") and o["offer_uri"].startswith("openid-credential-offer://")
                   and len(o["tx_code"]) == 6 for o in offers)
        monkeypatch.setenv("EPERMIT_WALLET_PASSPHRASE", "a newcomer's passphrase")
        home, net = str(tmp_path / "newcomer"), ["--ca", str(out / "tls-ca.pem")]
        numbers = {}
        for offer in offers:  # nobody redeemed them: each picks up
            assert main(["wallet", "--home", home, "pickup", offer["pickup_url"], "--pin", offer["tx_code"], *net,
                         "--root", str(out / "root.pem")]) == 0
            numbers[offer["type"]] = capsys.readouterr().out.split("picked up ")[1].split()[0]
        # The permit's endorsement is due: approved at once, then refreshed into the later validity.
        assert main(["wallet", "--home", home, "request", "endorse", "--credential", numbers["residence_permit"],
                     *net]) == 0
        assert "\tapproved" in capsys.readouterr().out
        assert main(["wallet", "--home", home, "refresh", *net]) == 0
        assert f"renewed {numbers['residence_permit']}" in capsys.readouterr().out
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
    assert "stopping" in log.read_text(encoding="utf-8")
