"""Headless Debian Chromium driven by Selenium, with a fake camera fed from our QR PNGs (y4m)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from selenium.common.exceptions import WebDriverException

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BUILD = Path(__file__).resolve().parents[2] / "wallet_api" / "static" / "verify"
WALLET_BUILD = BUILD.parent / "wallet"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def require_browser(*, wallet: bool = False) -> None:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Debian chromium and chromium-driver are not installed (apt-get install -y chromium chromium-driver)")
    if not (BUILD / "app.js").is_file():
        pytest.skip("the verifier page is not built (make web: cd web && npm ci && npm run build)")
    if wallet and not (WALLET_BUILD / "app.js").is_file():
        pytest.skip("the wallet page is not built (make web: cd web && npm ci && npm run build)")


def write_y4m(png: Path, target: Path, *, size: int = 640, frames: int = 2) -> Path:
    """A YUV 4:2:0 y4m clip showing ``png`` centred on a grey card (Chromium's fake capture loops it)."""
    image = Image.open(png).convert("L")
    image.thumbnail((size - 40, size - 40))
    canvas = Image.new("L", (size, size), 235)
    canvas.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
    luma = canvas.tobytes()
    chroma = bytes([128]) * (size // 2) * (size // 2)
    with target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{size} H{size} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            out.write(b"FRAME\n" + luma + chroma + chroma)
    return target


def chromium(*, camera: Path | None = None, window: str = "480,1000", insecure_tls: bool = False) -> Any:
    """``insecure_tls``: accept any https certificate (a throw-away loopback CA the profile cannot be told to
    trust; what is under test checks its own chain)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", f"--window-size={window}",
                 "--lang=zh-CN"):
        options.add_argument(flag)
    if insecure_tls:
        options.add_argument("--ignore-certificate-errors")
    if camera is not None:
        options.add_argument("--use-fake-device-for-media-stream")
        options.add_argument("--use-fake-ui-for-media-stream")
        options.add_argument(f"--use-file-for-fake-video-capture={camera}")
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def phone_screen(driver: Any, width: int = 360, height: int = 800) -> None:
    """A phone-sized viewport (DevTools metrics: a desktop window cannot be made this narrow)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})


def freeze_clock(driver: Any, now: int) -> None:
    """Every page sees the clock run from ``now`` (the vectors are judged at a fixed time)."""
    script = (f"(() => {{ const shift = {now * 1000} - Date.now(); const real = Date.now;"
              " Date.now = () => real() + shift; })();")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script})


def wait_for(predicate: Callable[[], Any], *, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def go_offline(driver: Any, offline: bool = True) -> None:
    """Cut the page's network (DevTools emulation: the page sees navigator.onLine and the events); False restores it."""
    conditions = {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", conditions)
    try:  # Chromium ≥ 14x: navigator.onLine and its events follow this command, no longer the one above
        driver.execute_cdp_cmd("Network.overrideNetworkState", conditions)
    except WebDriverException:  # an older Chromium, where the command above does both
        pass


def verdict(driver: Any) -> dict[str, Any]:
    return driver.execute_script(
        "const v = document.getElementById('verdict');"
        "const face = document.getElementById('portrait');"
        "return v.hidden ? null : {result: v.dataset.result, live: v.dataset.live, view: v.dataset.view,"
        " title: document.getElementById('verdict-title').textContent, text: v.innerText,"
        " portrait: v.dataset.portrait, face: face && !face.hidden && face.complete && face.naturalWidth > 0};")


def settled_verdict(driver: Any) -> dict[str, Any] | None:
    """The verdict once it is whole: a verified face is shown only after its image has decoded, a moment after
    the verdict itself (under load, that moment is long enough for a test to read the verdict in between)."""
    shown = verdict(driver)
    if shown is not None and shown["portrait"] == "verified" and not shown["face"]:
        return None
    return shown


def upload(driver: Any, path: Path) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.ID, "file")
    driver.execute_script("arguments[0].style.display = 'block'", field)
    field.send_keys(str(path))
    driver.execute_script("arguments[0].style.display = ''", field)


def screenshot(driver: Any, name: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(out / f"{name}.png"))
    # The README's screenshots are refreshed on request only, so a test run leaves the tree clean.
    if os.environ.get("EPERMIT_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / f"{name}.png", SCREENSHOTS / f"{name}.png")
