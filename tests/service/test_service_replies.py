"""The old app's own files against `forv-tts worker` on RabbitMQ: results where the caller looks.

`seed_app/` holds the team's old Flask + Celery server as published (a byte-for-byte copy of the shared
`seed-app`, so a clean clone runs this; $FORV_TTS_SEED_APP points at another copy). Its
`app.py` and `celery_app.py` run here as they are, but for the broker host (`rabbit` → this test's private
node, same user, password and vhost) and the one local its README names (`gan_wav = gan_wav.delay(...)`
makes `gan_wav` local to the view and raises UnboundLocalError: renamed). A client needs only the task's
name and signature from `voice.py` (its body runs in the worker): the client's `voice.py` is built from
those two lines of the original. The Flask app runs as a real process, waits on `rpc://` and answers
`POST /api/texts` only when `.ready()` is true.
"""

from __future__ import annotations

import ast
import difflib
import gc
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid as _uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gcs_emulator import GcsEmulator, free_port
from servicekit import Proc, Rabbit, env_for, pool_pids, rabbit_node, start_cli, wait_until

pytest_plugins = ["gcs_emulator", "servicekit"]

SEED_ENV = "FORV_TTS_SEED_APP"
SEED_DEFAULT = Path(__file__).resolve().parent / "seed_app"
OLD_BROKER = "amqp://tts:tts123@rabbit/tts_host"


def seed_dir() -> Path:
    path = Path(os.environ.get(SEED_ENV) or SEED_DEFAULT)
    if not (path / "app.py").is_file():
        pytest.skip(f"the old app's files are not at {path} (set ${SEED_ENV})")
    return path


def old_app_files(dest: Path, broker_url: str) -> dict[str, str]:
    """The old app's client files in `dest`, changed only where the README says; returns the diffs."""
    seed = seed_dir()
    dest.mkdir(parents=True, exist_ok=True)
    celery_src = (seed / "celery_app.py").read_text()
    assert celery_src.count(OLD_BROKER) == 1
    (dest / "celery_app.py").write_text(celery_src.replace(OLD_BROKER, broker_url))
    app_src = (seed / "app.py").read_text()
    renamed = re.sub(r"\bgan_wav = gan_wav\.delay\(", "result = gan_wav.delay(", app_src)
    renamed = re.sub(r"\bgan_wav\.ready\(\)", "result.ready()", renamed)
    (dest / "app.py").write_text(renamed)
    # voice.py: the task's decorator and signature lines exactly as the original has them.
    voice_src = (seed / "voice.py").read_text()
    lines = voice_src.splitlines()
    fn = next(n for n in ast.parse(voice_src).body if isinstance(n, ast.FunctionDef) and n.name == "gan_wav")
    head = lines[fn.decorator_list[0].lineno - 1 : fn.lineno]
    (dest / "voice.py").write_text(
        "from celery_app import app\n"
        + "\n".join(head)
        + "\n    raise RuntimeError('runs in the forv-tts worker')\n"
    )
    diffs = {}
    for name, old, new in (("celery_app.py", celery_src, None), ("app.py", app_src, renamed)):
        new = new if new is not None else (dest / name).read_text()
        diffs[name] = [
            line
            for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
    return diffs


@pytest.fixture(scope="module")
def old_rabbit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rabbit]:
    """A RabbitMQ node with the old app's user, password and vhost."""
    with rabbit_node(tmp_path_factory, "old", user="tts", password="tts123", vhost="tts_host") as rabbit:
        yield rabbit


@pytest.fixture(scope="module")
def bucket(gcs_server: GcsEmulator) -> str:
    return gcs_server.new_bucket()


def start_worker(
    tmp: Path, rabbit: Rabbit, voice_dir: Path, gcs: GcsEmulator, bucket: str, *more: str, delay: str = "0"
) -> Proc:
    tmp.mkdir(parents=True, exist_ok=True)
    env = env_for({"STORAGE_EMULATOR_HOST": gcs.url, "FORV_TTS_TEST_SENTENCE_DELAY": delay})
    args = ["worker", "--broker", rabbit.url, "--members", "all", "--concurrency", "1"]
    args += ["--voice-dir", str(voice_dir), "--bucket", bucket, "--out-dir", str(tmp), *more]
    proc = start_cli(args, tmp, env, "worker.log")
    if not wait_until(lambda: "ready." in proc.tail(100_000) or proc.process.poll() is not None, 90, 0.2):
        proc.stop()
        pytest.fail(f"worker did not start:\n{proc.tail()}")
    assert proc.process.poll() is None, proc.tail()
    return proc


@pytest.fixture(scope="module")
def flask_app(tmp_path_factory: pytest.TempPathFactory, old_rabbit: Rabbit) -> Iterator[str]:
    """The old Flask app, a real process on a free port."""
    where = tmp_path_factory.mktemp("old-app")
    diffs = old_app_files(where, old_rabbit.url)
    # Exactly the two changes the README names, nothing else.
    assert diffs["celery_app.py"] == [
        f"-             broker='{OLD_BROKER}',",
        f"+             broker='{old_rabbit.url}',",
    ]
    assert len(diffs["app.py"]) == 4 and all("gan_wav" in d or "result" in d for d in diffs["app.py"])
    port = free_port()
    log = where / "flask.log"

    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "app",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            cwd=where,
            env=env_for(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    proc = Proc(process, log)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(url + "/", timeout=2).json() == {"result": "hello world!"}
        except httpx.HTTPError:
            return process.poll() is not None

    try:
        assert wait_until(up, 60, 0.2) and process.poll() is None, proc.tail()
        yield url
    finally:
        proc.stop()


def post_old(url: str, member: int, text: str, job_id: str | None = None) -> httpx.Response:
    body = {
        "uuid": job_id or str(_uuid.uuid4()),
        "member_id": member,
        "text": text,
        "created_at": "2022-08-22",
    }
    return httpx.post(url + "/api/texts", json=body, timeout=120)


def test_old_app_answers_with_rabbitmq_as_the_only_service(
    tmp_path: Path,
    flask_app: str,
    old_rabbit: Rabbit,
    voice_dir: Path,
    gcs_server: GcsEmulator,
    bucket: str,
) -> None:
    worker = start_worker(tmp_path / "w", old_rabbit, voice_dir, gcs_server, bucket)
    try:
        job_id = str(_uuid.uuid4())
        r = post_old(flask_app, 1, "안녕하세요!", job_id)
        assert r.status_code == 200, r.text
        assert r.json() == {"uuid": job_id, "member_id": 1, "created_at": "2022-08-22"}
        name = f"wav_files/1/{job_id}_2022-08-22_voice.wav"
        objects = gcs_server.objects(bucket)
        assert objects[name][:4] == b"RIFF"
        assert (tmp_path / "w" / name).read_bytes() == objects[name]
        # The one line at start-up says what needs a Redis-compatible store.
        notes = [line for line in worker.tail(100_000).splitlines() if "no --result-backend" in line]
        assert len(notes) == 1 and "/v1 job records, streaming" in notes[0]
    finally:
        worker.stop()
    assert "Traceback" not in worker.tail(100_000)


def _generation(gcs: GcsEmulator, bucket: str, name: str) -> Any:
    blob = gcs.client().bucket(bucket).get_blob(name)
    return None if blob is None else blob.generation


def test_worker_killed_mid_job_without_a_job_record_loses_nothing_and_uploads_once(
    tmp_path: Path,
    flask_app: str,
    old_rabbit: Rabbit,
    voice_dir: Path,
    gcs_server: GcsEmulator,
    bucket: str,
) -> None:
    worker = start_worker(tmp_path / "w", old_rabbit, voice_dir, gcs_server, bucket, delay="1.0")
    job_id = str(_uuid.uuid4())
    name = f"wav_files/2/{job_id}_2022-08-22_voice.wav"
    answer: dict[str, httpx.Response] = {}
    text = "일꾼이 중간에 죽습니다. 일은 사라지지 않습니다. 세 번째 문장입니다."
    sender = threading.Thread(target=lambda: answer.setdefault("r", post_old(flask_app, 2, text, job_id)))
    try:
        sender.start()
        # (the Celery task id is the old app's own, not the uuid: this worker gets this one task)
        assert wait_until(lambda: "Task gan_wav[" in worker.tail(100_000), 60), worker.tail()
        children = pool_pids(worker.pid)
        assert len(children) == 1
        wait_until(lambda: False, 1.5)  # inside the first sentences (1 s apart)
        assert _generation(gcs_server, bucket, name) is None  # killed before anything was stored
        os.kill(children[0], signal.SIGKILL)
        sender.join(timeout=120)
        assert answer["r"].status_code == 200, answer["r"].text
        received = re.findall(r"Task gan_wav\[([0-9a-f-]+)\] received", worker.tail(100_000))
        assert len(received) == 2 and received[0] == received[1]  # the same message, redelivered once
        first = _generation(gcs_server, bucket, name)
        assert first is not None
        local = (tmp_path / "w" / name).read_bytes()
        assert gcs_server.objects(bucket)[name] == local

        # The same message again (as a redelivery after a lost ack): the same bytes, no second upload.
        (tmp_path / "w" / name).unlink()
        from celery import Celery

        client = Celery("celery", broker=old_rabbit.url, backend="rpc://")
        try:
            again = client.send_task("gan_wav", args=[job_id, 2, text, "2022-08-22"])
            assert again.get(timeout=90) is True
        finally:
            client.close()
        assert (tmp_path / "w" / name).read_bytes() == local
        assert _generation(gcs_server, bucket, name) == first
    finally:
        sender.join(timeout=5)
        worker.stop()


def test_old_app_over_rpc_and_a_redis_client_against_a_worker_with_a_result_backend(
    tmp_path: Path,
    flask_app: str,
    old_rabbit: Rabbit,
    voice_dir: Path,
    gcs_server: GcsEmulator,
    bucket: str,
) -> None:
    from forv_tts.service.embedded import EmbeddedServer

    with EmbeddedServer() as backend:
        worker = start_worker(
            tmp_path / "w", old_rabbit, voice_dir, gcs_server, bucket, "--result-backend", backend.url
        )
        try:
            job_id = str(_uuid.uuid4())
            r = post_old(flask_app, 1, "레디스도 있습니다.", job_id)
            assert r.status_code == 200, r.text
            assert f"wav_files/1/{job_id}_2022-08-22_voice.wav" in gcs_server.objects(bucket)
            from forv_tts.service.store import SyncStore

            assert SyncStore(backend.url).get(job_id)["state"] == "done"  # the /v1 record, as before
            from celery import Celery

            client = Celery("tasks", broker=old_rabbit.url, backend=backend.url)
            other = str(_uuid.uuid4())
            result = client.send_task("gan_wav", args=[other, 2, "두 번째 손님", "2022-08-22"])
            try:
                assert result.get(timeout=90) is True
            finally:
                del result  # its finaliser talks to the backend: run it while the backend is up
                gc.collect()
                client.close()
            assert "no --result-backend" not in worker.tail(100_000)
        finally:
            worker.stop()
    shutil.rmtree(tmp_path / "w", ignore_errors=True)
