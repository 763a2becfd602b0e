"""Faults, through real processes: a worker SIGKILLed mid-job, a job that keeps killing its worker, GCS
down, a streaming client that hangs up, a job over its time limit, and `serve` stopped by a signal.

Jobs are slowed down with `FORV_TTS_TEST_SENTENCE_DELAY` (a sleep before each sentence in the worker), so
"mid-job" is a state the test can wait for rather than a race.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid as _uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gcs_emulator import GcsEmulator, free_port
from servicekit import Service, alive, descendants, service, start_service, wait_until

pytest_plugins = ["gcs_emulator"]

LONG = " ".join(f"{i}번째 문장입니다." for i in range(1, 9))


@pytest.fixture(scope="module")
def bucket(gcs_server: GcsEmulator) -> str:
    return gcs_server.new_bucket()


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory, gcs_server: GcsEmulator, bucket: str) -> Iterator[Service]:
    """Uploads to the emulator, 0.4 s per sentence, at most 2 deliveries of a job."""
    env = {
        "STORAGE_EMULATOR_HOST": gcs_server.url,
        "FORV_TTS_TEST_SENTENCE_DELAY": "0.4",
        "FORV_TTS_MAX_DELIVERIES": "2",
    }
    with service(tmp_path_factory.mktemp("slow"), ["--workers", "1", "--bucket", bucket], env) as s:
        yield s


def wait_running(svc: Service, job_id: str, attempt: int, timeout: float = 30) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def running() -> bool:
        seen.update(svc.job(job_id))
        return (
            seen.get("state") == "running"
            and seen.get("attempts") == attempt
            and bool(seen.get("worker_pid"))
        )

    assert wait_until(running, timeout, 0.05), seen
    return seen


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not alive(pid), 10)


def test_worker_killed_mid_job_completes_exactly_once(
    slow: Service, gcs_server: GcsEmulator, bucket: str
) -> None:
    with httpx.Client(base_url=slow.url, timeout=60) as c:
        r = c.post("/v1/jobs", json={"text": LONG, "created_at": "2022-08-22"})
        job_id = r.json()["uuid"]
        first = wait_running(slow, job_id, 1)
        kill(first["worker_pid"])
        done = c.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
    assert done["state"] == "done", done
    assert done["attempts"] == 2 and done["worker_pid"] != first["worker_pid"]
    name = f"wav_files/builtin/{job_id}_2022-08-22_voice.wav"
    objects = {k: v for k, v in gcs_server.objects(bucket).items() if job_id in k}
    assert list(objects) == [name]
    assert objects[name] == (slow.out_dir / name).read_bytes()
    assert done["gs_uri"] == f"gs://{bucket}/{name}"


def test_job_that_keeps_killing_its_worker_ends_failed(slow: Service) -> None:
    with httpx.Client(base_url=slow.url, timeout=60) as c:
        job_id = c.post("/v1/jobs", json={"text": LONG}).json()["uuid"]
        kill(wait_running(slow, job_id, 1)["worker_pid"])
        kill(wait_running(slow, job_id, 2)["worker_pid"])
        final = c.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
        assert final["state"] == "failed", final
        assert final["error"]["code"] == "worker_lost" and "lost 2 times" in final["error"]["message"]
        # The queue is not stuck behind it.
        ok = c.post(
            "/api/texts",
            json={
                "uuid": str(_uuid.uuid4()),
                "member_id": "builtin",
                "text": "다음",
                "created_at": "2022-08-22",
            },
        )
        assert ok.status_code == 200


def test_stream_disconnect_stops_the_work(slow: Service) -> None:
    text = " ".join(f"{i}번째 문장을 스트리밍합니다." for i in range(1, 16))
    with httpx.Client(base_url=slow.url, timeout=60) as c:
        with c.stream(
            "POST",
            "/v1/audio/speech",
            json={"model": "x", "input": text, "voice": "builtin", "stream": True, "response_format": "wav"},
        ) as s:
            assert s.status_code == 200
            job_id = s.headers["x-job-id"]
            first = next(s.iter_raw())
            assert first[:4] == b"RIFF"
        # the connection is closed here, after the first sentence
        seen: dict[str, Any] = {}

        def ended() -> bool:
            seen.update(slow.job(job_id))
            return seen.get("state") in ("cancelled", "done", "failed")

        assert wait_until(ended, 30, 0.1), seen
    assert seen["state"] == "cancelled", seen
    assert seen["sentences_done"] is not None and seen["sentences_done"] < 15


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """GCS unreachable (nothing listens), 2 upload tries of 0.5 s; jobs limited to 3 s, 0.3 s a sentence."""
    env = {
        "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{free_port()}",
        "FORV_TTS_UPLOAD_ATTEMPTS": "2",
        "FORV_TTS_UPLOAD_TIMEOUT": "0.5",
        "FORV_TTS_UPLOAD_BACKOFF": "0.1",
        "FORV_TTS_JOB_TIME_LIMIT": "3",
        "FORV_TTS_TEST_SENTENCE_DELAY": "0.3",
    }
    with service(tmp_path_factory.mktemp("broken"), ["--workers", "1", "--bucket", "forv-down"], env) as s:
        yield s


def test_gcs_down_fails_after_bounded_retries_and_keeps_the_file(broken: Service) -> None:
    job_id = str(_uuid.uuid4())
    t0 = time.monotonic()
    with httpx.Client(base_url=broken.url, timeout=60) as c:
        r = c.post(
            "/api/texts",
            json={"uuid": job_id, "member_id": "builtin", "text": "업로드 실패", "created_at": "2022-08-22"},
        )
        assert r.status_code == 502, r.text
        body = r.json()
        assert body["uuid"] == job_id and body["error"]["code"] == "upload_unreachable"
        assert "after 2 attempts" in body["error"]["message"]
        assert "local file kept" in body["error"]["message"]
        status = c.get(f"/v1/jobs/{job_id}").json()
    assert time.monotonic() - t0 < 30
    assert status["state"] == "failed" and status["error"]["code"] == "upload_unreachable"
    local = broken.out_dir / f"wav_files/builtin/{job_id}_2022-08-22_voice.wav"
    assert local.is_file() and local.stat().st_size > 44
    assert status["path"] == str(local)


def test_time_limit_fails_the_job_with_its_reason(broken: Service) -> None:
    with httpx.Client(base_url=broken.url, timeout=60) as c:
        r = c.post(
            "/api/texts",
            json={
                "uuid": str(_uuid.uuid4()),
                "member_id": "builtin",
                "text": LONG * 2,
                "created_at": "2022-08-22",
            },
        )
    assert r.status_code == 504, r.text
    assert r.json()["error"]["code"] == "time_limit" and "3 s time limit" in r.json()["error"]["message"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_everything_it_started(tmp_path: Path, sig: signal.Signals) -> None:
    svc = start_service(tmp_path, ["--workers", "1"])
    try:
        tree = descendants(svc.proc.pid)
        valkey = [p for p in tree if "valkey" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")]
        assert valkey and len(tree) >= 3  # valkey, the worker, its pool process
        title = Path(f"/proc/{valkey[0]}/cmdline").read_text(errors="replace")  # valkey rewrites it
        match = re.search(r"unixsocket:(\S+?)(\x00|\s|$)", title)
        assert match, title
        socket_dir = Path(match.group(1)).parent
        assert socket_dir.is_dir() and "forv-tts-valkey-" in socket_dir.name
        svc.proc.process.send_signal(sig)
        assert svc.proc.process.wait(timeout=30) == 0
        assert wait_until(lambda: not any(alive(p) for p in tree), 15), [p for p in tree if alive(p)]
        assert not socket_dir.exists()
    finally:
        svc.proc.stop()
