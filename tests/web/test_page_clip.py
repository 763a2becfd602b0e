"""The page's read-along, player and downloads in a real browser (headless Chromium against `forv-tts serve`,
as in test_page.py): the sentence and word being heard are marked from the audio clock while the clip
streams and from the player's `currentTime` after, a word or sentence click seeks there, the captions
load as the player's `<track>`, and every download is a file that decoders nobody here wrote read as
its format.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pagekit import API_KEY, MEMBER, MEMBER_RATE, describe, page_stats, phone_viewport, wait_for, warm_voice
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from servicekit import Service
from test_page import open_page, type_text, wait_done

pytestmark = pytest.mark.slow

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
THREE = "안녕하세요. 오늘은 날씨가 정말 좋네요. 내일 공원에서 다시 만나요."
TWO = "반갑습니다. 멤버 목소리로 읽어 드립니다."

#: What is marked, the position it was marked for and the player's, read in one go (mark() updates
#: the position and the DOM together, so one script sees them agree or not).
SNAPSHOT = """
const s = window.forvTtsPage, p = document.getElementById('player');
const li = document.querySelector('#transcript > li.current');
const w = document.querySelector('#transcript .word.current');
return {state: s.state, position: s.position, source: s.source, played: s.playedSeconds,
        underruns: s.underruns, known: s.sentences.length, sentence: li ? Number(li.dataset.index) : -1,
        word: w ? Number(w.dataset.index) : -1, marked: document.querySelectorAll('.current').length,
        currentTime: p.currentTime, paused: p.paused, ended: p.ended};
"""


def snapshot(driver: Any) -> dict[str, Any]:
    return dict(driver.execute_script(SNAPSHOT))


def expected(sentences: list[dict[str, Any]], position: float) -> tuple[int, int]:
    """The sentence heard at `position` (from its start to the next one's; the last one known, to its
    end) and the word whose span holds it (-1 in a pause), from the times the service sent."""
    sentence = -1
    for i, s in enumerate(sentences):
        if s["start"] <= position:
            sentence = i
    if sentence < 0 or (sentence == len(sentences) - 1 and position >= sentences[sentence]["end"]):
        return -1, -1
    for i, w in enumerate(sentences[sentence]["words"]):
        if w["start"] <= position < w["end"]:
            return sentence, i
    return sentence, -1


def assert_marks_agree(snap: dict[str, Any], sentences: list[dict[str, Any]]) -> None:
    """The marks are those of the times the page had then (a stream's later sentences not yet)."""
    assert (snap["sentence"], snap["word"]) == expected(sentences[: snap["known"]], snap["position"]), snap


def speak(driver: Any, svc: Service, voice: str, text: str) -> None:
    open_page(driver, svc)
    Select(driver.find_element(By.ID, "voice")).select_by_value(voice)
    type_text(driver, text)
    driver.find_element(By.ID, "speak").click()


def test_the_sentence_and_word_heard_are_marked_as_the_clip_streams(
    driver: Any, page_service: Service, tmp_path: Path
) -> None:
    speak(driver, page_service, "builtin", THREE)
    snaps: list[dict[str, Any]] = []
    shot = tmp_path / "marked.png"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        snap = snapshot(driver)
        if snap["state"] in ("done", "error", "stopped"):
            break
        if snap["state"] == "playing" and snap["position"] is not None:
            snaps.append(snap)
            if snap["sentence"] == 1 and snap["word"] >= 1 and not shot.exists():
                driver.save_screenshot(str(shot))  # what the marks look like
                print(f"\nscreenshot: {shot}")
        time.sleep(0.03)
    stats = page_stats(driver)
    assert stats["state"] == "done", describe(driver)
    sentences = stats["sentences"]
    # The times the page marks by are the service's own for this text and voice.
    timed = httpx.post(
        page_service.url + "/v1/audio/speech/timed",
        json={"input": THREE, "voice": "builtin", "response_format": "pcm"},
        headers=HEADERS,
        timeout=120,
    ).json()["sentences"]
    assert [(s["text"], s["start"], s["end"]) for s in sentences] == [
        (s["text"], s["start"], s["end"]) for s in timed
    ]
    assert [w["text"] for w in sentences[1]["words"]] == ["오늘은", "날씨가", "정말", "좋네요."]
    shown = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#transcript .word")]
    assert shown == [w["text"] for s in sentences for w in s["words"]]

    assert len(snaps) > 20, snaps
    for snap in snaps:
        assert snap["source"] == "stream"
        assert_marks_agree(snap, sentences)
    positions = [s["position"] for s in snaps]
    assert positions == sorted(positions), "the marked position went backwards"
    # Playback passed the second sentence's start (and its first word's): the marks moved there.
    second = sentences[1]
    assert any(s["sentence"] == 0 and s["word"] >= 0 for s in snaps)
    assert any(s["sentence"] == 1 and s["word"] >= 0 and s["position"] >= second["start"] for s in snaps)
    assert not any(s["sentence"] == 1 for s in snaps if s["position"] < second["start"])
    assert len({(s["sentence"], s["word"]) for s in snaps}) >= 5
    if stats["underruns"] == 0:  # no gaps: the clip position is the audio clock since the first sample
        for snap in snaps:
            assert abs(snap["position"] - snap["played"]) < 0.35, snap
    # Done: nothing is marked, and the read-along is only the status line's neighbour, not live.
    assert snapshot(driver)["marked"] == 0
    assert driver.find_element(By.ID, "transcript").get_attribute("aria-live") is None


def test_the_finished_clip_replays_seeks_and_has_its_captions_track(
    driver: Any, page_service: Service
) -> None:
    webvtt = pytest.importorskip("webvtt")
    warm_voice(page_service.url, MEMBER, HEADERS)
    speak(driver, page_service, MEMBER, TWO)
    stats = wait_done(driver)
    sentences = stats["sentences"]
    assert len(sentences) == 2
    player = driver.find_element(By.ID, "player")
    assert player.is_displayed() and player.get_attribute("src").startswith("blob:")
    assert player.get_attribute("src") == driver.find_element(By.ID, "download").get_attribute("href")
    duration = wait_for(
        driver,
        lambda: driver.execute_script("return document.getElementById('player').duration"),
        30,
        "metadata",
    )
    assert duration == pytest.approx(stats["samplesReceived"] / MEMBER_RATE, abs=1e-3)

    # The captions are the player's <track>, loaded, one cue a sentence at the sentence's times.
    wait_for(driver, lambda: page_stats(driver).get("captions") == "ready", 30, "the captions")
    cues = wait_for(
        driver,
        lambda: driver.execute_script(
            """
            const t = document.getElementById('captions-track');
            if (t.readyState !== 2 || !t.track.cues || !t.track.cues.length) return null;
            return [...t.track.cues].map(c => [c.startTime, c.endTime, c.text]);
            """
        ),
        30,
        "the <track> to load its cues",
    )
    assert [c[2] for c in cues] == [s["text"] for s in sentences]
    assert [c[0] for c in cues] == pytest.approx([s["start"] for s in sentences], abs=1e-3)
    vtt_url = driver.find_element(By.ID, "download-vtt").get_attribute("href")
    assert driver.find_element(By.ID, "captions-track").get_attribute("src") == vtt_url
    vtt = driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done)",
        vtt_url,
    )
    assert [c.text for c in webvtt.from_buffer(io.StringIO(vtt))] == [s["text"] for s in sentences]
    assert snapshot(driver)["marked"] == 0, "marked before anything plays"

    # A click on the second sentence's second word plays from that word's start.
    target = sentences[1]["words"][1]
    words = driver.find_elements(By.CSS_SELECTOR, "#transcript > li:nth-child(2) .word")
    assert words[1].text == target["text"]
    words[1].click()
    first = wait_for(
        driver,
        lambda: (s := snapshot(driver))["source"] == "player" and not s["paused"] and s,
        10,
        "the player to play from the word",
    )
    assert target["start"] - 0.01 <= first["currentTime"] < target["start"] + 0.5, first
    assert first["sentence"] == 1
    snaps = []
    while not (snap := snapshot(driver))["ended"] and len(snaps) < 400:
        if snap["position"] is not None:
            snaps.append(snap)
        time.sleep(0.02)
    assert snaps and all(s["source"] == "player" for s in snaps)
    for snap in snaps:
        assert_marks_agree(snap, sentences)
        assert abs(snap["position"] - snap["currentTime"]) < 0.3, snap  # the player's own (a frame ago)
    assert any(s["word"] == 1 for s in snaps) and any(s["word"] >= 2 for s in snaps), snaps
    wait_for(driver, lambda: snapshot(driver)["marked"] == 0, 5, "the marks to clear at the end")

    # The first sentence's ▶ button plays from its start; paused, the marks stay where it stopped.
    seek = driver.find_element(By.CSS_SELECTOR, "#transcript > li:nth-child(1) button.seek")
    assert "Play from sentence 1" in seek.get_attribute("textContent")
    seek.click()
    wait_for(
        driver,
        lambda: (s := snapshot(driver))["sentence"] == 0 and not s["paused"] and s["currentTime"] < 0.5 and s,
        10,
        "the player to play from the first sentence",
    )
    word = sentences[0]["words"][-1]
    middle = (word["start"] + word["end"]) / 2
    driver.execute_script(
        "const p = document.getElementById('player'); p.pause(); p.currentTime = arguments[0];", middle
    )
    paused = wait_for(
        driver,
        lambda: (
            (s := snapshot(driver))["paused"]
            and abs(s["currentTime"] - middle) < 1e-3
            and s["position"] is not None
            and abs(s["position"] - middle) < 1e-3
            and s
        ),
        10,
        "the marks at the paused position",
    )
    assert (paused["sentence"], paused["word"]) == (0, len(sentences[0]["words"]) - 1)

    # On a phone: nothing sticks out sideways, and the seek buttons and downloads are finger-sized.
    with phone_viewport(driver, 360, 640):
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 360
        for css in ("#transcript button.seek", "#downloads a.button:not([hidden])"):
            for e in driver.find_elements(By.CSS_SELECTOR, css):
                assert e.size["height"] >= 44 and e.size["width"] >= 44, (css, e.size)


def _decode(data: bytes) -> tuple[Any, int, str, str]:
    """Samples, rate, container and codec, by FFmpeg (PyAV)."""
    import numpy as np

    av = pytest.importorskip("av")
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
        return samples, stream.codec_context.sample_rate, container.format.name, stream.codec_context.name


def _envelope(samples: Any, rate: int, seconds: float) -> Any:
    """RMS in 20-ms windows over the first `seconds`."""
    import numpy as np

    step = rate // 50
    count = int(seconds * 50)
    x = np.asarray(samples, dtype=np.float64)[: count * step]
    x = np.pad(x, (0, count * step - len(x)))
    return np.sqrt((x.reshape(count, step) ** 2).mean(axis=1))


def test_downloads_are_files_of_their_formats(driver: Any, page_service: Service, tmp_path: Path) -> None:
    import numpy as np
    import soundfile

    srt = pytest.importorskip("srt")
    webvtt = pytest.importorskip("webvtt")
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    # The built-in voice: speech (the tiny test member's output is close to DC, which Opus filters out).
    speak(driver, page_service, "builtin", TWO)
    stats = wait_done(driver)
    wait_for(driver, lambda: page_stats(driver).get("captions") == "ready", 30, "the captions")

    def saved(suffix: str) -> Path:
        def done() -> Path | None:
            files = [p for p in tmp_path.glob(f"forv-tts-builtin-*{suffix}") if p.stat().st_size > 0]
            return files[0] if files and not list(tmp_path.glob("*.crdownload")) else None

        return Path(wait_for(driver, done, 60, f"the {suffix} download"))

    for link in ("download", "download-mp3", "download-opus", "download-vtt", "download-srt"):
        driver.find_element(By.ID, link).click()
        time.sleep(0.3)  # one download at a time: Chromium asks before several at once
    wav_path, mp3_path, ogg_path = saved(".wav"), saved(".mp3"), saved(".ogg")

    samples, rate = soundfile.read(wav_path, dtype="float32")
    assert rate == 22050 and len(samples) == stats["samplesReceived"]
    assert soundfile.info(wav_path).subtype == "PCM_16"
    seconds = len(samples) / rate
    wav_env = _envelope(samples, rate, seconds)
    for path, container, codec, frame in ((mp3_path, "mp3", "mp3", 576 * 4), (ogg_path, "ogg", "opus", 960)):
        decoded, decoded_rate, fmt, name = _decode(path.read_bytes())
        assert fmt == container and codec in name, (path, fmt, name)  # FFmpeg's decoder: mp3float
        assert abs(len(decoded) / decoded_rate - seconds) <= frame / decoded_rate, path
        # The same clip (same text, voice, speed and seed): loud where the played WAV is loud.
        env = _envelope(decoded, decoded_rate, seconds)
        assert float(np.corrcoef(env, wav_env)[0, 1]) > 0.9, path
    assert page_stats(driver)["downloads"] == {"mp3": "ready", "opus": "ready"}

    sentences = stats["sentences"]
    vtt = list(webvtt.read(str(saved(".vtt"))))
    subs = list(srt.parse(saved(".srt").read_text(encoding="utf-8")))
    assert [c.text for c in vtt] == [s.content for s in subs] == [s["text"] for s in sentences]
    assert [s.start.total_seconds() for s in subs] == pytest.approx([s["start"] for s in sentences], abs=1e-3)
