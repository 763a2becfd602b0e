"""The page in a real browser: headless Chromium against `forv-tts serve` on 127.0.0.1 (real uvicorn, the
embedded valkey, a real worker), with an API key set.

Audio "played" means the page's Web Audio graph received the streamed samples, its clock ran past them,
and its analyser saw non-silent samples go through to the output (`window.forvTtsPage`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from pagekit import (
    API_KEY,
    MEMBER,
    MEMBER_RATE,
    cli_normalize_json,
    describe,
    full_page_screenshot,
    page_stats,
    phone_viewport,
    wait_for,
    warm_voice,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from servicekit import Service

pytestmark = pytest.mark.slow

TEXT = "안녕하세요. 오늘은 2024년 3월 1일입니다. 포브 팀이 사과 3개를 샀어요."
PARAGRAPH = (
    "우리 팀은 매주 월요일 아침 아홉 시에 회의를 합니다. 지난주에는 새로운 음성 합성 모델을 시험해 "
    "보았는데, 결과가 생각보다 훨씬 좋았습니다. 특히 숫자와 날짜를 읽는 부분이 자연스러워졌고, 문장 "
    "사이의 쉼도 사람처럼 들렸습니다. 다만 긴 문단을 읽을 때에는 가끔 억양이 단조로워지는 문제가 "
    "있었습니다. 그래서 이번 주에는 문장을 적당한 길이로 나누고, 쉼표와 마침표에서 조금 더 쉬도록 설정을 "
    "바꾸어 볼 예정입니다. 또한 서버 비용을 줄이기 위해 그래픽 카드 없이도 빠르게 동작하는지 확인하려고 "
    "합니다. 두 개의 코어만 있는 작은 컴퓨터에서도 실시간보다 빠르게 말할 수 있다면, 고객 상담 안내 "
    "방송이나 도서관의 책 읽어 주기 서비스처럼 여러 곳에서 쓸 수 있을 것입니다."
)
DONE_TIMEOUT_S = 120.0


def dialog_open(driver: Any) -> bool:
    return bool(driver.execute_script("return document.getElementById('key-dialog').open"))


def enter_key(driver: Any, key: str) -> None:
    """Type the key into the dialog the way a keyboard user does: focus is already in the field."""
    active = driver.switch_to.active_element
    assert active.get_attribute("id") == "key", "the key dialog did not put focus in its field"
    active.send_keys(key + Keys.ENTER)


def open_page(driver: Any, svc: Service) -> None:
    """Load the page and wait until its voices are listed (typing the key if it asks)."""
    driver.get(svc.url + "/")

    def settled() -> str | None:
        if dialog_open(driver):
            return "dialog"
        return "idle" if page_stats(driver).get("state") == "idle" else None

    if wait_for(driver, settled, 60, "the page to list the voices or ask for the key") == "dialog":
        enter_key(driver, API_KEY)
        wait_for(driver, lambda: page_stats(driver).get("state") == "idle", 60, "the voices")


def type_text(driver: Any, text: str) -> Any:
    area = driver.find_element(By.ID, "text")
    area.clear()
    area.send_keys(text)
    return area


def wait_done(driver: Any) -> dict[str, Any]:
    stats = wait_for(
        driver,
        lambda: (s := page_stats(driver)).get("state") in ("done", "error", "stopped") and s,
        DONE_TIMEOUT_S,
        "the clip to play to its end",
    )
    assert stats["state"] == "done", describe(driver)
    return stats


def assert_played(stats: dict[str, Any], rate: int) -> None:
    assert stats["sampleRate"] == rate, "the stream's WAV header names another rate"
    assert stats["contextRate"] == rate, "the page resampled instead of playing at the voice's rate"
    assert stats["samplesReceived"] > 0.3 * rate
    assert math.isclose(stats["scheduledSeconds"], stats["samplesReceived"] / rate, rel_tol=1e-6)
    assert stats["playedSeconds"] >= 0.95 * stats["scheduledSeconds"], "the audio clock did not run"
    assert stats["peak"] > 0.01, "the graph rendered only silence"
    assert 0 < stats["firstSoundMs"] <= stats["totalMs"]


def test_speak_streams_the_builtin_voice_and_shows_what_it_reads(
    driver: Any, page_service: Service, page_voice_dir: Path, tmp_path: Path
) -> None:
    open_page(driver, page_service)
    options = driver.execute_script(
        "return [...document.querySelectorAll('#voice option')].map(o => o.value)"
    )
    assert options[0] == "builtin" and MEMBER in options
    Select(driver.find_element(By.ID, "voice")).select_by_value("builtin")
    type_text(driver, TEXT)
    speed = driver.find_element(By.ID, "speed")
    speed.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    assert driver.find_element(By.ID, "speed-value").text == "1.2×"
    assert speed.get_attribute("aria-valuetext") == "1.2×"

    driver.find_element(By.ID, "speak").click()
    stats = wait_done(driver)
    assert_played(stats, 22050)
    assert stats["error"] is None

    # What the voice reads: the same sentences `forv-tts normalize --json` gives.
    expected = [s["pronounced"] for s in cli_normalize_json(TEXT, page_voice_dir)]
    wait_for(driver, lambda: page_stats(driver)["normalized"], 30, "the normalised text")
    shown = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#normalized li .pronounced")]
    assert shown == expected
    section = driver.find_element(By.ID, "normalized").text
    assert "이천이십사" in section
    # Why it reads so: the rules that fired and the lexicon entry.
    assert "2024년 → 이천이십사 년" in section and "포브 → 뽀브" in section

    # The download link holds the very samples that were played, as a complete WAV.
    link = driver.find_element(By.ID, "download")
    assert link.is_displayed() and link.get_attribute("href").startswith("blob:")
    assert link.get_attribute("download").startswith("forv-tts-builtin-")
    riff, size, rate, data = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch(document.getElementById('download').href).then(r => r.arrayBuffer()).then(b => {
          const v = new DataView(b);
          done([String.fromCharCode(...new Uint8Array(b, 0, 4)), b.byteLength, v.getUint32(24, true),
                v.getUint32(40, true)]);
        }).catch(e => done([String(e), 0, 0, 0]));
        """
    )
    assert riff == "RIFF" and rate == 22050
    assert data == 2 * stats["samplesReceived"] and size == 44 + data

    status = driver.find_element(By.ID, "status")
    assert status.get_attribute("aria-live") == "polite" and "Done" in status.text
    # Nothing came from anywhere but the service.
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert names and all(n.startswith(page_service.url) for n in names), names

    shot = full_page_screenshot(driver, tmp_path / "page.png")
    print(f"\nscreenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_a_member_voice_by_keyboard_only(driver: Any, page_service: Service) -> None:
    warm_voice(page_service.url, MEMBER, {"Authorization": f"Bearer {API_KEY}"})
    open_page(driver, page_service)
    area = type_text(driver, "반갑습니다. 멤버 목소리입니다.")
    # Tab to the voice picker, pick the member with the arrow keys, speak with Ctrl+Enter.
    area.send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.get_attribute("id") == "voice"
    for _ in range(5):
        if Select(active).first_selected_option.get_attribute("value") == MEMBER:
            break
        active.send_keys(Keys.ARROW_DOWN)
    assert Select(active).first_selected_option.get_attribute("value") == MEMBER
    area.send_keys(Keys.CONTROL, Keys.ENTER)
    stats = wait_done(driver)
    assert_played(stats, MEMBER_RATE)
    assert driver.find_element(By.ID, "download").get_attribute("download").startswith(f"forv-tts-{MEMBER}-")


def test_service_errors_are_shown_from_the_json_body(driver: Any, page_service: Service) -> None:
    open_page(driver, page_service)
    type_text(driver, "?!…")
    driver.find_element(By.ID, "speak").click()
    stats = wait_for(driver, lambda: (s := page_stats(driver)).get("state") == "error" and s, 60, "the error")
    assert stats["error"]["code"] == "nothing_to_say" and stats["error"]["status"] == 422
    box = driver.find_element(By.ID, "error")
    assert box.is_displayed() and box.get_attribute("role") == "alert"
    assert stats["error"]["message"] in box.text and "nothing_to_say" in box.text
    assert "Nothing speakable" in box.text
    assert stats["samplesReceived"] == 0

    # Over the service's cap (5,000 characters): 413 with its message.
    driver.execute_script("document.getElementById('text').value = '가'.repeat(5001)")
    driver.find_element(By.ID, "speak").click()
    stats = wait_for(
        driver,
        lambda: (s := page_stats(driver)).get("error") and s["error"].get("status") == 413 and s,
        60,
        "the 413",
    )
    assert stats["error"]["code"] == "text_too_long"
    assert "5000" in driver.find_element(By.ID, "error").text


def test_the_key_is_asked_once_and_kept_for_the_tab(driver: Any, page_service: Service) -> None:
    driver.get(page_service.url + "/")
    driver.execute_script("sessionStorage.clear()")
    driver.refresh()
    wait_for(driver, lambda: dialog_open(driver), 30, "the key dialog")
    enter_key(driver, "not-the-key")
    wait_for(
        driver,
        lambda: dialog_open(driver) and "not accepted" in driver.find_element(By.ID, "key-message").text,
        30,
        "the dialog to say the key was refused",
    )
    enter_key(driver, API_KEY)
    wait_for(driver, lambda: page_stats(driver).get("state") == "idle", 60, "the voices")
    assert page_stats(driver)["keyPrompts"] == 2
    assert driver.execute_script("return sessionStorage.getItem('forv-tts.api-key')") == API_KEY
    # Reloading the tab does not ask again; the key never went to localStorage or a cookie.
    driver.refresh()
    wait_for(driver, lambda: page_stats(driver).get("state") == "idle", 60, "the voices after a reload")
    assert page_stats(driver)["keyPrompts"] == 0 and not dialog_open(driver)
    assert driver.execute_script("return localStorage.length") == 0
    assert driver.get_cookies() == []


def test_the_page_is_labelled_and_fits_a_phone(driver: Any, page_service: Service) -> None:
    open_page(driver, page_service)
    assert driver.execute_script("return document.documentElement.lang") == "ko"
    unlabelled = driver.execute_script(
        """
        return [...document.querySelectorAll('textarea, select, input')]
          .filter(e => !e.labels || e.labels.length === 0).map(e => e.id);
        """
    )
    assert unlabelled == []
    assert driver.find_element(By.ID, "status").get_attribute("role") == "status"
    # Korean and English on every label and button.
    for sel in ("label", "button"):
        for e in driver.find_elements(By.CSS_SELECTOR, f"main {sel}"):
            text = e.get_attribute("textContent")
            korean = any("가" <= c <= "힣" for c in text)
            assert korean and any(c.isascii() and c.isalpha() for c in text), text
    for width in (360, 412):
        with phone_viewport(driver, width):
            assert driver.execute_script("return window.innerWidth") == width
            # Nothing sticks out sideways; the Speak button is a finger-sized target.
            assert driver.execute_script("return document.documentElement.scrollWidth") <= width
            speak = driver.find_element(By.ID, "speak").size
            assert speak["height"] >= 44 and speak["width"] >= 44


def test_first_sound_for_a_long_paragraph(driver: Any, page_service: Service) -> None:
    """Prints the time from pressing Speak to the first sound (performance.now() in the page)."""
    open_page(driver, page_service)
    Select(driver.find_element(By.ID, "voice")).select_by_value("builtin")
    driver.execute_script("document.getElementById('text').value = arguments[0]", PARAGRAPH)
    driver.find_element(By.ID, "speak").click()
    stats = wait_for(
        driver, lambda: (s := page_stats(driver)).get("firstSoundMs") is not None and s, 120, "first sound"
    )
    print(
        f"\nfirst sound {stats['firstSoundMs']:.0f} ms after Speak for {len(PARAGRAPH)} characters "
        f"(first byte {stats['firstByteMs']:.0f} ms)"
    )
    # Streaming: playback began with the first piece, while the rest of the paragraph was still coming.
    wait_for(driver, lambda: page_stats(driver).get("scheduledSeconds", 0) > 5, 120, "more sentences")
    later = page_stats(driver)
    assert later["firstPieceSamples"] < later["samplesReceived"] / 2
    assert later["state"] == "playing"
    driver.find_element(By.ID, "stop").click()
    wait_for(driver, lambda: page_stats(driver).get("state") == "stopped", 10, "stop")
    assert not driver.find_element(By.ID, "download").is_displayed()


def _contrast(driver: Any, fg: str, bg: str) -> float:
    """WCAG contrast of two CSS colours as the browser resolved them ("rgb(r, g, b)")."""
    return float(
        driver.execute_script(
            """
            const lum = (c) => {
              const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
                v /= 255;
                return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
              });
              return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const [a, b] = [lum(arguments[0]), lum(arguments[1])].sort((x, y) => y - x);
            return (a + 0.05) / (b + 0.05);
            """,
            fg,
            bg,
        )
    )


def test_a_failed_request_leaves_nothing_stale_on_a_phone(driver: Any, page_service: Service) -> None:
    open_page(driver, page_service)
    with phone_viewport(driver, 360, 640):
        type_text(driver, "안녕하세요.")
        driver.find_element(By.ID, "speak").click()
        wait_done(driver)
        assert driver.find_element(By.ID, "download").is_displayed()
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
        type_text(driver, "?!…")  # refused by the service (nothing_to_say) while the text is normalised
        driver.find_element(By.ID, "speak").click()
        wait_for(driver, lambda: page_stats(driver).get("state") == "error", 60, "the error")
        # The sentence card does not stay on "Normalising…" (it did: an abort left it so).
        wait_for(
            driver,
            lambda: "Normalising" not in driver.find_element(By.ID, "normalized-empty").text,
            15,
            "the sentence card to leave 'Normalising…'",
        )
        assert not driver.find_element(By.ID, "download").is_displayed(), "the last clip's download stayed"
        assert "Done" not in driver.find_element(By.ID, "status").text
        top, bottom, height = driver.execute_script(
            "const r = document.getElementById('error').getBoundingClientRect();"
            "return [r.top, r.bottom, window.innerHeight];"
        )
        assert top >= 0 and bottom <= height, ("the error is off-screen", top, bottom, height)


def test_focus_ring_slider_and_live_regions(driver: Any, page_service: Service) -> None:
    open_page(driver, page_service)
    # Light theme (headless Chromium's default): the focus ring against the card it sits on, ≥ 3:1.
    driver.find_element(By.ID, "text").send_keys(Keys.TAB)  # keyboard focus: :focus-visible applies
    ring, card = driver.execute_script(
        "const e = document.activeElement; return [getComputedStyle(e).outlineColor,"
        " getComputedStyle(e.closest('form')).backgroundColor];"
    )
    assert _contrast(driver, ring, card) >= 3.0, (ring, card)
    slider = driver.find_element(By.ID, "speed").size
    assert slider["height"] >= 24, slider  # WCAG 2.5.8's minimum target (it was 16 px)
    # Only the status line is live: the sentence list is not read out over the audio.
    live = driver.execute_script("return [...document.querySelectorAll('[aria-live]')].map(e => e.id)")
    assert live == ["status"], live
