"""`serve`'s embedded store under faults, through real processes: valkey SIGKILLed or stopped by PID, the
local worker SIGKILLed, `serve` itself restarted; what was queued must survive and `/healthz` must say
when the store is gone (`forv_tts.service.embedded`, `forv_tts.service.serve`)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
from servicekit import Service, alive, descendants, http_json, service, wait_until

TEXT = "첫째 문장입니다. 둘째 문장입니다. 셋째 문장입니다. 넷째 문장입니다."


def valkey_pid(svc: Service) -> int | None:
    for pid in descendants(svc.proc.pid):
        try:
            if "valkey" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace") and alive(pid):
                return pid
        except OSError:
            continue
    return None


def worker_pid(svc: Service) -> int | None:
    """The `forv-tts worker` process `serve` started (its pool processes are its children)."""
    from servicekit import children

    for pid in children(svc.proc.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"worker" in cmd and alive(pid):
            return pid
    return None


def queue(c: httpx.Client, n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = c.post("/v1/jobs", json={"text": f"{TEXT} {i + 1}번.", "created_at": "2022-08-22"})
        assert r.status_code == 202, r.text
        ids.append(r.json()["uuid"])
    return ids


def test_a_killed_store_is_restarted_reported_and_loses_nothing_queued(tmp_path: Path) -> None:
    env = {"FORV_TTS_TEST_SENTENCE_DELAY": "0.4"}
    with (
        service(tmp_path / "svc", ["--workers", "1"], env) as svc,
        httpx.Client(base_url=svc.url, timeout=60) as c,
    ):
        ids = queue(c, 4)  # one worker process: the first runs, three wait in the queue
        assert wait_until(lambda: svc.job(ids[0]).get("state") == "running", 30)
        old = valkey_pid(svc)
        assert old
        # A hung store: /healthz says so (it used to answer 200 whatever the store did).
        os.kill(old, signal.SIGSTOP)
        try:
            status, body = http_json(f"{svc.url}/healthz", timeout=15)
            assert status == 503 and body["result_backend"] is False, body
        finally:
            os.kill(old, signal.SIGCONT)
        # A dead one: restarted, said in the log, healthy again.
        os.kill(old, signal.SIGKILL)
        assert wait_until(lambda: (valkey_pid(svc) or old) != old, 15), svc.proc.tail()
        assert wait_until(lambda: http_json(f"{svc.url}/healthz")[0] == 200, 15)
        assert "embedded valkey" in svc.proc.tail(20000) and "restarting it" in svc.proc.tail(20000)
        # The three that were queued are still known and get done.
        for job_id in ids[1:]:
            final = c.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
            assert final["state"] == "done", final
        assert http_json(f"{svc.url}/readyz")[0] == 200


def test_queued_jobs_survive_a_serve_restart(tmp_path: Path) -> None:
    out = tmp_path / "svc"
    with service(out, ["--workers", "0"], readiness="/healthz") as svc:
        c = httpx.Client(base_url=svc.url, timeout=60)
        ids = queue(c, 3)  # no worker: they stay queued while serve stops
        c.close()
    assert (out / ".forv-tts-state").is_dir()
    with service(out, ["--workers", "1"]) as svc, httpx.Client(base_url=svc.url, timeout=60) as c:
        for job_id in ids:
            final = c.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
            assert final["state"] == "done", final
            assert (out / f"wav_files/builtin/{job_id}_2022-08-22_voice.wav").is_file()


def test_a_killed_local_worker_is_restarted(tmp_path: Path) -> None:
    with (
        service(tmp_path / "svc", ["--workers", "1"]) as svc,
        httpx.Client(base_url=svc.url, timeout=60) as c,
    ):
        old = worker_pid(svc)
        assert old
        os.kill(old, signal.SIGKILL)
        assert wait_until(lambda: (worker_pid(svc) or old) != old, 20), svc.proc.tail()
        assert "local worker exited" in svc.proc.tail(20000)
        t0 = time.monotonic()
        r = c.post(
            "/api/texts",
            json={
                "uuid": "022db29c-d0e2-11e5-bb4c-60f81dca7601",
                "member_id": "builtin",
                "text": "다시",
                "created_at": "2022-08-22",
            },
        )
        assert r.status_code == 200, r.text
        assert time.monotonic() - t0 < 60


def test_two_serves_cannot_share_a_state_directory(tmp_path: Path) -> None:
    from forv_tts.service.embedded import EmbeddedServer, EmbeddedServerError

    first = EmbeddedServer(state_dir=tmp_path / "state").start()
    try:
        second = EmbeddedServer(state_dir=tmp_path / "state")
        try:
            second.start()
            raise AssertionError("a second server started on the same state directory")
        except EmbeddedServerError as err:
            assert "in use by another forv-tts serve" in str(err) and str(os.getpid()) in str(err)
    finally:
        first.stop()
    assert (tmp_path / "state").is_dir()


def test_a_uuid_names_one_clip_across_restarts(tmp_path: Path) -> None:
    import hashlib

    out = tmp_path / "svc"
    job_id = "022db29c-d0e2-11e5-bb4c-60f81dca7602"
    body = {"uuid": job_id, "member_id": "builtin", "text": "처음 글입니다.", "created_at": "2022-08-22"}
    clip = out / f"wav_files/builtin/{job_id}_2022-08-22_voice.wav"
    with service(out, ["--workers", "1"]) as svc, httpx.Client(base_url=svc.url, timeout=60) as c:
        assert c.post("/api/texts", json=body).status_code == 200
    first = hashlib.sha256(clip.read_bytes()).hexdigest()
    # Restarted with the store's memory kept (the state directory), then with it gone: either way the
    # same uuid with another text is a 409, and the clip on disk is the first one.
    for state in (out / ".forv-tts-state", tmp_path / "fresh-state"):
        env = {"FORV_TTS_STATE_DIR": str(state)}
        with service(out, ["--workers", "1"], env) as svc, httpx.Client(base_url=svc.url, timeout=60) as c:
            r = c.post("/api/texts", json={**body, "text": "다른 글입니다.", "created_at": "2023-01-01"})
            assert r.status_code == 409 and r.json()["error"]["field"] == "uuid", r.text
            r = c.post("/v1/jobs", json={"uuid": job_id, "text": "또 다른 글.", "member_id": "builtin"})
            assert r.status_code == 409, r.text
            if state != out / ".forv-tts-state":
                # The store forgot the uuid: the same name with another text is the worker's to judge
                # (it made the audio, compared it with the clip and refused), the same request again
                # is a success that leaves the clip as it is (the old client retries so).
                stat = clip.stat()
                r = c.post("/api/texts", json={**body, "text": "다른 글입니다."})
                assert r.status_code == 409 and r.json()["error"]["field"] == "uuid", r.text
                assert r.json()["error"]["code"] == "conflict", r.text
                assert c.get(f"/v1/jobs/{job_id}").json()["error"]["code"] == "conflict"
                r = c.post("/api/texts", json=body)  # the first request again: queued again, same bytes
                assert r.status_code == 200, r.text
                assert (clip.stat().st_ino, clip.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
        assert hashlib.sha256(clip.read_bytes()).hexdigest() == first
        assert sorted(p.name for p in (out / "wav_files").rglob("*.wav")) == [clip.name]
