"""The verifier page in real headless Chromium, offline, against the shared vectors (tests/vectors)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request

from credential.jwk import load_public_jwk
from epermit.servers import BackgroundServer
from tests.conftest import T0
from tests.vectors.generate_web_vectors import VectorSet, generate, load_expectations
from tests.vectors.phone_photo import phone_photo
from tests.web.browser import (
    chromium,
    freeze_clock,
    go_offline,
    require_browser,
    screenshot,
    settled_verdict,
    upload,
    verdict,
    wait_for,
    write_y4m,
)
from wallet_api import verify_page

CAMERA_VECTORS = ("valid_live", "revoked", "wrong_issuer", "portrait_verified", "portrait_mismatch")


CWT = "application/statuslist+cwt"
STATUS_ACCEPTS: list[str | None] = []  # the Accept header of each status list request the page made


def vector_app(vectors: VectorSet, *, cwt: bytes | None = None, trust: bool = True) -> Flask:
    """The verify page plus the vectors' signed documents, as the wallet API would publish them. The status
    list is served as a CWT only, and 406 to any request that does not accept it: every verdict the page
    gives about revocation then comes from the CWT it synced."""
    root = json.loads((vectors.directory / "root.json").read_text("utf-8"))["jwk"]
    app = Flask(__name__)
    verify_page.register(app, lambda: load_public_jwk(root))
    files = {"/trustlist.jwt": "trustlist.jwt", "/statuslists": "statuslists.json"}
    if not trust:  # the server never hands out a trust list: the page stays never synced
        del files["/trustlist.jwt"]
    for route, name in files.items():
        def serve(name: str = name) -> Response:
            return Response((vectors.directory / name).read_bytes(), mimetype="application/jwt")
        app.add_url_rule(route, f"file_{name}", serve)

    def status_list() -> Response:
        STATUS_ACCEPTS.append(request.headers.get("Accept"))
        if request.accept_mimetypes.best_match([CWT]) is None:
            return Response(status=406)
        body = cwt if cwt is not None else (vectors.directory / "statuslists" / "1.cwt").read_bytes()
        return Response(body, mimetype=CWT)

    app.add_url_rule("/statuslists/1", "status_list_1", status_list)
    return app


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[VectorSet, BackgroundServer]]:
    require_browser()
    server = BackgroundServer()
    vectors = generate(tmp_path_factory.mktemp("web-vectors"), base_url=server.url, now=T0)
    server.start(vector_app(vectors))
    yield vectors, server
    server.stop()


def open_synced(driver: Any, url: str) -> None:
    freeze_clock(driver, T0)
    driver.get(f"{url}/verify/")
    wait_for(lambda: driver.execute_script("return document.getElementById('sync').dataset.state === 'synced'"),
             what="first sync")
    assert STATUS_ACCEPTS and STATUS_ACCEPTS[-1] == f"{CWT}, application/statuslist+jwt;q=0.5"
    held = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "caches.open('epermit-lists-v1').then(async (c) => { const keys = await c.keys();"
        " const r = await c.match(keys.find((k) => k.url.includes('/__epermit__/status/')));"
        " done([r.headers.get('Content-Type'), [...new Uint8Array(await r.arrayBuffer())].slice(0, 2)]); })")
    assert held == [CWT, [0xD2, 0x84]]  # the CWT itself is what the page keeps for offline use
    wait_for(lambda: driver.execute_script("return navigator.serviceWorker.controller !== null"
                                           " || (location.reload(), false)"), what="service worker")
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), what="page ready")


def check(name: str, shown: dict[str, Any] | None) -> None:
    expected = load_expectations()[name]
    assert shown is not None
    assert shown["result"] == expected["result"], (name, shown)
    # The photo check as the Python verifier gives it; a face is on screen only when it verified.
    assert shown["portrait"] == expected.get("portrait", "absent"), (name, shown)
    assert shown["face"] is (shown["portrait"] == "verified"), (name, shown)
    if shown["portrait"] == "mismatch":
        assert ("因此不显示" in shown["text"]) or ("so it is not shown" in shown["text"]), shown
    if "live" in expected:
        assert shown["live"] == str(expected["live"]).lower(), (name, shown)
    if "authority_name" in expected:  # the trust list's name for the signing key: the pass carries none
        assert expected["authority_name"] in shown["text"], (name, shown)
    if "view" in expected:  # the page says which view it shows, and shows no empty row for an absent field
        assert shown["view"] == expected["view"], (name, shown)
        assert ("基本信息" in shown["text"] or "basic view" in shown["text"]) == (expected["view"] == "basic")
        assert ("410102" in shown["text"]) == (expected["view"] == "full"), (name, shown)
    assert not re.search(r"\d{10}", shown["text"]), (name, shown)  # no Unix time in what a person reads
    if shown["result"] in ("UNTRUSTED_ISSUER", "MALFORMED"):
        assert "张伟" not in shown["text"], (name, shown)  # nothing an untrusted or unreadable pass says is shown


def test_every_vector_offline_by_photo(served: tuple[VectorSet, BackgroundServer], tmp_path: Path) -> None:
    vectors, server = served
    driver = chromium()
    try:
        open_synced(driver, server.url)
        go_offline(driver)
        driver.refresh()
        wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), what="offline reload")
        assert driver.execute_script("return document.getElementById('sync').dataset.state") == "offline"
        for name in sorted(load_expectations()):
            driver.execute_script("document.getElementById('verdict').hidden = true")
            upload(driver, vectors.directory / f"{name}.png")
            shown = wait_for(lambda: settled_verdict(driver), what=f"verdict for {name}")
            check(name, shown)
            screenshot(driver, f"verify-{name}", tmp_path)
        # The last vector is wrong_issuer: the language switch changes its label, not the verdict.
        before = verdict(driver)["title"]
        driver.execute_script("document.getElementById('lang').click()")
        after = verdict(driver)
        assert {before, after["title"]} == {"NOT GENUINE", "非真实证件"}
        assert after["result"] == "UNTRUSTED_ISSUER"
        screenshot(driver, "verify-wrong_issuer-other-language", tmp_path)
        assert driver.execute_script("return localStorage.length + sessionStorage.length") == 0
    finally:
        driver.quit()


@pytest.mark.parametrize("name", CAMERA_VECTORS)
def test_camera_scan_offline(served: tuple[VectorSet, BackgroundServer], tmp_path: Path, name: str) -> None:
    vectors, server = served
    from selenium.webdriver.common.by import By

    size = 960 if name.startswith("portrait") else 640  # two codes side by side: a wider frame, as a phone's is
    driver = chromium(camera=write_y4m(vectors.directory / f"{name}.png", tmp_path / f"{name}.y4m", size=size))
    try:
        open_synced(driver, server.url)
        go_offline(driver)
        driver.refresh()
        wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), what="offline reload")
        driver.find_element(By.ID, "scan").click()
        shown = wait_for(lambda: settled_verdict(driver), timeout=30, what=f"camera verdict for {name}")
        check(name, shown)
        screenshot(driver, f"camera-{name}", tmp_path)
    finally:
        driver.quit()


@pytest.mark.parametrize("name", ["portrait_verified", "portrait_mismatch"])
def test_both_codes_from_a_phone_photo(served: tuple[VectorSet, BackgroundServer], tmp_path: Path, name: str) -> None:
    """A tilted, blurred JPEG of the wallet's screen gives the page both codes: the same verdict as the CLI's,
    the face large beside it only when it verified."""
    vectors, server = served
    photo = phone_photo(vectors.directory / f"{name}.png", tmp_path / f"{name}.jpg")
    driver = chromium()
    try:
        open_synced(driver, server.url)
        go_offline(driver)
        upload(driver, photo)
        shown = wait_for(lambda: settled_verdict(driver), what=f"verdict for a photo of {name}")
        check(name, shown)
        if shown["face"]:
            width = driver.execute_script("return document.getElementById('portrait').getBoundingClientRect().width")
            assert width >= 150, width  # large: a landlord compares it with the person at arm's length
        screenshot(driver, f"verify-{name}-photo", tmp_path)
        if name == "portrait_verified":  # the README's picture: in Chinese, the page's first language
            if driver.execute_script("return document.documentElement.lang") != "zh-CN":
                driver.execute_script("document.getElementById('lang').click()")
            assert "照片已核验" in verdict(driver)["text"]
            screenshot(driver, "verify-portrait", tmp_path)
    finally:
        driver.quit()


def test_a_tampered_cwt_is_refused_and_not_kept(tmp_path: Path) -> None:
    """The page verifies the CWT before keeping it: one flipped signature bit and no revocation data is held."""
    require_browser()
    server = BackgroundServer()
    vectors = generate(tmp_path / "vectors", base_url=server.url, now=T0)
    tampered = vectors.status_cwt[:-1] + bytes([vectors.status_cwt[-1] ^ 1])
    server.start(vector_app(vectors, cwt=tampered))
    driver = chromium()
    try:
        freeze_clock(driver, T0)
        driver.get(f"{server.url}/verify/")
        wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"
                                               " && document.getElementById('sync').dataset.state === 'synced'"),
                 what="first sync (the trust list verifies; the list does not)")
        held = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "caches.open('epermit-lists-v1').then(async (c) => done((await c.keys()).map((k) => k.url)))")
        assert not [url for url in held if "/__epermit__/status/" in url], held
        upload(driver, vectors.directory / "revoked.png")
        shown = wait_for(lambda: verdict(driver), what="verdict without revocation data")
        assert shown["result"] == "STATUS_UNKNOWN", shown
    finally:
        driver.quit()
        server.stop()


def message(driver: Any) -> str:
    return str(driver.execute_script("return document.getElementById('message').textContent"))


def test_a_new_scan_clears_the_previous_verdict(served: tuple[VectorSet, BackgroundServer], tmp_path: Path) -> None:
    """An unreadable photo after someone else's REPLAYED must not leave that person's red card on screen."""
    from PIL import Image

    vectors, server = served
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    driver = chromium()
    try:
        open_synced(driver, server.url)
        upload(driver, vectors.directory / "replayed.png")
        first = wait_for(lambda: verdict(driver), what="first verdict")
        assert first["result"] == "REPLAYED"
        # Plain words and what to do, never a Unix time or "proof time … s from now".
        assert ("请持证人刷新后再扫" in first["text"]) or ("ask the holder to refresh it" in first["text"]), first
        assert "proof time" not in first["text"] and str(T0 - 600) not in first["text"], first
        upload(driver, blank)
        wait_for(lambda: message(driver), what="no QR message")
        assert verdict(driver) is None
        assert "张伟" not in driver.execute_script("return document.body.innerText")
        upload(driver, vectors.directory / "valid_live.png")  # and a good scan clears the message
        assert wait_for(lambda: verdict(driver), what="second verdict")["result"] == "VALID"
        assert message(driver) == ""
    finally:
        driver.quit()


def test_never_synced_page_says_not_set_up(tmp_path: Path) -> None:
    """A genuine card at a page that never synced: "not set up", never NOT GENUINE."""
    require_browser()
    server = BackgroundServer()
    vectors = generate(tmp_path / "vectors", base_url=server.url, now=T0)
    server.start(vector_app(vectors, trust=False))
    driver = chromium()
    try:
        freeze_clock(driver, T0)
        driver.get(f"{server.url}/verify/")
        wait_for(lambda: driver.execute_script("return document.body.dataset.ready === '1'"), what="page ready")
        assert driver.execute_script("return document.getElementById('sync').dataset.state") == "none"
        upload(driver, vectors.directory / "valid_live.png")
        shown = wait_for(lambda: verdict(driver), what="verdict without a trust list")
        assert shown["result"] == "NOT_SET_UP", shown
        assert shown["title"] in ("尚未设置：请先联网同步一次", "Not set up: sync once"), shown
        assert "非真实" not in shown["text"] and "NOT GENUINE" not in shown["text"]
        assert "张伟" not in shown["text"]
    finally:
        driver.quit()
        server.stop()


def test_pasted_text_ethnicity_and_whole_words_at_phone_width(served: tuple[VectorSet, BackgroundServer]) -> None:
    """Pasted QR text is checked as a scan is; the ethnicity is shown by name; names and numbers do not break
    mid-word at phone width; REVOKED is 已吊销."""
    from selenium.webdriver.common.by import By

    vectors, server = served
    driver = chromium()
    try:
        driver.set_window_size(360, 800)
        open_synced(driver, server.url)
        field = driver.find_element(By.ID, "paste")
        field.send_keys(vectors.vectors["valid_static"])
        driver.find_element(By.ID, "paste-check").click()
        shown = wait_for(lambda: verdict(driver), what="verdict for pasted text")
        assert shown["result"] == "VALID" and shown["live"] == "false", shown
        assert ("民族" in shown["text"] and "汉族" in shown["text"]) or "Ethnicity\nHan" in shown["text"], shown
        assert field.get_attribute("value") == ""  # the pasted text is not kept
        styles = driver.execute_script(
            "const dd = document.querySelector('#holder dd'); const s = getComputedStyle(dd);"
            "return [s.wordBreak, s.overflowWrap, document.documentElement.scrollWidth <= window.innerWidth];")
        assert styles == ["keep-all", "anywhere", True], styles
        field.send_keys(vectors.vectors["revoked"])
        driver.find_element(By.ID, "paste-check").click()
        wait_for(lambda: (verdict(driver) or {}).get("result") == "REVOKED", what="revoked by paste")
        title = verdict(driver)["title"]
        assert title in ("已吊销", "REVOKED"), title
        if title == "REVOKED":
            driver.execute_script("document.getElementById('lang').click()")
        assert verdict(driver)["title"] == "已吊销"
    finally:
        driver.quit()


def test_the_page_ethnicity_table_is_the_credential_s() -> None:
    """web/src/ethnicity.js is credential/codes.py's GB 3304 table, entry for entry."""
    from credential.codes import ETHNICITY_LABELS

    source = (Path(__file__).resolve().parents[2] / "web" / "src" / "ethnicity.js").read_text("utf-8")
    table = {int(code): (zh, en) for code, zh, en in re.findall(r'^  (\d+): \["([^"]+)", "([^"]+)"\],$', source, re.M)}
    assert table == ETHNICITY_LABELS
