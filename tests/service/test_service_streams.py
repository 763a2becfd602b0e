"""Speech under long waits and lost workers, through a real `serve`: a sentence that takes longer than
the result-backend client's 5-s socket timeout is still answered, and a stream whose worker is
SIGKILLed mid-way ends with an error on the wire, never a clean end with audio missing."""

from __future__ import annotations

import io
import os
import signal
import wave
from collections.abc import Iterator

import httpx
import pytest
from servicekit import Service, alive, service, wait_until

#: Longer than redis-py's default 5-s socket timeout, which cut one long BLPOP.
DELAY_S = 6.5


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    env = {"FORV_TTS_TEST_SENTENCE_DELAY": str(DELAY_S)}
    with service(tmp_path_factory.mktemp("slow"), ["--workers", "1"], env) as s:
        yield s


@pytest.fixture(scope="module")
def paced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Under a second a sentence: the stream is under way before the worker is killed."""
    env = {"FORV_TTS_TEST_SENTENCE_DELAY": "0.8"}
    with service(tmp_path_factory.mktemp("paced"), ["--workers", "1"], env) as s:
        yield s


def test_a_sentence_slower_than_the_socket_timeout_is_answered(slow: Service) -> None:
    with httpx.Client(base_url=slow.url, timeout=60) as c:
        r = c.post(
            "/v1/audio/speech",
            json={"input": "천천히 말합니다.", "voice": "builtin", "response_format": "wav"},
        )
        assert r.status_code == 200, r.text  # was 503 "the result backend is unreachable"
        with wave.open(io.BytesIO(r.content)) as w:
            assert w.getnframes() > 0
        # Streamed: two sentences, each after a wait over 5 s, both arrive and the stream ends cleanly.
        body = {
            "input": "첫째 문장입니다. 둘째 문장입니다.",
            "voice": "builtin",
            "stream": True,
            "response_format": "wav",
        }
        with c.stream("POST", "/v1/audio/speech", json=body) as s:
            assert s.status_code == 200
            job_id = s.headers["x-job-id"]
            data = b"".join(s.iter_raw())
        assert data[:4] == b"RIFF" and len(data) > 44 + 2 * 22050  # two sentences of audio
        assert slow.job(job_id)["state"] == "done"


def test_a_stream_that_loses_its_worker_ends_in_an_error(paced: Service) -> None:
    slow = paced
    text = " ".join(f"{i}번째 문장입니다." for i in range(1, 6))
    with httpx.Client(base_url=slow.url, timeout=60) as c:
        body = {"input": text, "voice": "builtin", "stream": True, "response_format": "wav"}
        with c.stream("POST", "/v1/audio/speech", json=body) as s, pytest.raises(httpx.HTTPError):
            assert s.status_code == 200
            job_id = s.headers["x-job-id"]
            chunks = s.iter_raw()
            assert next(chunks)[:4] == b"RIFF"  # the first sentence was heard
            pid = slow.job(job_id)["worker_pid"]
            os.kill(pid, signal.SIGKILL)
            assert wait_until(lambda: not alive(pid), 10)
            for _ in chunks:  # the rest must not end as if complete
                pass
    job = slow.job(job_id)
    assert job["state"] == "failed" and job["error"]["code"] == "worker_lost", job
    assert "aborted a streamed response" in slow.proc.tail(20000)
