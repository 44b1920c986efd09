"""`epermit verify` with the portrait code: both codes from one photo (also photo-like: tilt, blur, JPEG) or
from two, `portrait: verified / absent / mismatch`, --portrait-out (0600, only once verified)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import stat
from pathlib import Path

import pytest

from credential.passclaims import PassView
from credential.sdjwt import issue_sd_jwt_vc, present
from epermit.wallet.display import pass_and_portrait_image, portrait_qr_code
from tests.vectors.phone_photo import phone_photo
from tests.vectors.portrait_image import portrait_bytes
from tests.verifier.test_cli import ISSUER, STATUS_URI, CliWorld

FACE, OTHER_FACE = portrait_bytes(), portrait_bytes(seed=1)


@pytest.fixture
def cli(tmp_path: Path) -> CliWorld:
    world = CliWorld(tmp_path)
    holder = dataclasses.replace(world.permit.holder, portrait_sha256=hashlib.sha256(FACE).digest())
    world.permit = dataclasses.replace(world.permit, holder=holder)
    return world.imported()


def both(cli: CliWorld, face: bytes, name: str = "both.png") -> Path:
    image, _, _ = pass_and_portrait_image(cli.qr(view=PassView.BASIC), face)
    path = cli.dir / name
    image.save(path)
    return path


def run_json(cli: CliWorld, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = cli.run(*args, "--json")
    return code, json.loads(capsys.readouterr().out)


def test_one_photo_holds_both_codes_and_the_face_is_verified(cli: CliWorld, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    out_file = cli.dir / "face.webp"
    assert cli.run(str(both(cli, FACE)), "--portrait-out", str(out_file)) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "✔ VALID (live) — 有效"
    assert "照片 portrait: verified 已核验" in out and f"image/webp, {len(FACE)} bytes" in out
    assert f"portrait saved to {out_file}" in out
    assert out_file.read_bytes() == FACE and stat.S_IMODE(out_file.stat().st_mode) == 0o600
    code, data = run_json(cli, capsys, str(both(cli, FACE)))
    assert code == 0 and data["result"] == "VALID" and data["portrait"] == "verified"
    assert data["portrait_media_type"] == "image/webp" and "portrait_image" not in data


def test_a_photo_like_copy_of_the_screen_still_gives_both(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    photo = phone_photo(both(cli, FACE), cli.dir / "photo.jpg")
    code, data = run_json(cli, capsys, str(photo))
    assert (code, data["result"], data["portrait"]) == (0, "VALID", "verified"), data["reason"]


def test_another_face_is_a_mismatch_never_valid_and_never_saved(cli: CliWorld, capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    out_file = cli.dir / "face.webp"
    assert cli.run(str(both(cli, OTHER_FACE)), "--portrait-out", str(out_file)) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("✘ PORTRAIT_MISMATCH — 照片不符")
    assert "照片 portrait: mismatch 未能与证件签名核对一致" in out and "不要接受" in out
    assert not out_file.exists()
    assert f"portrait mismatch: nothing written to {out_file}" in err
    code, data = run_json(cli, capsys, str(both(cli, OTHER_FACE)))
    assert (code, data["result"], data["portrait"]) == (1, "PORTRAIT_MISMATCH", "mismatch")
    assert data["claims"]["name"] == "张伟"  # the pass itself is genuine: whose it is stays shown


def test_the_portrait_code_from_a_second_photo(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    qr_png = cli.dir / "pass.png"
    import qrcode

    qrcode.make(cli.qr(view=PassView.BASIC)).save(str(qr_png))
    face_png = cli.dir / "portrait-code.png"
    portrait_qr_code(FACE).make_image().save(str(face_png))
    code, data = run_json(cli, capsys, str(qr_png), "--portrait-code", str(face_png))
    assert (code, data["result"], data["portrait"]) == (0, "VALID", "verified")
    other_png = cli.dir / "other-code.png"
    portrait_qr_code(OTHER_FACE).make_image().save(str(other_png))
    code, data = run_json(cli, capsys, str(qr_png), "--portrait-code", str(other_png))
    assert (code, data["result"], data["portrait"]) == (1, "PORTRAIT_MISMATCH", "mismatch")
    # A second photo that holds no portrait code was asked for and is missing: a usage error, not a verdict.
    assert cli.run(str(qr_png), "--portrait-code", str(qr_png)) == 2
    assert "no portrait code found" in capsys.readouterr().err


def test_no_portrait_code_is_absent_and_still_valid(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(cli.qr(view=PassView.BASIC)) == 0
    out = capsys.readouterr().out
    assert "照片 portrait: absent 未扫描到照片码" in out and "compare the holder with the physical card" in out
    code, data = run_json(cli, capsys, cli.qr(view=PassView.BASIC))
    assert (code, data["portrait"]) == (0, "absent")


def test_a_face_beside_a_pass_that_signs_none_is_a_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    world = CliWorld(tmp_path).imported()  # the sample permit has no portrait digest
    capsys.readouterr()
    code, data = run_json(world, capsys, str(both(world, FACE)))
    assert (code, data["result"], data["portrait"]) == (1, "PORTRAIT_MISMATCH", "mismatch")
    assert "no verified pass signs a portrait" in str(data["portrait_reason"])


def test_an_sd_jwt_vc_carries_its_own_verified_face(cli: CliWorld, capsys: pytest.CaptureFixture[str]) -> None:
    """A presentation disclosing ``picture`` (checked against the signed digest by verify_sd_jwt_vc) gives
    portrait: verified and the face for --portrait-out; the data URI is not printed as a claim."""
    issued = issue_sd_jwt_vc(cli.permit, issuer=ISSUER, signer=cli.credential_signer,
                             holder_key=cli.holder.public_key, status_uri=STATUS_URI, status_idx=5,
                             now=cli.now - 86400, exp=cli.now + 200 * 86400, portrait=FACE)
    shown = present(issued, disclose={"name", "document_number", "picture"}, holder_signer=cli.holder,
                    aud="landlord", nonce="n-1", now=cli.now - 5)
    out_file = cli.dir / "face.webp"
    code, data = run_json(cli, capsys, shown, "--portrait-out", str(out_file))
    assert (code, data["result"], data["portrait"]) == (0, "VALID", "verified"), data["reason"]
    assert "picture" not in data["claims"] and out_file.read_bytes() == FACE
    without = present(issued, disclose={"name", "document_number"}, holder_signer=cli.holder, aud="landlord",
                      nonce="n-1", now=cli.now - 5)
    code, data = run_json(cli, capsys, without)
    assert (code, data["result"], data["portrait"]) == (0, "VALID", "absent")


def test_an_sd_jwt_vc_whose_picture_is_not_its_signed_portrait(cli: CliWorld, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An issuer that signed a picture beside another face's digest (built here by bypassing issuance's own
    check): MALFORMED, portrait mismatch, no face saved and nothing of the holder shown."""
    import credential.sdjwt as sdjwt
    from credential.portrait import portrait_data_uri

    honest = sdjwt.personal_claims

    def with_another_face(permit: object, portrait: bytes | None = None) -> dict[str, object]:
        claims = honest(permit, None)  # type: ignore[arg-type]
        claims["picture"] = portrait_data_uri(OTHER_FACE)
        return claims

    monkeypatch.setattr(sdjwt, "personal_claims", with_another_face)
    issued = issue_sd_jwt_vc(cli.permit, issuer=ISSUER, signer=cli.credential_signer,
                             holder_key=cli.holder.public_key, status_uri=STATUS_URI, status_idx=5,
                             now=cli.now - 86400, exp=cli.now + 200 * 86400)
    monkeypatch.undo()
    out_file = cli.dir / "face.webp"
    code, data = run_json(cli, capsys, issued, "--portrait-out", str(out_file))
    assert (code, data["result"], data["portrait"]) == (1, "MALFORMED", "mismatch"), data["reason"]
    assert data["claims"] == {} and not out_file.exists()
