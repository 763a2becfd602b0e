"""Time from pressing Speak to the first sound, measured in the browser, for a long paragraph.

Starts `forv-tts serve` on 127.0.0.1 (embedded valkey, one worker), opens the page in headless Debian
chromium, and interleaves, per round:

- page: press Speak with the paragraph, read `window.forvTtsPage.firstSoundMs` (performance.now() from
  the click to the moment the first sample is scheduled to sound; the device's output latency is not
  in it and is printed apart), then press Stop;
- http: the same text from Python (httpx, stream: true, WAV): time to the first PCM byte;
- sse: the page's own request (stream_format "sse", response_format "pcm", as the page sends it since
  issue 26) from Python: time to the first `speech.audio.delta` event;
- whole: the same request without streaming: time until the whole clip has arrived (what a page
  without streaming would wait before any sound).

    python bench/page_first_sound.py [--rounds 7] [--voice builtin] [--voice-dir DIR] [--tree DIR]

--tree serves another checkout (a worktree of an older commit) with this script, so two trees are
measured the same way; both must have the page hook `window.forvTtsPage.firstSoundMs`.

Prints one line per round and the medians (JSON with --json). The host is shared: compare the columns
of one run, not runs of different days.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import spawn  # bench/spawn.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))


def paragraph() -> str:
    for line in (ROOT / "bench" / "sentences.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("paragraph\t"):
            return line.split("\t", 1)[1]
    raise SystemExit("bench/sentences.txt has no paragraph line")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(voice_dir: Path | None, workdir: Path, tree: Path = ROOT) -> Iterator[str]:
    """`forv-tts serve` with one worker, stopped by PID (SIGTERM, then SIGKILL) on the way out."""
    port = free_port()
    args = [sys.executable, "-m", "forv_tts", "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--workers", "1", "--out-dir", str(workdir)]
    args += ["--voice-dir", str(voice_dir.resolve() if voice_dir else workdir / "no-voices")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORV_TTS_")}
    env["PYTHONPATH"] = str(tree.resolve())
    log = open(workdir / "serve.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(args, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise SystemExit("forv-tts serve did not become ready: " + (workdir / "serve.log").read_text())
        yield url
    finally:
        spawn.stop(proc)
        log.close()


def http_first_byte(url: str, body: dict[str, Any]) -> float:
    """Seconds from sending the request to the first PCM byte after the WAV header."""
    start = time.perf_counter()
    seen = 0
    with httpx.stream("POST", url + "/v1/audio/speech", json=body, timeout=300) as r:
        if r.status_code != 200:
            raise RuntimeError(f"speech answered {r.status_code}: {r.read().decode(errors='replace')}")
        for chunk in r.iter_bytes():
            seen += len(chunk)
            if seen > 44:
                return time.perf_counter() - start
    raise RuntimeError("the stream held no audio")


def sse_first_audio(url: str, body: dict[str, Any]) -> float:
    """Seconds from sending the page's SSE request to its first `speech.audio.delta` event."""
    start = time.perf_counter()
    sse = {**body, "stream_format": "sse", "response_format": "pcm"}
    with httpx.stream("POST", url + "/v1/audio/speech", json=sse, timeout=300) as r:
        if r.status_code != 200:
            raise RuntimeError(f"speech answered {r.status_code}: {r.read().decode(errors='replace')}")
        for line in r.iter_lines():
            if line.startswith("data: ") and json.loads(line[6:]).get("type") == "speech.audio.delta":
                return time.perf_counter() - start
    raise RuntimeError("the event stream held no audio")


def warm(url: str, body: dict[str, Any]) -> None:
    """Load the voice in the worker (torch import and all) before anything is timed.

    A first request can fail while the worker loads a member on a busy host (the API's wait on the
    result backend gives up after its socket timeout, 10 s): retry until one answers.
    """
    short = {**body, "input": "안녕하세요."}
    for attempt in range(1, 7):
        try:
            http_first_byte(url, short)
            return
        except RuntimeError as err:
            print(f"warm-up {attempt}: {err}", file=sys.stderr)
            time.sleep(5)
    raise SystemExit("the voice never answered")


def http_whole(url: str, body: dict[str, Any]) -> float:
    start = time.perf_counter()
    r = httpx.post(url + "/v1/audio/speech", json={**body, "stream": False}, timeout=300)
    if r.status_code != 200:
        raise RuntimeError(f"speech answered {r.status_code}: {r.text}")
    return time.perf_counter() - start


def page_first_sound(driver: Any, text: str, voice: str) -> dict[str, Any]:
    from pagekit import page_stats, wait_for
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "voice")).select_by_value(voice)
    driver.execute_script("document.getElementById('text').value = arguments[0]", text)
    driver.find_element(By.ID, "speak").click()
    stats = wait_for(
        driver, lambda: (s := page_stats(driver)).get("firstSoundMs") is not None and s, 300, "first sound"
    )
    driver.find_element(By.ID, "stop").click()
    wait_for(driver, lambda: page_stats(driver).get("state") == "stopped", 30, "stop")
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--voice", default="builtin")
    parser.add_argument("--voice-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    args = parser.parse_args(argv)

    from pagekit import chromium, page_stats, wait_for

    text = paragraph()
    body = {"input": text, "voice": args.voice, "stream": True, "response_format": "wav"}
    rows: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="page-bench-") as tmp,
        serve(args.voice_dir, Path(tmp), args.tree) as url,
    ):
        warm(url, body)
        with chromium() as driver:
            driver.get(url + "/")
            wait_for(driver, lambda: page_stats(driver).get("state") == "idle", 60, "the voices")
            page_first_sound(driver, text, args.voice)  # warm the page's normaliser child too
            for i in range(args.rounds):
                # Alternate which goes first, so neither always meets the other's leftovers.
                order = ("page", "http", "sse") if i % 2 == 0 else ("sse", "http", "page")
                row: dict[str, float] = {}
                for what in order:
                    if what == "page":
                        stats = page_first_sound(driver, text, args.voice)
                        row["page_first_sound_ms"] = stats["firstSoundMs"]
                        row["page_first_byte_ms"] = stats["firstByteMs"]
                        row["output_latency_ms"] = stats["outputLatencyMs"]
                    elif what == "http":
                        row["http_first_pcm_ms"] = http_first_byte(url, body) * 1000
                    else:
                        row["sse_first_audio_ms"] = sse_first_audio(url, body) * 1000
                    time.sleep(0.5)  # let the cancelled job's worker settle
                row["whole_clip_ms"] = http_whole(url, body) * 1000
                rows.append(row)
                if not args.json:
                    print(
                        f"round {i + 1}: page first sound {row['page_first_sound_ms']:.0f} ms "
                        f"(first byte {row['page_first_byte_ms']:.0f} ms), http first PCM "
                        f"{row['http_first_pcm_ms']:.0f} ms, sse first audio "
                        f"{row['sse_first_audio_ms']:.0f} ms, "
                        f"whole clip {row['whole_clip_ms']:.0f} ms",
                        flush=True,
                    )
    medians = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    summary = {
        "tree": str(args.tree),
        "chars": len(text),
        "voice": args.voice,
        "rounds": len(rows),
        "median": medians,
        "rows": rows,
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(
            f"median over {len(rows)} rounds, {len(text)} characters, voice {args.voice}: page first sound "
            f"{medians['page_first_sound_ms']:.0f} ms, http first PCM {medians['http_first_pcm_ms']:.0f} ms, "
            f"sse first audio {medians['sse_first_audio_ms']:.0f} ms, "
            f"whole clip {medians['whole_clip_ms']:.0f} ms; device output latency "
            f"{medians['output_latency_ms']:.0f} ms not included"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
