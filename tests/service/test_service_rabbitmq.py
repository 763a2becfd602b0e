"""The across-machines set-up on real parts: RabbitMQ (Debian's rabbitmq-server, a private node), a
Redis-compatible result backend, `forv-tts worker` and `forv-tts serve --workers 0` as separate processes,
and the old app's own way of sending `gan_wav` from a plain Celery client.

Skipped when rabbitmq-server is not installed here; `.ci/run` installs it.
"""

from __future__ import annotations

import gc
import threading
import uuid as _uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gcs_emulator import GcsEmulator
from servicekit import Proc, Rabbit, Service, env_for, service, start_cli, wait_until

pytest_plugins = ["gcs_emulator", "servicekit"]


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    from forv_tts.service.embedded import EmbeddedServer

    with EmbeddedServer() as server:
        yield server.url


@pytest.fixture(scope="module")
def bucket(gcs_server: GcsEmulator) -> str:
    return gcs_server.new_bucket()


@pytest.fixture(scope="module")
def worker(
    tmp_path_factory: pytest.TempPathFactory,
    rabbitmq: Rabbit,
    backend: str,
    voice_dir: Path,
    gcs_server: GcsEmulator,
    bucket: str,
) -> Iterator[Proc]:
    tmp = tmp_path_factory.mktemp("rabbit-worker")
    env = env_for({"STORAGE_EMULATOR_HOST": gcs_server.url, "FORV_TTS_TEST_SENTENCE_DELAY": "0.2"})
    args = ["worker", "--broker", rabbitmq.url, "--result-backend", backend, "--members", "all"]
    args += ["--concurrency", "1", "--voice-dir", str(voice_dir), "--bucket", bucket, "--out-dir", str(tmp)]
    proc = start_cli(args, tmp, env, "worker.log")
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, rabbitmq: Rabbit, backend: str, voice_dir: Path, worker: Proc
) -> Iterator[Service]:
    args = [
        "--broker",
        rabbitmq.url,
        "--result-backend",
        backend,
        "--workers",
        "0",
        "--voice-dir",
        str(voice_dir),
    ]
    with service(tmp_path_factory.mktemp("rabbit-api"), args) as s:
        yield s


def test_old_app_sends_gan_wav_with_a_plain_celery_client(
    api: Service, rabbitmq: Rabbit, backend: str, gcs_server: GcsEmulator, bucket: str
) -> None:
    from celery import Celery

    old_app = Celery("tasks", broker=rabbitmq.url, backend=backend)

    @old_app.task(name="gan_wav")
    def gan_wav(uuid: str, member_id: int, text: str, created_at: str) -> bool:  # the old app's stub
        raise AssertionError("runs on the forv-tts worker, never here")

    job_id = str(_uuid.uuid4())
    result = gan_wav.delay(job_id, 1, "안녕하세요!", "2022-08-22")
    try:
        assert result.get(timeout=90) is True
    finally:
        del result  # its finaliser talks to the backend: run it while the backend is up
        gc.collect()
        old_app.close()
    name = f"wav_files/1/{job_id}_2022-08-22_voice.wav"
    assert name in gcs_server.objects(bucket)
    status = api.job(job_id)  # the API reads the same record
    assert status["state"] == "done" and status["gs_uri"] == f"gs://{bucket}/{name}"


def test_api_on_rabbitmq_ready_and_answering(api: Service, bucket: str) -> None:
    with httpx.Client(base_url=api.url, timeout=90) as c:
        assert c.get("/readyz").json()["ready"]
        job_id = str(_uuid.uuid4())
        r = c.post(
            "/api/texts",
            json={"uuid": job_id, "member_id": 2, "text": "래빗엠큐로 갑니다.", "created_at": "2022-08-22"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["gs_uri"] == f"gs://{bucket}/wav_files/2/{job_id}_2022-08-22_voice.wav"
        assert 'forv_tts_queue_depth{queue="tts.member.2"}' in c.get("/metrics").text


def test_broker_restarted_mid_run_jobs_resume(
    api: Service, rabbitmq: Rabbit, gcs_server: GcsEmulator, bucket: str
) -> None:
    text = "브로커가 다시 시작됩니다. 일은 계속됩니다. 세 번째 문장입니다."
    with httpx.Client(base_url=api.url, timeout=90) as c:
        ids = [
            c.post("/v1/jobs", json={"text": text, "member_id": "builtin"}).json()["uuid"] for _ in range(4)
        ]
        assert wait_until(lambda: api.job(ids[0])["state"] == "running", 30)
        rabbitmq.stop()
        late: dict[str, Any] = {}

        def submit_during_outage() -> None:
            late["response"] = httpx.post(
                f"{api.url}/v1/jobs",
                json={"text": "재시작 중에 보낸 요청", "member_id": "builtin"},
                timeout=90,
            )

        sender = threading.Thread(target=submit_during_outage)
        sender.start()
        rabbitmq.start()
        sender.join(timeout=90)
        assert late["response"].status_code == 202, late["response"].text
        ids.append(late["response"].json()["uuid"])
        finals = [c.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json() for job_id in ids]
        for _ in range(2):  # a job can need one more long-poll window after the worker reconnects
            finals = [
                f if f["state"] == "done" else c.get(f"/v1/jobs/{f['uuid']}", params={"wait": 60}).json()
                for f in finals
            ]
    assert [f["state"] for f in finals] == ["done"] * len(ids), finals
    objects = gcs_server.objects(bucket)
    for job_id in ids:
        assert len([k for k in objects if job_id in k]) == 1
