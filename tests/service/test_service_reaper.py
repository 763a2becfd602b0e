"""Workers that vanish, through a real `serve` on the embedded Redis broker: a worker SIGKILLed whole
(main process and pool) has its running job redelivered within seconds (`forv_tts.service.reaper`),
not after the broker's hour of visibility timeout; a member no worker serves is said at once."""

from __future__ import annotations

import os
import signal
import time
import uuid as _uuid
from pathlib import Path

import httpx
from servicekit import alive, children, service, wait_until

LONG = " ".join(f"{i}번째 문장입니다." for i in range(1, 9))


def test_a_worker_killed_whole_has_its_job_redelivered_within_seconds(tmp_path: Path) -> None:
    env = {"FORV_TTS_TEST_SENTENCE_DELAY": "0.5"}
    with service(tmp_path, ["--workers", "1"], env) as svc, httpx.Client(base_url=svc.url, timeout=90) as c:
        job_id = c.post("/v1/jobs", json={"text": LONG, "created_at": "2022-08-22"}).json()["uuid"]
        assert wait_until(lambda: svc.job(job_id).get("state") == "running", 30), svc.job(job_id)
        main = [p for p in children(svc.proc.pid) if b"worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(main) == 1
        doomed = [main[0], *children(main[0])]
        for pid in doomed:  # the whole worker: nothing is left to hand the message back
            os.kill(pid, signal.SIGKILL)
        assert wait_until(lambda: not any(alive(p) for p in doomed), 10)
        t0 = time.monotonic()
        final = c.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
        assert final["state"] == "done", final  # it stayed "running" for the hour before
        assert final["attempts"] == 2 and time.monotonic() - t0 < 50
        assert (tmp_path / f"wav_files/builtin/{job_id}_2022-08-22_voice.wav").is_file()
        assert "requeued" in svc.proc.tail(50000) and "heartbeat stopped" in svc.proc.tail(50000)


def test_a_member_with_no_worker_is_said_at_once(tmp_path: Path) -> None:
    svc_cm = service(tmp_path, ["--workers", "0"], readiness="/healthz")
    with svc_cm as svc, httpx.Client(base_url=svc.url, timeout=60) as c:
        t0 = time.monotonic()
        r = c.post(
            "/api/texts",
            json={
                "uuid": str(_uuid.uuid4()),
                "member_id": "builtin",
                "text": "안녕",
                "created_at": "2022-08-22",
            },
        )
        assert r.status_code == 503 and r.json()["error"]["code"] == "no_worker", r.text
        assert "builtin" in r.json()["error"]["message"] and time.monotonic() - t0 < 5
        r = c.post("/v1/audio/speech", json={"input": "안녕", "voice": "builtin"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "no_worker", r.text
        r = c.post("/v1/jobs", json={"text": "안녕"})  # queueing still works: a worker may come
        assert r.status_code == 202 and r.json()["state"] == "queued", r.text
