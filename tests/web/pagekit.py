"""Helpers for the page tests: a real headless Chromium (Debian's `chromium` driven through its
`chromedriver`), the page's recorded figures, and the CLI's `normalize --json` to compare with.

Nothing is downloaded: the browser and driver are the Debian packages `.ci/run` installs (selenium is
told their paths, so its Selenium Manager never runs). Tests skip when they are missing here, and fail
instead under `.ci/run`, which sets FORV_TTS_REQUIRE_CHROMIUM.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_ENV = "FORV_TTS_REQUIRE_CHROMIUM"
API_KEY = "page-test-key"
#: A member voice (tests/voicefactory.py) at another rate than the built-in voice's 22,050 Hz.
MEMBER = "5"
MEMBER_RATE = 16000
#: The voice directory's lexicon.tsv for the page tests: one entry a test text uses.
LEXICON = "포브\t뽀브\n"
#: A phone-sized viewport (CSS pixels).
PHONE = (412, 915)


def binaries() -> tuple[str, str]:
    """(chromium, chromedriver), or skip (fail under .ci/run) when either is not installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    )
    if chromium and driver:
        return chromium, driver
    message = "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(message)
    pytest.skip(message)


@contextlib.contextmanager
def chromium(window: tuple[int, int] = PHONE) -> Iterator[Any]:
    """A headless Chromium session (new headless mode; no sandbox, since CI runs as root)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        f"--window-size={window[0]},{window[1]}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_script_timeout(30)
        yield driver
    finally:
        driver.quit()


def wait_for(driver: Any, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `predicate` until it returns something truthy; fail with the page's state and console."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    value = predicate()
    if value:
        return value
    pytest.fail(f"timed out after {timeout:g} s waiting for {what}\n{describe(driver)}")


def page_stats(driver: Any) -> dict[str, Any]:
    """What the page recorded (`window.forvTtsPage`), as plain values."""
    return driver.execute_script("return JSON.parse(JSON.stringify(window.forvTtsPage || {}))") or {}


def describe(driver: Any) -> str:
    """The page's figures and console, for a failure message."""
    try:
        stats = page_stats(driver)
        logs = [entry.get("message", "") for entry in driver.get_log("browser")]
    except Exception as err:  # the browser itself is gone
        return f"(no page state: {err})"
    return "page: " + json.dumps(stats, ensure_ascii=False) + "\nconsole:\n" + "\n".join(logs[-20:])


@contextlib.contextmanager
def phone_viewport(driver: Any, width: int = PHONE[0], height: int = PHONE[1]) -> Iterator[None]:
    """Emulate a phone's viewport (headless Chromium's window is never narrower than 500 px)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def full_page_screenshot(driver: Any, path: Path, width: int = PHONE[0]) -> Path:
    """The whole page (not just the window) at a phone's width, as PNG."""
    with phone_viewport(driver, width):
        height = driver.execute_script("return document.documentElement.scrollHeight")
    with phone_viewport(driver, width, height):
        driver.save_screenshot(str(path))
    return path


def cli_normalize_json(text: str, voice_dir: Path) -> Any:
    """The installed console script's `normalize --json --voice-dir DIR` (this worktree's code)."""
    script = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert script, "the forv-tts console script is not installed next to this interpreter"
    out = subprocess.run(
        [script, "normalize", "--json", "--voice-dir", str(voice_dir), text],
        env={
            **{k: v for k, v in os.environ.items() if k != "FORV_TTS_LEXICON"},
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout)


def warm_voice(url: str, voice: str, headers: dict[str, str] | None = None, attempts: int = 6) -> None:
    """Have the worker load `voice` (torch import and all) before a test times or watches anything.

    On a busy host the first request for a member can fail with 503 while the worker loads it: the
    API's blocking read on the result backend gives up after the store's socket timeout (10 s),
    shorter than a cold member load here. That is the service's to fix (see the page's closing note);
    these tests are about the page, so they retry until the voice answers.
    """
    import httpx

    body = {"input": "안녕하세요.", "voice": voice, "stream": True}
    last = ""
    for _ in range(attempts):
        r = httpx.post(url + "/v1/audio/speech", json=body, headers=headers or {}, timeout=300)
        if r.status_code == 200:
            return
        last = f"{r.status_code} {r.text}"
        time.sleep(2)
    pytest.fail(f"voice {voice} never answered: {last}")
