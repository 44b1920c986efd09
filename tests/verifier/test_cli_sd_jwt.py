"""`epermit verify` with an SD-JWT VC (with or without a KB-JWT, as text or as a file), the policy flags, and the
same DESIGN §5 result codes in the human output and in --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credential.sdjwt import issue_sd_jwt_vc, present
from credential.statuslist import INVALID
from tests.verifier.test_cli import ISSUER, STATUS_URI, CliWorld
from verifier.cli import main_verify
from verifier.result import Result


class SdJwtWorld(CliWorld):
    def sd_jwt(self, idx: int = 5) -> str:
        return issue_sd_jwt_vc(self.permit, issuer=ISSUER, signer=self.credential_signer,
                               holder_key=self.holder.public_key, status_uri=STATUS_URI, status_idx=idx,
                               now=self.now - 86400, exp=self.now + 200 * 86400)

    def presentation(self, *, aud: str = "landlord", nonce: str = "n-1", age: int = 5, idx: int = 5) -> str:
        return present(self.sd_jwt(idx), disclose={"name", "document_number", "sex", "address"}, holder_signer=self.holder, aud=aud,
                       nonce=nonce, now=self.now - age)

    def run_json(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
        code = main_verify([*args, "--cache", str(self.cache), "--json"])
        return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture
def sw(tmp_path: Path) -> SdJwtWorld:
    world = SdJwtWorld(tmp_path)
    world.statuses.set(9, INVALID)
    world.imported()
    return world


@pytest.fixture(autouse=True)
def _quiet(capsys: pytest.CaptureFixture[str], sw: SdJwtWorld) -> None:
    capsys.readouterr()  # drop the import lines printed while setting up


def test_sd_jwt_text_and_file_with_and_without_kb(sw: SdJwtWorld, capsys: pytest.CaptureFixture[str]) -> None:
    plain, shown = sw.sd_jwt(), sw.presentation()
    file = sw.dir / "credential.sd-jwt"
    file.write_text(shown + "\n")
    for argument, live in ((plain, False), (shown, True), (str(file), True)):
        code, data = sw.run_json(capsys, argument)
        assert code == 0 and data["result"] == "VALID", data
        assert data["format"] == "sd_jwt_vc" and data["live"] is live and data["reason"]
    assert main_verify([shown, "--cache", str(sw.cache)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("✔ VALID (live)") and "张伟" in out


def test_sd_jwt_results_match_the_codes(sw: SdJwtWorld, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        ([sw.sd_jwt(idx=9)], Result.REVOKED),
        ([sw.sd_jwt(), "--require-live"], Result.NO_HOLDER_PROOF),
        ([sw.presentation(age=3600)], Result.REPLAYED),
        ([sw.presentation(), "--aud", "someone-else"], Result.REPLAYED),
        ([sw.presentation(), "--nonce", "other"], Result.REPLAYED),
        ([sw.presentation(), "--aud", "landlord", "--nonce", "n-1", "--require-live"], Result.VALID),
        ([sw.presentation(age=200), "--kb-max-age", "100"], Result.REPLAYED),
        ([sw.sd_jwt(), "--max-trust-age", "1"], Result.STATUS_UNKNOWN),
        ([sw.sd_jwt()[:-1]], Result.MALFORMED),
    ]
    for args, expected in cases:
        code, data = sw.run_json(capsys, *args)
        assert data["result"] == expected.value, (args[1:], data)
        assert code == (0 if expected is Result.VALID else 1)
        human = main_verify([*args, "--cache", str(sw.cache)])
        assert human == code
        first = capsys.readouterr().out.splitlines()[0]
        assert expected.value in first


def test_live_window_flag(sw: SdJwtWorld, capsys: pytest.CaptureFixture[str]) -> None:
    from credential.qrpass import encode_pass, live_qr_text

    cose = encode_pass(sw.permit, signer=sw.credential_signer, holder_key=sw.holder.public_key,
                       status_uri=STATUS_URI, status_idx=5, now=sw.now - 86400)
    text = live_qr_text(cose, holder_signer=sw.holder, now=sw.now - 30)
    assert sw.run_json(capsys, text)[1]["result"] == "VALID"
    assert sw.run_json(capsys, text, "--live-window", "5")[1]["result"] == "REPLAYED"
    assert main_verify([text, "--cache", str(sw.cache), "--live-window", "-1"]) == 2


def test_sd_jwt_stripped_of_every_disclosure_exits_1(sw: SdJwtWorld, capsys: pytest.CaptureFixture[str]) -> None:
    stripped = sw.sd_jwt().split("~", 1)[0] + "~"
    code, data = sw.run_json(capsys, stripped)
    assert (code, data["result"], data["claims"]) == (1, "MALFORMED", {})
    assert "does not identify its holder" in str(data["reason"])
    assert sw.run(stripped) == 1
    assert capsys.readouterr().out.startswith("✘ MALFORMED")
