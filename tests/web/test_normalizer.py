"""The page's normaliser: the real g2pk in a real spawned child, never in the calling process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from forv_tts import text as norm
from forv_tts.web.normalizer import Normalizer, NormalizerUnavailableError

ROOT = Path(__file__).resolve().parents[2]


def normalize_stages(text: str, voice_dir: Path | None = None) -> list[dict[str, object]]:
    """The library's own answer, in this process (what `normalize --json` prints)."""
    return norm.normalize_stages(text, lexicon=norm.resolve_lexicon(voice_dir=voice_dir), explain=True)


TEXTS = [
    "안녕하세요!",
    "오늘은 2024년 3월 1일입니다. 사과 3개를 샀어요.",
    "회의는 10시 30분에 시작합니다? 네, 맞아요.",
]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def normalizer() -> Iterator[Normalizer]:
    n = Normalizer(timeout_s=120)
    try:
        yield n
    finally:
        n.close()


@pytest.mark.slow
def test_child_gives_the_same_stages_as_the_library(normalizer: Normalizer) -> None:
    async def run() -> list[list[dict[str, str]]]:
        return [await normalizer.stages(text) for text in TEXTS]

    got = asyncio.run(run())
    assert got == [normalize_stages(text) for text in TEXTS]
    assert got[1][0]["expanded"] == "오늘은 이천이십사 년 삼월 일 일입니다."
    assert {r["rule"] for r in got[1][1]["rewrites"]} == {"counter"}
    pid = normalizer.pid()
    assert pid is not None and pid != os.getpid()


@pytest.mark.slow
def test_the_voice_dirs_lexicon_applies_and_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "lexicon.tsv").write_text("포브\t뽀브\n", encoding="utf-8")
    normalizer = Normalizer(tmp_path, timeout_s=120)
    try:
        first = asyncio.run(normalizer.stages("포브 팀입니다."))
        assert first == normalize_stages("포브 팀입니다.", tmp_path)
        assert first[0]["lexicon"][0]["spoken"] == "뽀브"
        (tmp_path / "lexicon.tsv").write_text("포브\t포오브\n", encoding="utf-8")
        again = asyncio.run(normalizer.stages("포브 팀입니다."))
        assert again[0]["lexicon"][0]["spoken"] == "포오브"
    finally:
        normalizer.close()


@pytest.mark.slow
def test_a_dead_child_is_replaced(normalizer: Normalizer) -> None:
    async def once(text: str) -> list[dict[str, str]]:
        return await normalizer.stages(text)

    assert asyncio.run(once("안녕하세요."))
    first = normalizer.pid()
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(first) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert asyncio.run(once("반갑습니다.")) == normalize_stages("반갑습니다.")
    second = normalizer.pid()
    assert second is not None and second != first


@pytest.mark.slow
def test_a_stuck_child_is_killed_at_the_timeout() -> None:
    normalizer = Normalizer(timeout_s=120)
    try:
        asyncio.run(normalizer.stages("안녕하세요."))  # started and warm
        pid = normalizer.pid()
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # a child that never answers
        normalizer.timeout_s = 0.5
        with pytest.raises(NormalizerUnavailableError, match=r"longer than 0\.5 s"):
            asyncio.run(normalizer.stages("안녕하세요."))
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
        normalizer.timeout_s = 120
        assert asyncio.run(normalizer.stages("안녕.")) == normalize_stages("안녕.")
    finally:
        normalizer.close()


@pytest.mark.slow
def test_the_calling_process_never_imports_g2pk_and_close_stops_the_child() -> None:
    # A fresh interpreter: this test process has g2pk loaded by other tests already.
    code = textwrap.dedent(
        """
        import asyncio, os, sys
        from forv_tts.web.normalizer import Normalizer
        n = Normalizer()
        stages = asyncio.run(n.stages("안녕하세요. 3개 주세요."))
        pid = n.pid()
        heavy = sorted(m for m in ("g2pk", "torch", "TTS", "mecab") if m in sys.modules)
        n.close()
        print(len(stages), pid, ",".join(heavy) or "-")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout.split()
    count, pid, heavy = out
    assert count == "2"
    assert heavy == "-", f"the calling process imported {heavy}"
    assert not _alive(int(pid)), "close() left the normaliser child running"
