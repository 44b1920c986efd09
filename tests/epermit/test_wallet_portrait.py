"""`epermit wallet show --png` draws the portrait code beside the pass in one image (the basic view too), and
`epermit verify` reads both from that image, or from a phone photo of it: portrait verified."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import stat
import time
from pathlib import Path

import pytest

from credential.passclaims import PassView
from credential.qrpass import encode_pass
from credential.samples import sample_permit
from credential.sdjwt import issue_sd_jwt_vc
from epermit.cli import main
from epermit.wallet import WalletHome
from epermit.wallet.held import HeldCredential
from tests.vectors.phone_photo import phone_photo
from tests.vectors.portrait_image import portrait_bytes
from tests.verifier.test_cli import ISSUER, STATUS_URI, CliWorld
from verifier.cli import main_verify
from verifier.qrimage import decode_qr_symbols, pass_text, portrait_codes

FACE = portrait_bytes()


def held_with_portrait(world: CliWorld, face: bytes | None) -> HeldCredential:
    """What a pickup keeps, signed by the world's bureau: both passes and the SD-JWT VC, with a portrait."""
    today = datetime.date.today()
    permit = sample_permit(valid_from=today - datetime.timedelta(days=30),
                           valid_until=today + datetime.timedelta(days=300))
    if face is not None:
        permit = dataclasses.replace(permit, holder=dataclasses.replace(
            permit.holder, portrait_sha256=hashlib.sha256(face).digest()))

    def cose(view: PassView) -> bytes:
        return encode_pass(permit, signer=world.credential_signer, holder_key=world.holder.public_key,
                           status_uri=STATUS_URI, status_idx=5, now=world.now - 3600, view=view)

    sd_jwt = issue_sd_jwt_vc(permit, issuer=ISSUER, signer=world.credential_signer,
                             holder_key=world.holder.public_key, status_uri=STATUS_URI, status_idx=5,
                             now=world.now - 3600, exp=world.now + 200 * 86400, portrait=face)
    return HeldCredential(
        document_number=permit.document_number, credential_type=permit.type, name=permit.holder.name,
        name_pinyin=permit.holder.name_pinyin, authority_name=permit.authority_name,
        valid_from=permit.valid_from, valid_until=permit.valid_until, issuer=ISSUER, status_uri=STATUS_URI,
        status_idx=5, picked_up_at=int(time.time()), sd_jwt_vc=sd_jwt, qr_pass=cose(PassView.FULL),
        qr_pass_basic=cose(PassView.BASIC))


def verify_json(world: CliWorld, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    main_verify([*args, "--cache", str(world.cache), "--json"])
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


def test_show_writes_both_codes_and_the_verifier_reads_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    world = CliWorld(tmp_path).imported()
    home = tmp_path / "phone"
    WalletHome(home, create=True).save(held_with_portrait(world, FACE))
    png = tmp_path / "residence-permit.live+portrait.png"
    capsys.readouterr()
    assert main(["wallet", "--home", str(home), "show", "--png", str(png)]) == 0
    captured = capsys.readouterr()
    text = captured.out.strip()
    assert "portrait code version" in captured.err and f"{len(FACE)} bytes" in captured.err
    assert stat.S_IMODE(png.stat().st_mode) == 0o600  # it holds a face
    symbols = decode_qr_symbols(png)
    assert pass_text(symbols) == text and portrait_codes(symbols) == [FACE]
    for image in (png, phone_photo(png, tmp_path / "photo.jpg")):
        data = verify_json(world, capsys, str(image))
        assert (data["result"], data["portrait"], data["view"]) == ("VALID", "verified", "basic"), data["reason"]


def test_without_a_portrait_show_writes_the_pass_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = CliWorld(tmp_path).imported()
    home = tmp_path / "phone"
    WalletHome(home, create=True).save(held_with_portrait(world, None))
    png = tmp_path / "pass.png"
    assert main(["wallet", "--home", str(home), "show", "--png", str(png)]) == 0
    assert "portrait code" not in capsys.readouterr().err
    assert portrait_codes(decode_qr_symbols(png)) == []
