"""The page in a real browser when the service fails under it: headless Chromium against a real
`forv-tts serve` whose worker's pool process is SIGKILLed (by PID) while a stream plays. The page must
show the error: never "Done", never a download of the clip cut short (issue 24: it showed "Done" and
offered the truncated clip)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pagekit import describe, page_stats, wait_for
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from servicekit import Service, alive, children, service
from test_page import open_page, type_text, wait_done

pytestmark = pytest.mark.slow

SENTENCES = 6
TEXT = " ".join(f"{i}번째 문장입니다." for i in range(1, SENTENCES + 1))


@pytest.fixture(scope="module")
def paced_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One worker that takes a second before each sentence: the stream is under way, and far from its
    end, when its pool process is killed."""
    env = {"FORV_TTS_TEST_SENTENCE_DELAY": "1.0"}
    with service(tmp_path_factory.mktemp("paced-page"), ["--workers", "1"], env) as svc:
        yield svc


def pool_processes(svc: Service) -> list[int]:
    """The pool processes of the `forv-tts worker` that `serve` started (what runs the jobs)."""
    pools: list[int] = []
    for pid in children(svc.proc.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in cmd:
            pools.extend(children(pid))
    return pools


def test_a_stream_whose_worker_is_killed_shows_the_error_not_done(
    driver: Any, paced_service: Service
) -> None:
    open_page(driver, paced_service)
    Select(driver.find_element(By.ID, "voice")).select_by_value("builtin")
    type_text(driver, TEXT)
    driver.find_element(By.ID, "speak").click()
    # The first sentence has arrived and is playing; the rest are seconds away.
    wait_for(
        driver,
        lambda: int(page_stats(driver).get("samplesReceived") or 0) > 0,
        60,
        "the first sentence's audio",
    )
    assert page_stats(driver).get("state") not in ("done", "error"), describe(driver)
    pools = pool_processes(paced_service)
    assert pools, paced_service.proc.tail()
    for pid in pools:
        os.kill(pid, signal.SIGKILL)
    wait_for(driver, lambda: not any(alive(p) for p in pools), 10, "the pool processes to die")

    stats = wait_for(
        driver,
        lambda: (s := page_stats(driver)).get("state") in ("done", "error", "stopped") and s,
        60,
        "the page to end the run",
    )
    assert stats["state"] == "error", describe(driver)
    status = driver.find_element(By.ID, "status").text
    assert "Done" not in status and "끝" not in status, status
    error = driver.find_element(By.ID, "error")
    assert error.is_displayed() and error.text.strip(), describe(driver)
    link = driver.find_element(By.ID, "download")
    assert not link.is_displayed(), "the page offered the truncated clip as the download"
    assert not (link.get_attribute("href") or "").startswith("blob:"), "a download of the cut clip was made"


def test_an_error_after_a_clip_leaves_no_done_or_download_beside_it(
    driver: Any, page_service: Service
) -> None:
    """An error after a finished clip must not stand beside its "Done" and download (the empty-text
    error returned before hiding them)."""
    open_page(driver, page_service)
    Select(driver.find_element(By.ID, "voice")).select_by_value("builtin")
    type_text(driver, "안녕하세요.")
    driver.find_element(By.ID, "speak").click()
    wait_done(driver)
    assert driver.find_element(By.ID, "download").is_displayed()
    assert "Done" in driver.find_element(By.ID, "status").text
    type_text(driver, "")
    driver.find_element(By.ID, "speak").click()
    wait_for(driver, lambda: driver.find_element(By.ID, "error").is_displayed(), 10, "the empty-text error")
    assert not driver.find_element(By.ID, "download").is_displayed(), "the last clip's download stayed"
    assert "Done" not in driver.find_element(By.ID, "status").text


def test_a_stop_while_normalising_leaves_no_normalising_card(driver: Any, page_service: Service) -> None:
    """The /v1/normalize request aborted for certain (Speak and Stop in one task, so its fetch is still
    on its way) must not leave the sentence card on "Normalising…" (the aborted fetch was ignored)."""
    open_page(driver, page_service)
    Select(driver.find_element(By.ID, "voice")).select_by_value("builtin")
    type_text(driver, "오늘은 2024년 3월 1일입니다. 포브 팀이 사과 3개를 샀어요.")
    driver.execute_script(
        "document.getElementById('speak').click(); document.getElementById('stop').click();"
    )
    wait_for(driver, lambda: page_stats(driver).get("state") == "stopped", 10, "the stop")
    wait_for(
        driver,
        lambda: "Normalising" not in driver.find_element(By.ID, "normalized-empty").text,
        10,
        "the sentence card to leave 'Normalising…' after the stop",
    )
