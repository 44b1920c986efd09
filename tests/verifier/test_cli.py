"""`epermit verify`: exit codes, human and JSON output, input forms, sync and import."""

from __future__ import annotations

import datetime
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import qrcode

from credential.passclaims import PassView
from credential.qrpass import encode_pass, live_qr_text, pass_to_qr_text
from credential.samples import sample_permit
from credential.statuslist import INVALID, StatusList, sign_status_list_token
from keys import KeyRing, KeySigner, Purpose, PurposeSigner
from verifier.cli import main_verify

ISSUER = "https://permits.example.gov.cn"
STATUS_URI = f"{ISSUER}/statuslists/1"
ROOT = Path(__file__).resolve().parents[2]


class CliWorld:
    """The CLI judges at the real clock, so this world is built around the real time."""

    def __init__(self, tmp_path: Path) -> None:
        self.now = int(time.time())
        self.ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局",
                                     now=self.now - 86400)
        self.holder = KeySigner.generate()
        today = datetime.date.today()
        self.permit = sample_permit(valid_from=today - datetime.timedelta(days=30),
                                    valid_until=today + datetime.timedelta(days=300))
        self.statuses = StatusList(1024, 2)
        self.dir = tmp_path
        self.cache = tmp_path / "cache"
        self.root = tmp_path / "root.pem"
        from cryptography.hazmat.primitives.serialization import Encoding

        self.root.write_bytes(self.ring.root_certificate.public_bytes(Encoding.PEM))

    @property
    def credential_signer(self) -> PurposeSigner:
        return self.ring.signer_for(Purpose.CREDENTIAL, now=self.now)

    def write_lists(self) -> list[str]:
        trust = self.dir / "trustlist.jwt"
        trust.write_text(self.ring.trust_list_token(issuer=ISSUER, now=self.now - 60, version=1,
                                                    status_lists=[STATUS_URI], aggregation_uri=None))
        status = self.dir / "status1.jwt"
        status.write_text(sign_status_list_token(self.statuses, uri=STATUS_URI,
                                                 signer=self.ring.signer_for(Purpose.STATUS, now=self.now),
                                                 now=self.now - 30, ttl=300, exp=self.now + 86400))
        return [str(trust), str(status)]

    def imported(self) -> CliWorld:
        assert main_verify(["import", "--cache", str(self.cache), "--root", str(self.root), *self.write_lists()]) == 0
        return self

    def qr(self, *, live: bool = True, idx: int = 5, view: PassView = PassView.FULL) -> str:
        cose = encode_pass(self.permit, signer=self.credential_signer, holder_key=self.holder.public_key,
                           status_uri=STATUS_URI, status_idx=idx, now=self.now - 3600, view=view)
        if live:
            return live_qr_text(cose, holder_signer=self.holder, now=int(time.time()))
        return pass_to_qr_text(cose)

    def run(self, *args: str) -> int:
        return main_verify([*args, "--cache", str(self.cache)])


@pytest.fixture
def cli(tmp_path: Path) -> CliWorld:
    return CliWorld(tmp_path).imported()


def test_valid_live_human_output(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(cli.qr()) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "✔ VALID (live) — 有效"
    assert "姓名 Name: 张伟" in out and "居住证 Residence Permit" in out
    assert "410102********1230" in out and "410102199003151230" not in out
    assert "性别 Sex: 男 Male" in out
    assert "revocation data updated just now" in out
    assert "physical card" not in out
    assert "居住证 Residence Permit · 完整信息 full view" in out


def test_the_basic_view_says_so_and_shows_no_personal_rows(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(cli.qr(view=PassView.BASIC), "--full") == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "✔ VALID (live) — 有效"
    assert "居住证 Residence Permit · 基本信息 basic view" in out
    assert "姓名 Name: 张伟" in out and "证件号码 Document number: JZZ-110105-2026-000001" in out
    for absent in ("公民身份号码", "出生日期", "居住地址", "性别", "民族", "居住地 "):
        assert absent not in out, absent
    assert cli.run(cli.qr(view=PassView.BASIC), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["view"] == "basic" and data["result"] == "VALID"
    assert set(data["claims"]) == {"type", "name", "name_pinyin", "portrait_sha256", "document_number",
                                   "authority_code", "authority_name", "valid_from", "valid_until"}


def test_full_shows_the_citizen_id(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(cli.qr(), "--full") == 0
    assert "410102199003151230" in capsys.readouterr().out


def test_static_pass_advises_checking_the_card(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(cli.qr(live=False)) == 0
    out = capsys.readouterr().out
    assert out.startswith("✔ VALID (static)") and "physical card" in out
    # Under a verdict that already says no, "compare the photo" is no advice.
    assert cli.run(cli.qr(live=False), "--require-live") == 1
    out = capsys.readouterr().out
    assert "✘ NO_HOLDER_PROOF" in out and "compare the photo" not in out
    (cli.dir / "revoked").mkdir()
    revoked = CliWorld(cli.dir / "revoked")
    revoked.statuses.set(6, 1)
    revoked.imported()
    capsys.readouterr()
    assert revoked.run(revoked.qr(live=False, idx=6)) == 1
    out = capsys.readouterr().out
    assert out.startswith("✘ REVOKED") and "compare the photo" not in out


def test_replayed_cli_says_what_to_do(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    cose = encode_pass(cli.permit, signer=cli.credential_signer, holder_key=cli.holder.public_key,
                       status_uri=STATUS_URI, status_idx=5, now=cli.now - 3600)
    assert cli.run(live_qr_text(cose, holder_signer=cli.holder, now=cli.now - 600)) == 1
    out = capsys.readouterr().out
    assert out.startswith("✘ REPLAYED") and "请持证人刷新后再扫" in out and "ask the holder to refresh it" in out
    assert "proof time" not in out and str(cli.now - 600) not in out, out


def test_never_synced_cli_says_not_set_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Never NOT GENUINE for a genuine card; an unreadable photo is "no QR code found", with no sync hint."""
    from PIL import Image

    world = CliWorld(tmp_path)
    assert world.run(world.qr()) == 1
    out = capsys.readouterr().out
    assert out.startswith("✘ NOT_SET_UP — 尚未设置：请先联网同步一次 not set up: sync once"), out
    assert "NOT GENUINE" not in out and "非真实" not in out and "verify sync" in out
    blank = tmp_path / "blank.png"
    Image.new("L", (100, 100), 255).save(blank)
    assert world.run(str(blank)) == 1
    out = capsys.readouterr().out
    assert "no QR code found" in out and "trust list" not in out and "sync" not in out, out


def test_json_output(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(cli.qr(), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["result"] == "VALID" and data["live"] is True and data["view"] == "full"
    assert data["claims"]["citizen_id"] == "410102********1230"
    assert data["status_age_seconds"] >= 30 and data["reason"]
    assert cli.run(cli.qr(), "--json", "--full") == 0
    assert json.loads(capsys.readouterr().out)["claims"]["citizen_id"] == "410102199003151230"


def test_revoked_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = CliWorld(tmp_path)
    world.statuses.set(5, INVALID)
    world.imported()
    capsys.readouterr()
    assert world.run(world.qr()) == 1
    out = capsys.readouterr().out
    assert out.startswith("✘ REVOKED — 已吊销") and "张伟" in out


def test_max_status_age(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(cli.qr(), "--max-status-age", "1", "--json") == 1
    assert json.loads(capsys.readouterr().out)["result"] == "STATUS_UNKNOWN"
    assert cli.run(cli.qr(), "--max-status-age", "-5") == 2


def test_input_forms(cli: CliWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    text = cli.qr()
    png = cli.dir / "pass.png"
    qrcode.make(text).save(png)
    assert cli.run(str(png)) == 0
    txt = cli.dir / "pass.qr.txt"
    txt.write_text(text + "\n")
    assert cli.run(str(txt)) == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert cli.run("-") == 0


def test_bad_inputs(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run("EP1:GARBAGE") == 1
    assert capsys.readouterr().out.startswith("✘ MALFORMED")
    blank = cli.dir / "blank.png"
    from PIL import Image

    Image.new("L", (100, 100), 255).save(blank)
    assert cli.run(str(blank)) == 1
    assert "no QR code found" in capsys.readouterr().out
    assert cli.run(str(cli.dir / "missing.png")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file" in err
    assert main_verify([]) == 2


def test_env_cache_dir(cli: CliWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPERMIT_VERIFIER_CACHE", str(cli.cache))
    assert main_verify([cli.qr()]) == 0
    monkeypatch.setenv("EPERMIT_VERIFIER_CACHE", str(cli.dir / "empty"))
    assert main_verify([cli.qr()]) == 1  # NOT_SET_UP: nothing synced


def test_import_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = CliWorld(tmp_path)
    files = world.write_lists()
    # status list before any trust list, and without a root: refused, exit 2, one line
    assert main_verify(["import", "--cache", str(world.cache), files[1]]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    junk = tmp_path / "junk.jwt"
    junk.write_text("not a token")
    assert main_verify(["import", "--cache", str(world.cache), "--root", str(world.root), str(junk)]) == 2
    assert main_verify(["import", "--cache", str(world.cache), str(tmp_path / "absent.jwt")]) == 2


def test_sync_command_without_server(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_verify(["sync", "http://127.0.0.1:9", "--cache", str(cli.cache), "--timeout", "2"]) == 2
    assert "epermit verify:" in capsys.readouterr().err
    assert main_verify(["sync", "file:///etc", "--cache", str(cli.cache)]) == 2


def test_verifier_imports_no_server_libraries() -> None:
    code = ("import verifier, verifier.verify, verifier.cli, verifier.sync, verifier.qrimage, verifier.cache; "
            "import sys; bad = {'flask', 'redis', 'qrcode', 'issuer', 'keys', 'wallet_api', 'epermit'} "
            "& {m.split('.')[0] for m in sys.modules}; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main_verify(["--help"]) == 0
    assert main_verify(["sync", "--help"]) == 0
    assert "sync" in capsys.readouterr().out
