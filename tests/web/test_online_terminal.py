"""The online story as a resident sees it in a terminal: the demo's renewal and lost-phone steps on the demo's
own office (epermit.demo.open_office, https on its loopback CA), and a newcomer's renewal with `epermit wallet`
from demo --serve's offers.json. Chromium renders each transcript as a terminal would (CJK and all); the text on
the page must be the transcript, and its screenshot is the README's (EPERMIT_UPDATE_SCREENSHOTS=1 refreshes
docs/screenshots/cli-online-story.png and cli-newcomer-renewal.png)."""

from __future__ import annotations

import contextlib
import html
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from epermit.cli import main
from epermit.demo import open_office
from epermit.demo_online import tell_online_story, write_newcomer_offers
from epermit.tls import LoopbackCA
from keys.keyring import KeyRing
from tests.web.browser import CHROMEDRIVER, CHROMIUM, chromium, screenshot
from verifier.cache import VerifierCache
from verifier.sync import sync

PERMIT = '.[] | select(.type == "residence_permit")'  # in offers.json, as the README's jq commands say
TERMINAL = """<!doctype html><meta charset="utf-8"><style>
html {{ overflow: hidden; }} body {{ margin: 0; background: #1e1e1e; }}
pre {{ margin: 0; padding: 16px 20px; color: #e8e8e8; font: 15px/1.45 "Noto Sans Mono CJK SC", "DejaVu Sans Mono",
       monospace; white-space: pre-wrap; word-break: break-all; }}
b {{ color: #8fd18f; font-weight: normal; }}
</style><pre id="terminal">{}</pre>"""


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, bytes]]:
    now = int(time.time())
    tmp = tmp_path_factory.mktemp("online-office")
    ring = KeyRing.generate(authority_code="110105", authority_name="北京市公安局朝阳分局", now=now - 3600)
    made = open_office(tmp, ring, ca=(ca := LoopbackCA(now=now)))
    try:
        yield made, ca.write_pem(tmp / "tls-ca.pem"), ring.root_certificate.public_bytes(Encoding.PEM)
    finally:
        made.stop()


def render(transcript: str, name: str, out: Path) -> None:
    """The transcript in a terminal-like page; what Chromium shows must be the transcript itself."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Debian chromium and chromium-driver are not installed")
    lines = [f"<b>{html.escape(line)}</b>" if line.startswith("$ ") else html.escape(line)
             for line in transcript.rstrip("\n").splitlines()]
    out.mkdir(parents=True, exist_ok=True)
    page = out / f"{name}.html"
    page.write_text(TERMINAL.format("\n".join(lines)), encoding="utf-8")
    driver = chromium(window="1100,700")
    try:
        driver.get(page.as_uri())
        shown = driver.execute_script("return document.getElementById('terminal').innerText")
        assert shown.split() == transcript.split()
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1100, height + 140)  # the window's frame: the viewport then holds the page
        screenshot(driver, name, out)
    finally:
        driver.quit()


def test_the_demo_online_story_in_a_terminal(office: tuple[Any, Path, bytes], tmp_path: Path) -> None:
    made, _, root_pem = office
    cache = VerifierCache(tmp_path / "landlord")
    sync(made.wallet_server.url, cache, now=int(time.time()), root_pem=root_pem, tls=made.tls)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        written = tell_online_story(made, tmp_path, cache, lambda _: b"a demo passphrase", first_step=10)
    assert {p.name for p in written} >= {"sms.jsonl", "li-na.new-phone.static.qr.txt"}
    story = printed.getvalue()
    renewal_and_lost = "$ make demo\n…" + story[story.index("\n== 11."):]
    assert "the lost phone's live QR: SUSPENDED" in renewal_and_lost
    assert renewal_and_lost.rstrip().endswith("the lost phone's live QR: REVOKED (live) — the issuing authority has "
                                              "revoked this credential (revocation data 0 min old)")
    render(renewal_and_lost, "cli-online-story", tmp_path / "shots")


def test_a_newcomers_renewal_from_offers_json_in_a_terminal(
    office: tuple[Any, Path, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    made, ca, _ = office
    offers = json.loads(write_newcomer_offers(made, tmp_path).read_text(encoding="utf-8"))
    monkeypatch.setenv("EPERMIT_WALLET_PASSPHRASE", "a newcomer's passphrase")
    home = "DIR/wallets/mine"
    permit = next(o for o in offers if o["type"] == "residence_permit")
    commands = [["pickup", permit["pickup_url"], "--pin", permit["tx_code"]],
                ["request", "endorse"], ["refresh"], ["requests"]]
    transcript = "$ epermit demo --serve --out DIR     # DIR/offers.json: 王芳's permit and card\n"
    for command in commands:
        assert main(["wallet", "--home", str(tmp_path / "mine"), *command, "--ca", str(ca)]) == 0, command
        shown = " ".join(f"$(jq -r '{PERMIT}.pickup_url' DIR/offers.json)" if part == permit["pickup_url"] else
                         f"$(jq -r '{PERMIT}.tx_code' DIR/offers.json)" if part == permit["tx_code"] else part
                         for part in command)
        transcript += f"$ epermit wallet --home {home} {shown} --ca DIR/tls-ca.pem\n{capsys.readouterr().out}"
    assert "\tapproved" in transcript and "renewed JZZ-" in transcript and "\tdone" in transcript
    render(transcript, "cli-newcomer-renewal", tmp_path / "shots")
